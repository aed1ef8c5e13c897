"""The intervals in summary.md: which differences hold up, per-bin values with intervals and
the stability claims with theirs (markdown only; the numbers come from :mod:`._differences`)."""

import numpy as np

from ._differences import CHURN
from ._vocabulary import MAIN_METRICS, present_in, source_label

__all__ = ["BIN_METRICS", "HOLDS", "bin_table_markdown", "bins_markdown",
           "difference_sentences", "differences_markdown", "fmt_interval", "holding_marks",
           "holding_marks_by_bin", "stability_markdown"]

#: the metrics of the per-bin tables
BIN_METRICS = ("gold_ece", "gold_debiased_ece", "human_kl", "gold_accuracy", "gold_nll")
#: the marker of a difference whose interval excludes 0
HOLDS = "*"


def fmt_interval(value, low, high, digits=4):
    """``"v [low, high]"`` (``"n/a"`` for a NaN value; no interval when it is NaN)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if not (np.isfinite(low) and np.isfinite(high)):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _label(source):
    return source_label(source)


def _combos(df, extra):
    """(title, sub-frame) for every combination of the extra keys (one untitled without)."""
    if not extra:
        return [("", df)]
    out = []
    for combo, sub in df.groupby(extra, sort=False, dropna=False):
        combo = combo if isinstance(combo, tuple) else (combo,)
        out.append((", ".join(f"{k} = {v}" for k, v in zip(extra, combo)), sub))
    return out


def holding_marks(intervals, reference="gold", bin_="all", extra_values=()):
    """{(source, metric): "*"} for the differences against ``reference`` (in difficulty bin
    ``bin_``) whose interval excludes 0, in the combination ``extra_values`` of the extra key
    columns (none when the results have extra keys and ``extra_values`` does not name them:
    a table over all combinations cannot be marked)."""
    if intervals is None:
        return {}
    extra = intervals["extra_keys"]
    if len(extra_values) != len(extra):
        return {}
    d = intervals["differences"]
    for k, v in zip(extra, extra_values):
        d = d[d[k] == v]
    d = d[(d["reference"] == reference) & (d["bin"].astype(str) == str(bin_)) & d["holds"]]
    return {(r["source"], r["metric"]): HOLDS for _, r in d.iterrows()}


#: why an ECE interval can lie beside its value
_ECE_BIAS = ("Binned ECE is biased upward (the noise of each bin's accuracy adds to its gap) "
             "and a resample adds more noise, so the interval of an ECE, or of a difference "
             "of ECEs, can lie beside the value instead of around it -- most for small, "
             "well-calibrated ECEs on few items. The debiased L2 error removes most of this "
             "bias (each bin's squared gap less the variance of its mean accuracy), but its "
             "clipping at 0 and square root leave some near 0, where its interval can still "
             "sit to one side.")


def _method(intervals):
    conf = f"{100 * intervals['confidence']:g}%"
    return (
        f"Difference = source − reference of the study's estimate (mean over seeds of the mean "
        f"over folds), with a {conf} percentile interval from a hierarchical paired bootstrap "
        f"({intervals['n_bootstrap']} replicates): each replicate resamples the seeds "
        "(multinomial) and the evaluation items (Poisson weights, the same for every fold, seed "
        "and source, since every seed evaluates every item once), recomputes every metric of "
        "every fit from its per-item predictions and averages as the estimate does; both "
        "sources of a pair get the same resample. "
        f"`{HOLDS}`: the interval excludes 0 (the difference holds up). No cell is marked for "
        "being the best mean. " + _ECE_BIAS)


def differences_markdown(intervals, order, metrics=MAIN_METRICS, heading="##"):
    """The "Which differences hold up" section (a markdown ``heading`` of that level): per
    reference, a source x metric table of differences with intervals, and the sentences of
    :func:`difference_sentences`."""
    d = intervals["differences"]
    parts = [f"{heading} Which differences hold up", "", _method(intervals), ""]
    if d.empty:
        return "\n".join(parts + ["No pair of sources to compare.", ""])
    d = d[d["bin"].astype(str) == "all"]
    for title, sub in _combos(d, intervals["extra_keys"]):
        if title:
            parts += [f"{heading}# {title}", ""]
        for ref in [r for r in ("gold", "human") if r in set(sub["reference"])]:
            s = sub[sub["reference"] == ref]
            present = present_in(metrics, s["metric"])
            parts += [f"**Against {_label(ref)}** (difference [low, high])", "",
                      "| source | " + " | ".join(present) + " |",
                      "|---|" + "---|" * len(present)]
            by = s.set_index(["source", "metric"])
            for source in present_in(order, s["source"]):
                cells = []
                for m in present:
                    r = by.loc[(source, m)]
                    txt = fmt_interval(r["difference"], r["low"], r["high"])
                    cells.append(txt + (f" {HOLDS}" if r["holds"] else ""))
                parts.append(f"| {_label(source)} | " + " | ".join(cells) + " |")
            parts += ["", *difference_sentences(s, ref, order, metrics), ""]
    return "\n".join(parts)


def difference_sentences(diffs, reference, order, metrics=MAIN_METRICS):
    """Plain sentences from the differences of the sources against ``reference`` (rows of
    differences.csv of one bin and combination), one per source.

    E.g. "human soft vs gold (one-hot): lowers `gold_nll` by 0.0110 [0.0060, 0.0160] (better);
    the differences in `gold_ece` (-0.0010 [-0.0040, 0.0020]) are not distinguishable from 0."
    """
    out = []
    d = diffs[diffs["reference"] == reference]
    for source in present_in(order, d["source"]):
        s = d[d["source"] == source].set_index("metric")
        held, unclear = [], []
        for m in [m for m in metrics if m in s.index]:
            r = s.loc[m]
            if not np.isfinite(r["difference"]):
                continue
            if r["holds"]:
                verb = "raises" if r["difference"] > 0 else "lowers"
                lo, hi = sorted((abs(r["low"]), abs(r["high"])))
                held.append(f"{verb} `{m}` by {abs(r['difference']):.4f} [{lo:.4f}, {hi:.4f}] "
                            f"({r['better']})")
            else:
                unclear.append(f"`{m}` ({fmt_interval(r['difference'], r['low'], r['high'])})")
        text = f"- **{_label(source)}** vs {_label(reference)}: "
        if held:
            text += ", ".join(held)
        if unclear:
            text += ("; the differences in " if held else "the differences in ") + \
                ", ".join(unclear) + " are not distinguishable from 0"
        out.append(text + ".")
    return out


def bin_table_markdown(intervals, metric, order, extra_values=()):
    """A per-bin table (source x difficulty bin) of ``metric``: value [low, high], with
    :data:`HOLDS` where the bin's difference against gold holds. ``extra_values``: the
    values of the extra keys of the combination to show."""
    lv = intervals["levels"]
    extra = intervals["extra_keys"]
    for k, v in zip(extra, extra_values):
        lv = lv[lv[k] == v]
    lv = lv[(lv["metric"] == metric) & (lv["bin"].astype(str) != "all")]
    lv = lv[np.isfinite(lv["value"].astype(float))]
    if lv.empty:
        return ""
    marks = holding_marks_by_bin(intervals, metric, extra_values)
    bins = sorted({int(b) for b in lv["bin"]})
    lines = ["| source | " + " | ".join(f"bin {b}" for b in bins) + " |",
             "|---|" + "---|" * len(bins)]
    by = {(r["source"], int(r["bin"])): r for _, r in lv.iterrows()}
    for source in present_in(order, lv["source"]):
        cells = []
        for b in bins:
            r = by.get((source, b))
            txt = "n/a" if r is None else fmt_interval(r["value"], r["low"], r["high"])
            cells.append(txt + (f" {HOLDS}" if marks.get((source, b)) else ""))
        lines.append(f"| {_label(source)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def holding_marks_by_bin(intervals, metric, extra_values=()):
    """{(source, bin): True} where the difference against gold in that bin holds."""
    d = intervals["differences"]
    for k, v in zip(intervals["extra_keys"], extra_values):
        d = d[d[k] == v]
    d = d[(d["reference"] == "gold") & (d["metric"] == metric) & d["holds"]
          & (d["bin"].astype(str) != "all")]
    return {(r["source"], int(r["bin"])): True for _, r in d.iterrows()}


def bins_markdown(intervals, order, metrics=BIN_METRICS):
    """The per-bin section: one table per metric (and combination of extra keys)."""
    parts = [f"Values with {100 * intervals['confidence']:g}% intervals (the same bootstrap); "
             f"`{HOLDS}`: the difference against gold in that bin holds. " + _ECE_BIAS, ""]
    lv = intervals["levels"]
    for title, sub in _combos(lv, intervals["extra_keys"]):
        values = tuple(sub.iloc[0][k] for k in intervals["extra_keys"]) if len(sub) else ()
        if title:
            parts += [f"### {title}", ""]
        for metric in metrics:
            table = bin_table_markdown(intervals, metric, order, values)
            if table:
                parts += [f"**{metric}**", "", table, ""]
    return "\n".join(parts)


def stability_markdown(intervals, order):
    """Intervals of the stability claims: prediction churn (bootstrap) and the std across
    seeds of the main metrics (chi-square; ratio to gold by the F interval)."""
    conf = f"{100 * intervals['confidence']:g}%"
    parts = [
        f"Intervals ({conf}). `prediction_churn`: the same hierarchical paired bootstrap "
        "(items, and pairs of distinct seeds weighted by their counts); `vs gold`: the "
        f"difference to gold's churn (`{HOLDS}`: it holds). `std_*`: the std across seeds of "
        "the metric with the chi-square interval of a normal sample (S - 1 degrees of freedom: "
        "wide with few seeds); `/ gold`: its ratio to gold's std with the F interval of a "
        f"variance ratio (`{HOLDS}`: the interval excludes 1), which treats the sources' seeds "
        "as independent although they share their splits -- an approximation. Not a "
        "bootstrap over seeds, which is degenerate with 2-5 seeds.", ""]
    extra = intervals["extra_keys"]
    lv = intervals["levels"]
    lv = lv[lv["metric"] == CHURN]
    d = intervals["differences"]
    d = d[(d["metric"] == CHURN) & (d["reference"] == "gold")]
    std = intervals["std"]
    for title, sub in _combos(lv, extra):
        if title:
            parts += [f"### {title}", ""]
        values = tuple(sub.iloc[0][k] for k in extra)
        dd, st = d, std
        for k, v in zip(extra, values):
            dd, st = dd[dd[k] == v], st[st[k] == v]
        ch, dd = sub.set_index("source"), dd.set_index("source")
        metrics = list(dict.fromkeys(st["metric"]))
        head = [CHURN, "vs gold"] + [x for m in metrics for x in (f"std_{m}", "/ gold")]
        lines = ["| source | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
        for source in [s for s in order if s in set(ch.index) | set(st["source"])]:
            cells = []
            r = ch.loc[source] if source in ch.index else None
            cells.append("n/a" if r is None else fmt_interval(r["value"], r["low"], r["high"]))
            r = dd.loc[source] if source in dd.index else None
            cells.append("" if r is None else fmt_interval(r["difference"], r["low"], r["high"])
                         + (f" {HOLDS}" if r["holds"] else ""))
            for m in metrics:
                q = st[(st["source"] == source) & (st["metric"] == m)]
                if q.empty:
                    cells += ["n/a", ""]
                    continue
                q = q.iloc[0]
                cells.append(fmt_interval(q["std"], q["low"], q["high"]))
                cells.append("" if not np.isfinite(q["ratio"]) else
                             fmt_interval(q["ratio"], q["ratio_low"], q["ratio_high"], 2)
                             + (f" {HOLDS}" if q["holds"] else ""))
            lines.append(f"| {_label(source)} | " + " | ".join(cells) + " |")
        parts += ["\n".join(lines), ""]
    return "\n".join(parts)
