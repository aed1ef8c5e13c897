"""Coverage of sksoft's nominal-95% intervals on simulated models whose truth is known.

Each setting simulates ``R`` independent data sets from one model family and counts how often
the interval of a quantity contains its population value; coverage is printed with its Monte
Carlo standard error ``sqrt(c (1 - c) / R)``.

The models (``K`` classes): item logits ``z ~ N(0, s^2 I)``, true class probabilities ``q =
softmax(z)``, hard targets ``y ~ Categorical(q)`` or soft targets ``Dirichlet(10 q)`` (mean
``q``). A model predicts ``p = softmax(beta z + b)``: ``calibrated`` (beta 1), ``over``
(over-confident, beta 2), ``under`` (under-confident, beta 0.5) and ``classdep``
(class-dependent miscalibration: a bias of +-0.8 on alternating classes). Paired differences
compare two models on the same items and targets.

Population values. Every quantity is an expectation over items of a function of ``(q, p)``
(accuracy and the calibration gaps are linear in the target, the NLL is ``-sum q log p``), so
its population value is computed from ``N_POP`` items with the target replaced by ``q`` itself
(no label noise; e.g. ``calibration_report(q, p)``); the Brier score adds its target-variance
term in closed form. The binned errors' population values are those of the same bins.

Intervals measured
------------------
* **metrics**: ``calibration_report`` / the metric functions' bootstrap (``n_bootstrap``
  Poisson replicates): every interval method of :func:`sksoft.metrics._intervals.bootstrap_interval`
  on the same replicates (``percentile``: the interval before this harness existed). Levels
  use the report's own bootstrap; paired differences resample the items exactly
  (``clusters`` = the items) with one seed for both models, so both get the same weights.
* **study**: the study's hierarchical paired bootstrap (seeds multinomial, items Poisson, the
  fits of ``S`` seeds x ``F`` folds), reached through :func:`study_bootstrap` -- the one
  function to repoint when the study's statistics move.
* **seeds**: seed-level inference with seeds carrying a share of the variance from 0 to 95%
  and 3 to 20 seeds: the study's hierarchical percentile bootstrap against
  :func:`sksoft.metrics.seed_interval`.

Run::

    python benchmarks/coverage_harness.py --quick      # the README's table
    python benchmarks/coverage_harness.py              # more replications and settings
    python benchmarks/coverage_harness.py --part study --replications 120   # the issue's setting
"""

import argparse
import functools
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sksoft._bench import cpu_model  # noqa: E402
from sksoft.metrics import calibration_report, seed_interval  # noqa: E402
from sksoft.metrics._compute import compute_stats  # noqa: E402
from sksoft.metrics._formulas import calibration_errors  # noqa: E402
from sksoft.metrics._intervals import (  # noqa: E402
    INTERVALS,
    bootstrap_interval,
    metric_range,
    point_tables,
    replicate_tables,
    row_replicates,
)
from sksoft.metrics._report import _Extended  # noqa: E402

N_POP = 400_000
N_BINS = 15
SOFT_CONCENTRATION = 10.0
LOGIT_SCALE = {2: 1.5, 3: 1.5, 10: 2.0}
MODELS = {"calibrated": (1.0, 0.0), "over": (2.0, 0.0), "under": (0.5, 0.0),
          "classdep": (1.0, 0.8)}
#: the quantities of the metric harness: report name -> plug-in it debiases (None: plug-in)
QUANTITIES = {"ece": None, "classwise_ece": None, "rmsce_debiased": "rmsce",
              "cross_entropy": None, "brier": None}
EXTENDED = ("brier_mcb", "log_mcb", "smooth_ece")


