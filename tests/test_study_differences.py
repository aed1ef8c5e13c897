"""The study's intervals: paired differences by a hierarchical paired bootstrap (issue 15)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sksoft.cli import main
from sksoft.datasets import make_ambiguous_digits
from sksoft.linear_model import SoftLogisticRegression
from sksoft.metrics import calibration_report, spearman_correlation
from sksoft.metrics._bootstrap import bootstrap_weights
from sksoft.study import run
from sksoft.study._differences import (
    CHURN,
    DIFFERENCE_COLUMNS,
    STUDY_METRICS,
    copy_rank_correlation,
    fit_keys,
    fit_replicates,
    paired_differences,
    seed_std_intervals,
)
from sksoft.study._evaluate import evaluate
from sksoft.study._report import prediction_churn


def _expanded_spearman(x, y, w):
    w = np.asarray(w, dtype=int)
    if w.sum() < 2:
        return np.nan
    xe, ye = np.repeat(x, w), np.repeat(y, w)
    if np.ptp(xe) == 0 or np.ptp(ye) == 0:
        return np.nan
    return stats.spearmanr(xe, ye).statistic


def test_copy_rank_correlation_is_spearman_of_the_copies():
    rng = np.random.default_rng(0)
    n = 60
    x = rng.integers(0, 8, n) / 7.0  # many ties
    y = rng.normal(size=n)
    y[:10] = y[10]  # ties on the other side too
    W = rng.poisson(1.0, size=(25, n))
    got = copy_rank_correlation(x, y, W)
    want = [_expanded_spearman(x, y, w) for w in W]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # unit weights: sksoft's tie-aware Spearman correlation
    assert copy_rank_correlation(x, y, np.ones((1, n)))[0] == pytest.approx(
        spearman_correlation(x, y), abs=1e-13)
    # fewer than two copies, or a constant side: NaN
    W0 = np.zeros((2, n))
    W0[1, 3] = 5
    assert np.isnan(copy_rank_correlation(x, y, W0)).all()
    assert np.isnan(copy_rank_correlation(np.ones(n), y, np.ones((1, n))))[0]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 40), st.integers(0, 2**31 - 1), st.booleans())
def test_copy_rank_correlation_hypothesis(n, seed, ties):
    rng = np.random.default_rng(seed)
    base = rng.integers(1, 5, n).astype(float) if ties else rng.normal(size=n)
    # values equal up to rounding are ties, as in sksoft's rank correlations
    x = base * (1 + 1e-15 * rng.integers(0, 2, n))
    y = rng.normal(size=n)
    W = rng.poisson(1.0, size=(5, n))
    got = copy_rank_correlation(x, y, W)
    want = [_expanded_spearman(base, y, w) for w in W]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


@pytest.fixture(scope="module")
def digits_fit():
    d = make_ambiguous_digits(random_state=0)
    rng = np.random.default_rng(0)
    n = len(d.X)
    test = np.sort(rng.choice(n, 400, replace=False))
    train = np.setdiff1d(np.arange(n), test)
    P = SoftLogisticRegression(C=0.1).fit(d.X[train], d.y_gold[train]).predict_proba(d.X[test])
    return d, test, P


def test_fit_replicates_are_the_metrics_of_the_reweighted_items(digits_fit):
    d, test, P = digits_fit
    B = 6
    W = bootstrap_weights(len(d.X), B, random_state=3)
    point, reps = fit_replicates(P, test, d.y_gold, d.soft_labels, np.ascontiguousarray(W.T),
                                 n_difficulty_bins=3, n_bins=15)
    assert point.shape == (len(STUDY_METRICS), 4) and reps.shape == (len(STUDY_METRICS), B, 4)
    # the point estimates are the study's per-fit values (sksoft.study._evaluate.evaluate)
    bins = ["all", 0, 1, 2]
    for b, metric, value in evaluate(P, d.y_gold[test], d.soft_labels[test], 3, 15):
        if metric not in STUDY_METRICS:  # (EXTENDED_METRICS: per fit only, no replicates)
            continue
        assert point[STUDY_METRICS.index(metric), bins.index(b)] == pytest.approx(
            value, rel=1e-12, abs=1e-13, nan_ok=True), (b, metric)
    # replicate b: the calibration report of the items reweighted by W[b] (an independent
    # road: the metric functions with sample_weight), per difficulty bin
    from sksoft._label_source import human_mode
    from sksoft.metrics import difficulty_bins, difficulty_scores

    ht = difficulty_scores(d.soft_labels[test])
    ids = difficulty_bins(ht, n_bins=3)[0]
    hp = -(P * np.log(P)).sum(1)
    agree = P.argmax(1) == human_mode(d.soft_labels[test], d.y_gold[test])
    for r in range(B):
        w = W[r, test].astype(float)
        rep = {"gold": calibration_report(d.y_gold[test], P, groups=ids, sample_weight=w),
               "human": calibration_report(d.soft_labels[test], P, groups=ids,
                                           sample_weight=w)}
        # a bootstrap weight counts a row that many times: the debiased error (whose variance
        # term reads the weights as precision weights) is that of the expanded rows
        reps_w = W[r, test]
        expanded = calibration_report(np.repeat(d.y_gold[test], reps_w),
                                      np.repeat(P, reps_w, axis=0),
                                      groups=np.repeat(ids, reps_w))
        from sksoft.study import METRICS

        for k, metric in enumerate(STUDY_METRICS):
            ref, key = METRICS[metric]
            for j, b in enumerate(bins):
                sel = np.ones(len(test), bool) if b == "all" else ids == b
                if ref == "plurality":
                    want = np.average(agree[sel], weights=w[sel])
                elif key == "rmsce_debiased":
                    want = (expanded.overall if b == "all" else expanded.groups[b])[key]
                elif key == "entropy_correlation":
                    # (entropies of permuted vote distributions differ in their last bits:
                    # sksoft ranks them as ties, so the reference rounds them)
                    want = _expanded_spearman(np.round(ht[sel], 10), np.round(hp[sel], 10),
                                              w[sel])
                else:
                    r_ = rep[ref]
                    want = (r_.overall if b == "all" else r_.groups[b])[key]
                assert reps[k, r, j] == pytest.approx(want, rel=1e-9, abs=1e-10, nan_ok=True), \
                    (metric, b, r)


@pytest.fixture(scope="module")
def small_study(tmp_path_factory):
    """A real study on 300 digits: 3 seeds x 2 folds, logistic regression, one regime."""
    d = make_ambiguous_digits(random_state=1)
    arrays = {"X": d.X[:300], "y_gold": d.y_gold[:300], "soft_labels": d.soft_labels[:300]}
    out = tmp_path_factory.mktemp("study")
    res = run(data=arrays, model="logreg", sources=("gold", "human", "smoothing"), seeds=3,
              folds=2, n_bootstrap=200, out=str(out), progress=False, figures=False,
              regimes=("regularised",))
    return res


def _diff(fits, data, **kw):
    kw = {"n_bootstrap": 300, "random_state": 0, "n_difficulty_bins": 3, **kw}
    return paired_differences(fits, data["y_gold"], data["human"], **kw)


def _renamed(fits, source, new):
    return [{**f, "keys": {**f["keys"], "source": new}} for f in fits
            if f["keys"]["source"] == source]


def test_identical_copy_differs_by_exactly_zero(small_study):
    fits = small_study.fits + _renamed(small_study.fits, "gold", "gold_copy")
    out = _diff(fits, small_study._data)
    d = out["differences"]
    copy = d[(d["source"] == "gold_copy") & (d["reference"] == "gold")]
    assert set(copy["metric"]) == set(STUDY_METRICS) | {CHURN}
    assert len(copy) == len(STUDY_METRICS) * 4 + 1
    ok = copy[copy["difference"].notna()]
    assert len(ok) >= len(copy) - 4  # (only the entropy correlation of a bin may be undefined)
    assert (ok["difference"] == 0).all() and (ok["low"] == 0).all() and (ok["high"] == 0).all()
    assert not copy["holds"].any()
    # and against human, the copy's difference is gold's, replicate by replicate
    h = d[d["reference"] == "human"].set_index(["source", "metric", "bin"])
    a, b = h.loc["gold_copy"], h.loc["gold"]
    pd.testing.assert_frame_equal(a[["difference", "low", "high"]], b[["difference", "low",
                                                                       "high"]])


def test_same_targets_other_seeds_contain_zero(small_study):
    """Source "gold_b" is gold trained on other seeds' splits: gold's out-of-fold predictions
    of seed r + 1 stand in for its seed r (same targets, no true difference)."""
    res = small_study
    gold = [f for f in res.fits if f["keys"]["source"] == "gold"]
    S = res.config.seeds
    fits = list(gold)
    for f in gold:
        seed = f["keys"]["seed"]
        other = res.oof[(f["keys"]["regime"], "gold", (seed + 1) % S)][f["test"]]
        fits.append({"keys": {**f["keys"], "source": "gold_b"}, "test": f["test"],
                     "proba": other.astype(np.float64) / other.sum(1, keepdims=True)})
    d = _diff(fits, res._data, n_bootstrap=500)["differences"]
    d = d[(d["bin"] == "all") & (d["source"] == "gold_b")]
    assert len(d) == len(STUDY_METRICS) + 1
    assert (d["difference"] != 0).any()  # a real comparison, not an identical copy
    inside = (d["low"] <= 0) & (d["high"] >= 0)
    assert inside.all(), d[~inside]


def test_differences_are_reproducible_and_seeded(small_study):
    a = _diff(small_study.fits, small_study._data)["differences"]
    b = _diff(small_study.fits, small_study._data)["differences"]
    pd.testing.assert_frame_equal(a, b)
    c = _diff(small_study.fits, small_study._data, random_state=1)["differences"]
    assert not np.allclose(a["low"], c["low"], equal_nan=True)
    np.testing.assert_array_equal(a["difference"], c["difference"])  # the point is not random
    # the fits may come in any order (the runner collects them as they finish)
    d = _diff(small_study.fits[::-1], small_study._data)["differences"]
    key = ["regime", "reference", "source", "metric", "bin"]
    pd.testing.assert_frame_equal(
        a.astype({"bin": str}).sort_values(key).reset_index(drop=True),
        d.astype({"bin": str}).sort_values(key).reset_index(drop=True))


def test_point_differences_are_those_of_the_summary_table(small_study):
    res = small_study
    d = res.summary["intervals"]["differences"]
    d = d[(d["bin"] == "all") & (d["reference"] == "gold")].set_index(["source", "metric"])
    mean = res.summary["mean"].loc["regularised"]
    for source in ("human", "smoothing"):
        for metric in STUDY_METRICS:
            want = mean.loc[source, metric] - mean.loc["gold", metric]
            assert d.loc[(source, metric), "difference"] == pytest.approx(want, abs=1e-12)
    churn = prediction_churn(res.regime_view("regularised"))
    lv = res.summary["intervals"]["levels"]
    lv = lv[lv["metric"] == CHURN].set_index("source")
    for source, value in churn.items():
        assert lv.loc[source, "value"] == pytest.approx(value, abs=1e-15)
        assert lv.loc[source, "low"] <= value <= lv.loc[source, "high"]


def test_grouped_by_extra_keys(small_study):
    """An extra key column (e.g. a training regime) splits the comparisons: each regime's
    differences are those computed from its fits alone."""
    res = small_study
    regimes = []
    for f in res.fits:
        regimes.append({**f, "keys": {**f["keys"], "regime": "a"}})
        P = f["proba"] ** 2
        regimes.append({**f, "keys": {**f["keys"], "regime": "b"},
                        "proba": P / P.sum(1, keepdims=True)})
    out = _diff(regimes, res._data)
    d = out["differences"]
    assert out["extra_keys"] == ["regime"]
    assert list(d.columns) == ["regime"] + DIFFERENCE_COLUMNS
    assert set(d["regime"]) == {"a", "b"}
    alone = _diff([{**f, "keys": {k: v for k, v in f["keys"].items() if k != "regime"}}
                   for f in regimes if f["keys"]["regime"] == "b"], res._data)["differences"]
    got = d[d["regime"] == "b"].drop(columns="regime").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, alone)
    assert {"regime"} <= set(out["levels"].columns)


def test_fit_keys_reads_extra_columns():
    rows = pd.DataFrame({"source": ["gold"] * 3, "seed": [1] * 3, "fold": [0] * 3,
                         "regime": ["es"] * 3, "epoch": [1, 2, 3], "bin": ["all", 0, 1],
                         "metric": ["a", "b", "c"], "value": [0.1, 0.2, 0.3]})
    assert fit_keys(rows) == {"source": "gold", "seed": 1, "fold": 0, "regime": "es"}
    with pytest.raises(ValueError, match="missing"):
        fit_keys(rows.drop(columns="fold"))


def test_seed_std_intervals():
    rng = np.random.default_rng(0)
    v = {"gold": np.array([0.1, 0.3, 0.2, 0.25]), "other": np.array([0.1, 0.1, 0.1, 0.1]),
         "wide": np.array([0.0, 1.0, 2.0, 3.0])}
    out = seed_std_intervals(v, 0.9, reference="gold")
    s = np.std(v["gold"], ddof=1)
    assert out["gold"]["std"] == pytest.approx(s)
    assert out["gold"]["low"] == pytest.approx(s * np.sqrt(3 / stats.chi2.ppf(0.95, 3)))
    assert out["gold"]["high"] == pytest.approx(s * np.sqrt(3 / stats.chi2.ppf(0.05, 3)))
    assert out["other"]["std"] == 0 and np.isnan(out["other"]["low"])
    assert np.isnan(out["other"]["ratio"]) and not out["other"]["holds"]
    w = out["wide"]
    ratio = np.std(v["wide"], ddof=1) / s
    assert w["ratio"] == pytest.approx(ratio)
    assert w["ratio_low"] == pytest.approx(ratio / np.sqrt(stats.f.ppf(0.95, 3, 3)))
    assert w["holds"] == (w["ratio_low"] > 1)
    # coverage of the chi-square interval for normal seeds (5 seeds, 2000 simulations)
    hits = 0
    for _ in range(2000):
        r = seed_std_intervals({"x": rng.normal(0, 2.0, 5)}, 0.95)["x"]
        hits += r["low"] <= 2.0 <= r["high"]
    assert 0.93 <= hits / 2000 <= 0.97
    assert np.isnan(seed_std_intervals({"x": np.array([1.0])})["x"]["std"])


def test_bad_interval_settings():
    with pytest.raises(ValueError, match="n_bootstrap"):
        run(n_bootstrap=-1, progress=False)
    with pytest.raises(ValueError, match="confidence"):
        run(confidence=1.5, progress=False)
    with pytest.raises((TypeError, ValueError), match="bootstrap_seed"):
        run(bootstrap_seed=0.5, progress=False)


def test_quick_cli_writes_differences(tmp_path, capsys):
    out = tmp_path / "q"
    code = main(["study", "--quick", "--model", "logreg", "--sources", "gold", "human",
                 "majority", "--n-bootstrap", "300", "--out", str(out), "--no-progress"])
    assert code == 0
    text = capsys.readouterr().out
    assert "### Which differences hold up" in text and "- **human soft** vs gold" in text
    d = pd.read_csv(out / "differences.csv")
    assert list(d.columns) == ["regime"] + DIFFERENCE_COLUMNS
    assert set(d["regime"]) == {"regularised", "overparameterised"}
    assert set(d["reference"]) == {"gold", "human"}
    assert set(d["metric"]) == set(STUDY_METRICS) | {CHURN}
    # (a percentile interval of a binned ECE, a biased statistic, may sit beside the point)
    smooth = d[~d["metric"].str.contains("ece")]
    assert ((smooth["low"] <= smooth["difference"] + 1e-12) | smooth["low"].isna()).all()
    assert ((smooth["high"] >= smooth["difference"] - 1e-12) | smooth["high"].isna()).all()
    assert ((d["low"] <= d["high"]) | d["low"].isna()).all()
    assert (d["holds"] == ((d["low"] > 0) | (d["high"] < 0))).all()
    for regime in ("regularised", "overparameterised"):
        for fig in ("differences.png", "reliability.png", "ece_by_difficulty.png"):
            assert (out / "figures" / regime / fig).stat().st_size > 1000, fig
    summary = (out / "summary.md").read_text()
    for block in summary.split("### Accuracy")[1:]:  # no bold "best" cell, only holding marks
        assert "**" not in block.split("### Which differences hold up")[0]
    assert summary.count("### Which differences hold up") == 2
    assert "chi-square" in summary and "F interval" in summary
    res = pd.read_csv(out / "results.csv")
    assert list(res.columns) == ["regime", "source", "seed", "fold", "bin", "metric", "value"]


def test_summary_sections_per_extra_key(small_study, tmp_path):
    """The markdown of the intervals renders one block per combination of extra keys."""
    from sksoft.study._differences_report import (
        bins_markdown,
        differences_markdown,
        holding_marks,
        stability_markdown,
    )

    res = small_study
    regimes = [{**f, "keys": {**f["keys"], "regime": r}} for f in res.fits for r in ("a", "b")]
    out = _diff(regimes, res._data)
    std = res.summary["intervals"]["std"]
    out["std"] = pd.concat([std.assign(regime=r) for r in ("a", "b")], ignore_index=True)
    order = res.config.sources
    text = differences_markdown(out, order)
    assert text.count("### regime = a") == 1 and text.count("### regime = b") == 1
    assert text.count("**Against gold (one-hot)**") == 2
    assert "### regime = a" in bins_markdown(out, order)
    assert stability_markdown(out, order).count("| human soft |") == 2
    # marks need the combination: a table over all regimes is not marked
    assert holding_marks(out) == {}
    marks = holding_marks(out, extra_values=("a",))
    d = out["differences"]
    held = d[(d["regime"] == "a") & (d["reference"] == "gold") & (d["bin"] == "all")
             & d["holds"]]
    assert marks == {(s, m): "*" for s, m in zip(held["source"], held["metric"])}
    # the figures take the extra keys too
    from sksoft.study._figures import difficulty_figure, differences_figure

    differences_figure(res, out, tmp_path / "d.png")
    difficulty_figure(res, {"intervals": out}, tmp_path / "b.png")
    assert (tmp_path / "d.png").stat().st_size > 1000 and (tmp_path / "b.png").stat().st_size