# --------------------------------------------------------------------------- the study
def study_bootstrap(arms, gold, human, *, n_bins, n_bootstrap, random_state):
    """The study's paired hierarchical bootstrap of each arm, through its current location.

    ``arms``: dict arm -> list of fits (``keys`` with source/seed/fold, ``test``, ``proba``).
    Returns (metrics, dict arm -> (point (M,), replicates (M, B))) for the study's metrics,
    overall (bin "all"): the study's estimate (mean over seeds of the mean over folds) and its
    replicates, with seeds resampled by the study's multinomial counts and items by its
    Poisson weights -- the same numbers as ``paired_differences`` (checked by
    :func:`check_adapter`). This is the only function that knows where the study's statistics
    live (``sksoft.metrics._comparison`` since the study was cut into stages, with the metric
    list and the per-fit pass bound in ``sksoft.study._differences``).
    """
    from sksoft.metrics import _comparison as C  # the study's statistics, below the study
    from sksoft.metrics._bootstrap import bootstrap_weights
    from sksoft.study import _differences as D  # the study's metric list and per-fit pass

    n = human.shape[0]
    WT = np.ascontiguousarray(bootstrap_weights(n, n_bootstrap, random_state).T)
    seeds = sorted({f["keys"]["seed"] for fits in arms.values() for f in fits})
    rng = np.random.default_rng(np.random.SeedSequence(random_state,
                                                       spawn_key=(C._SEED_STREAM,)))
    counts = rng.multinomial(len(seeds), np.full(len(seeds), 1.0 / len(seeds)),
                             size=n_bootstrap)
    out = {}
    for arm, fits in arms.items():
        cells = {}
        for f in fits:
            point, reps = D.fit_replicates(f["proba"], f["test"], gold, human, WT,
                                           n_difficulty_bins=1, n_bins=n_bins)
            cells[(f["keys"]["seed"], f["keys"]["fold"])] = (point, reps)
        pt, rp = C._seed_values(cells, seeds)
        out[arm] = (C._over_seeds(pt, np.ones(len(seeds)))[:, 0],
                    C._over_seeds(rp, counts)[:, :, 0], pt[:, :, 0], rp[:, :, :, 0])
    return list(D.STUDY_METRICS), out, counts


def check_adapter():
    """The adapter's percentile intervals equal the study's ``paired_differences`` output."""
    from sksoft.study._differences import paired_differences

    rng = np.random.default_rng(5)
    data = simulate(rng, 300, 3, soft=True)
    arms, _ = study_fits(rng, data, ("calibrated", "over"), n_seeds=2, n_folds=2, K=3)
    fits = [f for a in arms.values() for f in a]
    ref = paired_differences(fits, data["y"], data["soft"], n_difficulty_bins=1, n_bins=N_BINS,
                             n_bootstrap=50, random_state=3, references=("calibrated",),
                             order=("calibrated", "over"))["differences"]
    names, out, _ = study_bootstrap(arms, data["y"], data["soft"], n_bins=N_BINS,
                                    n_bootstrap=50, random_state=3)
    d = out["over"][1] - out["calibrated"][1]
    lo, hi, _ = bootstrap_interval(None, d, 0.95, method="percentile", axis=1)
    ref = ref[ref["bin"] == "all"].set_index("metric")
    for k, name in enumerate(names):
        assert np.isclose(ref.loc[name, "low"], lo[k], equal_nan=True), name
        assert np.isclose(ref.loc[name, "high"], hi[k], equal_nan=True), name


# --------------------------------------------------------------------------- simulation
def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def predict(z, model, noise=None):
    beta, bias = MODELS[model]
    b = np.where(np.arange(z.shape[1]) % 2 == 0, bias, -bias)
    return softmax(beta * z + b + (0.0 if noise is None else noise))


def simulate(rng, n, K, *, soft):
    z = rng.normal(0.0, LOGIT_SCALE[K], (n, K))
    q = softmax(z)
    y = (rng.random(n)[:, None] > np.cumsum(q, axis=1)).sum(axis=1).clip(0, K - 1)
    out = dict(z=z, q=q, y=y)
    if soft:
        g = rng.gamma(SOFT_CONCENTRATION * q + 1e-12)
        out["soft"] = g / g.sum(axis=1, keepdims=True)
    return out


@functools.lru_cache(maxsize=None)
def population(K, model, *, soft, extended=False, seed_noise=0.0):
    """Population values of one model: the report of ``N_POP`` noise-free items."""
    rng = np.random.default_rng(12345 + K)
    z = rng.normal(0.0, LOGIT_SCALE[K], (N_POP, K))
    q = softmax(z)
    noise = rng.normal(0.0, seed_noise, z.shape) if seed_noise else None
    p = predict(z, model, noise)
    rep = calibration_report(q, p, n_bins=N_BINS, extended=extended)
    out = {k: float(v) for k, v in rep.overall.items()}
    # Brier: E sum (y - p)^2 = sum (q - p)^2 + sum Var(y_k)
    var = q * (1 - q) / (SOFT_CONCENTRATION + 1) if soft else q * (1 - q)
    out["brier"] = float(np.mean(((q - p) ** 2).sum(axis=1) + var.sum(axis=1)))
    # rmsce: the debiased error's estimand (the binned L2 error of the population)
    out["rmsce_debiased"] = out["rmsce"]
    return out


# --------------------------------------------------------------------------- metric harness
def _report_replicates(y, p, B, seed, *, clusters, extended):
    """(point, replicates, plug-in point) of every quantity, from the report's own bootstrap."""
    stats = compute_stats(y, p, n_bins=N_BINS, classwise=True, want_scores=True,
                          variance=True, n_bootstrap=B, random_state=seed,
                          clusters=np.arange(len(p)) if clusters else None)
    point = {k: float(v[0]) for k, v in _columns(point_tables(stats, overall_only=True)).items()}
    reps = {k: v[:, 0] for k, v in _columns(replicate_tables(stats)).items()}
    if extended:
        ext = _Extended(y, p, None, stats, 0.95)
        rows = stats.rows.select(None)
        point.update(ext._compute(rows, None))
        reps.update(row_replicates(stats, ext._compute, None))
    return point, reps


def _columns(tables):
    from sksoft.metrics._formulas import metric_columns

    cols = metric_columns(**tables)
    cols["rmsce"] = calibration_errors(tables["top"], ("l2",))["l2"]
    return cols


def metric_settings(quick):
    ns = (300, 2000, 10000)
    out = []
    for K in (2, 10):
        for n in ns:
            for soft in (False, True):
                if quick and soft and n != 2000:
                    continue
                out.append(dict(K=K, n=n, soft=soft))
    return out


def run_metrics(R, B, quick, extended_R):
    pairs = (("over", "calibrated"), ("under", "over"))
    rows = []
    for st in metric_settings(quick):
        K, n, soft = st["K"], st["n"], st["soft"]
        ext = extended_R > 0 and n == 2000 and not soft
        pops = {m: population(K, m, soft=soft, extended=ext) for m in MODELS}
        hits = {}
        reps_here = extended_R if ext else R
        t0 = time.perf_counter()
        for r in range(reps_here):
            rng = np.random.default_rng([K, n, soft, r])
            data = simulate(rng, n, K, soft=soft)
            y = data["soft"] if soft else data["y"]
            res = {m: _report_replicates(y, predict(data["z"], m), B, r, clusters=False,
                                         extended=ext) for m in MODELS}
            paired = {m: _report_replicates(y, predict(data["z"], m), B, 10_000 + r,
                                            clusters=True, extended=False)
                      for m in set(sum(pairs, ()))}
            quantities = list(QUANTITIES) + (list(EXTENDED) if ext else [])
            for m, (pt, rp) in res.items():
                for qn in quantities:
                    _score(hits, ("level", m, qn), pt, rp, qn, pops[m][qn])
            for a, b in pairs:
                (pa, ra), (pb, rb) = paired[a], paired[b]
                for qn in QUANTITIES:
                    plug = QUANTITIES[qn]
                    d = {qn: pa[qn] - pb[qn]}
                    if plug:
                        d[plug] = pa[plug] - pb[plug]
                    _score(hits, ("difference", f"{a}-{b}", qn), d, {qn: ra[qn] - rb[qn]}, qn,
                           pops[a][qn] - pops[b][qn], difference=True)
        for key, h in hits.items():
            rows.append(dict(setting=f"K={K} n={n} {'soft' if soft else 'hard'}",
                             kind=key[0], model=key[1], quantity=key[2],
                             R=reps_here, **{m: np.mean(h[m]) for m in INTERVALS},
                             width=np.mean(h["width"])))
        print(f"  [{st} done in {time.perf_counter() - t0:.0f} s]", file=sys.stderr)
    return rows


def _score(hits, key, point, reps, qn, truth, difference=False):
    plug = QUANTITIES.get(qn)
    center = point[plug] if plug else None
    bounds = None if difference else metric_range(qn)
    h = hits.setdefault(key, {m: [] for m in INTERVALS} | {"width": []})
    for m in INTERVALS:
        e = bootstrap_interval(point[qn], reps[qn], 0.95, method=m, center=center,
                               bounds=bounds)
        h[m].append(bool(e.low <= truth <= e.high))
        if m == INTERVALS[0]:
            h["width"].append(e.high - e.low)


# --------------------------------------------------------------------------- study harness
def study_fits(rng, data, models, *, n_seeds, n_folds, K, seed_noise=0.3):
    """Fits of every model: S seeds (item x seed noise on the logits) x F folds."""
    n = data["z"].shape[0]
    folds = np.array_split(rng.permutation(n), n_folds)
    arms = {m: [] for m in models}
    for s in range(n_seeds):
        noise = rng.normal(0.0, seed_noise, data["z"].shape)
        for m in models:
            P = predict(data["z"], m, noise)
            for f, test in enumerate(folds):
                arms[m].append(dict(keys=dict(source=m, seed=s, fold=f), test=test,
                                    proba=P[test]))
    return arms, folds


def run_study(R, B, *, K=10, n_folds=5, n_per_fold=2000, n_seeds=3, seed_noise=0.3):
    models = ("calibrated", "over")
    pops = {m: population(K, m, soft=True, seed_noise=seed_noise) for m in models}
    names = ("gold_nll", "gold_brier", "gold_ece", "gold_debiased_ece", "gold_classwise_ece")
    key = {"gold_nll": "cross_entropy", "gold_brier": "brier", "gold_ece": "ece",
           "gold_debiased_ece": "rmsce_debiased", "gold_classwise_ece": "classwise_ece"}
    # gold targets are hard: their population Brier has the hard target variance
    hard = {m: population(K, m, soft=False, seed_noise=seed_noise) for m in models}
    hits = {}
    t0 = time.perf_counter()
    for r in range(R):
        rng = np.random.default_rng([99, r])
        data = simulate(rng, n_folds * n_per_fold, K, soft=True)
        arms, folds = study_fits(rng, data, models, n_seeds=n_seeds, n_folds=n_folds, K=K,
                                 seed_noise=seed_noise)
        metrics, out, _ = study_bootstrap(arms, data["y"], data["soft"], n_bins=N_BINS,
                                          n_bootstrap=B, random_state=r)
        # the plug-in L2 error of every fit: the debiased error's value in the bootstrap world
        plug = {m: np.mean([calibration_report(data["y"][f["test"]], f["proba"],
                                               n_bins=N_BINS)["rmsce"] for f in arms[m]])
                for m in models}
        for name in names:
            k = metrics.index(name)
            truth = {m: hard[m][key[name]] for m in models}
            center = {m: plug[m] if name == "gold_debiased_ece" else None for m in models}
            for m in models:
                _study_score(hits, ("level", m, name), out[m][0][k], out[m][1][k],
                             truth[m], center[m], (0.0, np.inf))
            a, b = models[1], models[0]
            ca = None if center[a] is None else center[a] - center[b]
            _study_score(hits, ("difference", f"{a}-{b}", name), out[a][0][k] - out[b][0][k],
                         out[a][1][k] - out[b][1][k], truth[a] - truth[b], ca, None)
    print(f"  [study done in {time.perf_counter() - t0:.0f} s]", file=sys.stderr)
    setting = f"K={K} {n_folds}x{n_per_fold} S={n_seeds}"
    return [dict(setting=setting, kind=k[0], model=k[1], quantity=k[2], R=R,
                 **{m: np.mean(h[m]) for m in INTERVALS}, width=np.mean(h["width"]))
            for k, h in hits.items()]


def _study_score(hits, key, point, reps, truth, center, bounds):
    h = hits.setdefault(key, {m: [] for m in INTERVALS} | {"width": []})
    for m in INTERVALS:
        e = bootstrap_interval(float(point), reps, 0.95, method=m, center=center,
                               bounds=bounds)
        h[m].append(bool(e.low <= truth <= e.high))
        if m == INTERVALS[0]:
            h["width"].append(e.high - e.low)


# --------------------------------------------------------------------------- seed harness
def run_seeds(R, B, *, n_items=2000):
    """Seed-level inference on per-item paired differences ``x[s, i] = mu + a_s + u_i +
    v_si`` (seed effects ``a``, item effects ``u`` shared by the seeds, interaction ``v``);
    the seed share is ``Var a / Var(one seed's mean)``."""
    rows = []
    for S in (3, 5, 10, 20):
        for share in (0.0, 0.5, 0.8, 0.95):
            item_var = 1.0 / n_items  # variance of one seed's item mean (u + v parts)
            sa = np.sqrt(share / (1 - share) * item_var) if share < 1 else 0.0
            hits = {"hierarchical percentile": [], "seed_interval": [],
                    "seed_interval (item_se)": []}
            for r in range(R):
                rng = np.random.default_rng([7, S, int(share * 100), r])
                a = rng.normal(0, sa, S)
                u = rng.normal(0, np.sqrt(0.6), n_items)
                v = rng.normal(0, np.sqrt(0.4), (S, n_items))
                x = a[:, None] + u[None] + v
                # the study's hierarchical bootstrap: seeds multinomial, items Poisson
                c = rng.multinomial(S, np.full(S, 1.0 / S), size=B)
                W = rng.poisson(1.0, (B, n_items)).astype(np.float64)
                per_seed = (x[None] * W[:, None]).sum(-1) / W.sum(-1)[:, None]
                rep = (c * per_seed).sum(1) / S
                lo, hi = np.percentile(rep, [2.5, 97.5])
                hits["hierarchical percentile"].append(lo <= 0 <= hi)
                e = seed_interval(x, per_item=True, confidence=0.95)
                hits["seed_interval"].append(e.low <= 0 <= e.high)
                # the path of a metric that is no mean over items (binned errors): per-seed
                # values, and the item bootstrap's se of their mean with the seeds held fixed
                e = seed_interval(x.mean(axis=1), item_se=per_seed.mean(axis=1).std(ddof=1))
                hits["seed_interval (item_se)"].append(e.low <= 0 <= e.high)
            rows.append(dict(S=S, share=share, R=R,
                             **{k: float(np.mean(v)) for k, v in hits.items()}))
    return rows


# --------------------------------------------------------------------------- output
def _cov(c, R):
    return f"{100 * c:.0f} ± {100 * np.sqrt(max(c * (1 - c), 1e-12) / R):.0f}"


def print_table(rows, title):
    print(f"\n### {title}\n")
    print("| setting | interval of | model | quantity | R | "
          + " | ".join(INTERVALS) + " | width (basic) |")
    print("|---|---|---|---|---|" + "---|" * len(INTERVALS) + "---|")
    for r in rows:
        print(f"| {r['setting']} | {r['kind']} | {r['model']} | {r['quantity']} | {r['R']} | "
              + " | ".join(_cov(r[m], r["R"]) for m in INTERVALS) + f" | {r['width']:.4f} |")


_STUDY_KEYS = {"gold_nll": "cross_entropy", "gold_brier": "brier", "gold_ece": "ece",
               "gold_debiased_ece": "rmsce_debiased", "gold_classwise_ece": "classwise_ece"}


def summarize(paths):
    """The compact table of saved full tables: coverage of the default interval (``"auto"``)
    per quantity (rows) and setting (columns)."""
    from sksoft.metrics._intervals import resolve_interval

    cells, settings, order = {}, [], []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            parts = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(parts) != 5 + len(INTERVALS) + 1 or parts[0] in ("setting", "---"):
                continue
            setting, kind, model, qn = parts[:4]
            method = resolve_interval("auto", _STUDY_KEYS.get(qn, qn))
            cov = parts[5 + INTERVALS.index(method)]
            row = (qn, kind, model)
            if setting not in settings:
                settings.append(setting)
            if row not in order:
                order.append(row)
            cells[(row, setting)] = cov
    print("| quantity | interval of | model | " + " | ".join(settings) + " |")
    print("|---|---|---|" + "---|" * len(settings))
    first = {}
    for row in order:
        first.setdefault(row[0], len(first))
    for row in sorted(order, key=lambda r: (first[r[0]], r[1] != "level")):
        print(f"| {row[0]} | {row[1]} | {row[2]} | "
              + " | ".join(cells.get((row, s), "") for s in settings) + " |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--summarize", nargs="+", metavar="TABLE",
                    help="print the compact table of saved full tables and exit")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--part", nargs="+", default=["metrics", "study", "seeds"],
                    choices=["metrics", "study", "seeds"])
    ap.add_argument("--replications", type=int, default=None)
    ap.add_argument("--n-bootstrap", type=int, default=200)
    ap.add_argument("--extended-replications", type=int, default=None)
    ap.add_argument("--study-folds", type=int, default=5)
    ap.add_argument("--study-items", type=int, default=2000)
    args = ap.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return
    R = args.replications or (100 if args.quick else 200)
    ext = args.extended_replications if args.extended_replications is not None else \
        (40 if args.quick else 100)
    print(f"CPU: {cpu_model()}; nominal 95%; B = {args.n_bootstrap}; coverage in % ± its "
          "Monte Carlo standard error")
    t0 = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        if "metrics" in args.part:
            print_table(run_metrics(R, args.n_bootstrap, args.quick, ext),
                        "calibration_report / metric functions")
        if "study" in args.part:
            check_adapter()
            print_table(run_study(R if args.replications else (60 if args.quick else 120),
                                  args.n_bootstrap, n_folds=args.study_folds,
                                  n_per_fold=args.study_items),
                        "the study's paired hierarchical bootstrap (gold metrics)")
        if "seeds" in args.part:
            rows = run_seeds(R, args.n_bootstrap)
            print("\n### seed-level inference (paired difference, truth 0)\n")
            print("| seeds | seed share | R | hierarchical percentile | seed_interval (per item) "
                  "| seed_interval (item_se) |")
            print("|---|---|---|---|---|---|")
            for r in rows:
                print(f"| {r['S']} | {r['share']:.2f} | {r['R']} | "
                      f"{_cov(r['hierarchical percentile'], r['R'])} | "
                      f"{_cov(r['seed_interval'], r['R'])} | "
                      f"{_cov(r['seed_interval (item_se)'], r['R'])} |")
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
