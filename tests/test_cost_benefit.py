"""The cost-benefit audit (issue 18 sections 2-5): recalibration and annotation-budget axes of
the study, with the leakage and correctness checks that could fail."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedKFold

from sksoft.annotations import subsample_annotations, subsample_counts, to_counts
from sksoft.calibration import TemperatureScaling
from sksoft.cli import main
from sksoft.datasets import make_ambiguous_digits
from sksoft.label_sources import HumanSoftLabels
from sksoft.linear_model import SoftLogisticRegression
from sksoft.study import StudyConfig, own_data, run
from sksoft.study import _budget, _fit, _plan, _registry
from sksoft.study._differences import fit_keys, paired_differences

FAST = dict(model="logreg", regimes=("regularised",), progress=False, figures=False, n_jobs=1)


@pytest.fixture(scope="module")
def digits_small():
    """400 digits with their 50 annotators' wide votes (own data: the study path for it)."""
    d = make_ambiguous_digits(random_state=3)
    return {"X": d.X[:400], "y_gold": d.y_gold[:400], "annotations": d.annotations[:400],
            "counts": d.counts[:400]}


def _drop_times(df):
    return df[df["metric"] != "fit_seconds"].reset_index(drop=True)


# --------------------------------------------------------------------------- subsampling
def test_subsample_counts_is_a_nested_hypergeometric_draw():
    rng = np.random.default_rng(0)
    counts = rng.multinomial(51, rng.dirichlet(np.ones(10) * 0.3, size=300), size=None)
    counts[:5] = 0
    counts[:5, 2] = 2  # items with fewer votes than asked keep them all
    one = subsample_counts(counts, 1, random_state=7)
    three = subsample_counts(counts, 3, random_state=7)
    ten = subsample_counts(counts, 10, random_state=7)
    assert one.dtype == np.int64 and one.shape == counts.shape
    for sub, k in ((one, 1), (three, 3), (ten, 10)):
        assert (sub <= counts).all() and (sub >= 0).all()
        np.testing.assert_array_equal(sub.sum(axis=1), np.minimum(k, counts.sum(axis=1)))
    assert (one <= three).all() and (three <= ten).all()  # nested budgets
    np.testing.assert_array_equal(subsample_counts(counts, 3, random_state=7), three)
    assert not np.array_equal(subsample_counts(counts, 3, random_state=8), three)
    assert np.array_equal(subsample_counts(counts, 60, random_state=1), counts)
    # the draw's distribution: k of 50 votes (30 for class 0) without replacement
    item = np.array([[30, 20]])
    draws = np.array([subsample_counts(item, 5, random_state=s)[0, 0] for s in range(3000)])
    # hypergeometric mean 3 and variance 5 * 0.6 * 0.4 * 45 / 49
    assert abs(draws.mean() - 3.0) < 4 * np.sqrt(5 * 0.24 * 45 / 49 / 3000)
    assert draws.var() == pytest.approx(5 * 0.24 * 45 / 49, rel=0.1)
    with pytest.raises(ValueError, match="n_votes"):
        subsample_counts(counts, 0)
    with pytest.raises(ValueError, match="whole numbers"):
        subsample_counts([[0.5, 1.0]], 1)
    with pytest.raises(ValueError, match="non-negative"):
        subsample_counts([[-1, 2]], 1)


def test_subsample_annotations_keeps_observed_votes_only():
    d = make_ambiguous_digits(random_state=0, annotators_per_item=7)
    A = d.annotations
    before = A.copy()
    kept1 = subsample_annotations(A, 1, random_state=3)
    kept3 = subsample_annotations(A, 3, random_state=3)
    np.testing.assert_array_equal(A, before)  # the input is not modified
    for kept, k in ((kept1, 1), (kept3, 3)):
        obs = ~np.isnan(kept)
        assert (obs.sum(axis=1) == k).all()
        assert not (obs & np.isnan(A)).any()  # only observed annotators are chosen
        np.testing.assert_array_equal(kept[obs], A[obs])
    assert (~np.isnan(kept1) <= ~np.isnan(kept3)).all()  # nested
    c1, c = to_counts(kept1, n_classes=10), to_counts(A, n_classes=10)
    assert (c1 <= c).all() and (c1.sum(axis=1) == 1).all()


def test_subsample_hostile_input():
    counts = np.array([[3, 1, 0], [0, 2, 2], [1, 0, 0], [0, 0, 0]])
    ref = subsample_counts(counts, 2, random_state=5)
    # read-only and non-contiguous inputs work, give the same draw and are left unchanged
    ro = counts.copy()
    ro.flags.writeable = False
    np.testing.assert_array_equal(subsample_counts(ro, 2, random_state=5), ref)
    nc = np.asfortranarray(np.repeat(counts, 2, axis=1))[:, ::2]
    assert not nc.flags.c_contiguous
    np.testing.assert_array_equal(subsample_counts(nc, 2, random_state=5), ref)
    before = counts.copy()
    subsample_counts(counts, 1, random_state=np.random.RandomState(0))
    np.testing.assert_array_equal(counts, before)
    assert subsample_counts(np.zeros((0, 3)), 2).shape == (0, 3)
    for bad_k, err in ((0, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError),
                       (None, TypeError)):
        with pytest.raises(err, match="n_votes"):
            subsample_counts(counts, bad_k)
    with pytest.raises(ValueError, match="NaN"):
        subsample_counts([[np.nan, 1.0]], 1)
    with pytest.raises(TypeError, match="random_state"):
        subsample_counts(counts, 1, random_state="seed")
    # counts beyond exact float64 integers: a clear error, not an int64 wrap-around
    with pytest.raises(ValueError, match="counts must be at most"):
        subsample_counts(np.array([[1e20, 1.0]]), 1)
    # wide annotations: read-only and non-contiguous work; a long DataFrame is refused (it
    # would be read as a wide matrix of task ids, worker ids and labels)
    wide = np.array([[0, 1, 1, np.nan], [2, np.nan, np.nan, np.nan]])
    got = subsample_annotations(wide, 1, random_state=2)
    wro = wide.copy()
    wro.flags.writeable = False
    np.testing.assert_array_equal(subsample_annotations(wro, 1, random_state=2), got)
    wnc = np.asfortranarray(np.repeat(wide, 2, axis=1))[:, ::2]
    np.testing.assert_array_equal(subsample_annotations(wnc, 1, random_state=2), got)
    assert subsample_annotations(np.zeros((0, 3)), 1).shape == (0, 3)
    long = pd.DataFrame({"task": [0, 0, 1], "worker": [0, 1, 0], "label": [1, 0, 2]})
    with pytest.raises(TypeError, match="long_to_wide"):
        subsample_annotations(long, 1)
    with pytest.raises(ValueError, match="integer class codes"):
        subsample_annotations([[0.5, 1.0]], 1)
    with pytest.raises(TypeError, match="n_votes"):
        subsample_annotations(wide, 1.5)


def test_subsample_human_k1_is_one_hot_and_all_is_the_data():
    d = make_ambiguous_digits(random_state=0)
    data = {"human": d.soft_labels, "annotations": d.annotations, "counts": None}
    H, A, votes = _budget.subsample_human(data, seed=4, annotators=1)
    assert set(np.unique(H)) == {0.0, 1.0} and (H.sum(axis=1) == 1).all()
    assert (votes == 1).all()
    assert (to_counts(A, n_classes=10) <= d.counts).all()
    H2, _, _ = _budget.subsample_human(data, seed=4, annotators=1)
    np.testing.assert_array_equal(H, H2)  # a pure function of the seed
    H3, _, _ = _budget.subsample_human(data, seed=5, annotators=1)
    assert not np.array_equal(H, H3)
    # from counts only (CIFAR-10H's format): a hypergeometric draw of the counts
    counts_data = {"human": d.soft_labels, "annotations": None, "counts": d.counts}
    Hc, Ac, vc = _budget.subsample_human(counts_data, seed=4, annotators=3)
    assert Ac is None and (vc == 3).all()
    assert ((Hc * 3).round() <= d.counts).all()
    Hall, Aall, vall = _budget.subsample_human(data, seed=4, annotators="all")
    assert Hall is d.soft_labels and Aall is d.annotations and (vall == 50).all()
    with pytest.raises(ValueError, match="annotators"):
        _budget.subsample_human({"human": d.soft_labels}, 0, 3)


# --------------------------------------------------------------------------- leakage
class SpyCalibrator(TemperatureScaling):
    """Temperature scaling that records the human labels of every row it is fitted on (the
    study passes them as soft_labels to every recalibrator)."""

    fitted = []

    def fit(self, X, y, sample_weight=None, soft_labels=None, annotations=None):
        SpyCalibrator.fitted.append(np.array(soft_labels, copy=True))
        return super().fit(X, y, sample_weight=sample_weight, soft_labels=soft_labels,
                           annotations=annotations)


def _row_index(H):
    return {row.tobytes(): i for i, row in enumerate(np.asarray(H, dtype=np.float64))}


def test_spy_calibrator_sees_only_calibration_rows(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    n = 240
    H = rng.dirichlet(np.ones(3), size=n)  # unique rows: they identify the items
    data = {"X": rng.normal(size=(n, 4)) + H[:, :1], "y_gold": H.argmax(axis=1),
            "soft_labels": H}
    SpyCalibrator.fitted = []
    monkeypatch.setitem(_registry.CALIBRATOR_FACTORIES, "temperature",
                        lambda: SpyCalibrator("passthrough"))
    res = run(data=data, sources=("gold", "human"), seeds=2, folds=3, n_bootstrap=0,
              calibrators=("temperature",), calibrate_to=("gold", "human"),
              out=str(tmp_path / "spy"), backend="sequential", **FAST)
    assert res.complete
    index = _row_index(res._data["human"])  # the rows as the study holds them
    gold = data["y_gold"]
    cal_sets, test_sets = {}, {}
    for seed in range(2):
        for fold, (train, test) in enumerate(StratifiedKFold(3, shuffle=True,
                                                             random_state=seed).split(gold,
                                                                                      gold)):
            fit_rows, cal = _budget.calibration_split(train, gold, seed, fold, 0.1)
            assert not set(cal) & set(test) and set(cal) <= set(train)
            assert not set(cal) & set(fit_rows) and len(cal) == pytest.approx(0.1 * len(train),
                                                                                abs=1)
            cal_sets[(seed, fold)], test_sets[(seed, fold)] = set(cal), set(test)
    assert SpyCalibrator.fitted
    full = []
    for rec in SpyCalibrator.fitted:
        items = {index[row.tobytes()] for row in rec}
        homes = [k for k, cal in cal_sets.items() if items <= cal]
        assert homes, "a recalibrator was fitted on rows outside every calibration split"
        assert all(not items & test_sets[k] for k in homes)
        if any(items == cal_sets[k] for k in homes):
            full.append(homes[0])
    # every fit's recalibrators (2 sources x 2 targets) were fitted on its whole split, and
    # the selection's folds on parts of it
    assert {k: full.count(k) for k in cal_sets} == {k: 4 for k in cal_sets}
    assert len(SpyCalibrator.fitted) == 4 * 6 * (1 + 3)


class SpyTeacher(SoftLogisticRegression):
    """Records the rows (by their features) it is trained on and those it predicts."""

    log = []

    def fit(self, X, y, **kw):
        SpyTeacher.log.append(("fit", {r.tobytes() for r in np.asarray(X)}))
        return super().fit(X, y, **kw)

    def predict_proba(self, X):
        SpyTeacher.log.append(("predict", {r.tobytes() for r in np.asarray(X)}))
        return super().predict_proba(X)


def test_uncertain_allocation_never_scores_an_item_with_its_own_label(monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 3))
    gold = rng.integers(0, 3, 90)
    rows = np.arange(10, 80)
    SpyTeacher.log = []
    scores = _budget.allocation_scores(X, gold, rows, SpyTeacher(), n_classes=3, cv=3)
    assert scores.shape == (70,) and np.isfinite(scores).all()
    fits = [s for kind, s in SpyTeacher.log if kind == "fit"]
    preds = [s for kind, s in SpyTeacher.log if kind == "predict"]
    assert len(fits) == len(preds) == 3
    keys = {r.tobytes() for r in X[rows]}
    for f, p in zip(fits, preds):
        assert not f & p  # no row is scored by a model trained on it
        assert f <= keys and p <= keys  # nothing outside the rows is used
    assert set().union(*preds) == keys
    # the most uncertain rows get the labels
    mask = _budget.labelled_rows(70, _budget.Budget(1, 0.2, "uncertain"), scores, 0, 0)
    assert mask.sum() == 14 and scores[mask].min() >= scores[~mask].max()
    rand = _budget.labelled_rows(70, _budget.Budget(1, 0.2, "random"), scores, 0, 0)
    assert rand.sum() == 14
    assert (rand <= _budget.labelled_rows(70, _budget.Budget(1, 0.5, "random"), scores, 0,
                                          0)).all()


def test_uncertain_allocation_in_the_study_is_cross_fitted_once_per_fold(monkeypatch,
                                                                         tmp_path,
                                                                         digits_small):
    SpyTeacher.log = []
    monkeypatch.setattr(_plan, "make_teacher", lambda cfg, seed: SpyTeacher(C=0.1))
    res = run(data=digits_small, sources=("gold", "human"), seeds=2, folds=2, n_bootstrap=0,
              human_fraction=(0.5,), allocate=("uncertain",), out=str(tmp_path / "u"),
              model="logreg", progress=False, figures=False, n_jobs=2,
              regimes=("regularised", "overparameterised"))
    assert res.complete
    # scores once per (seed, fold) -- not per regime, source or budget: 2 x 2 x 3 folds
    fits = [s for kind, s in SpyTeacher.log if kind == "fit"]
    preds = [s for kind, s in SpyTeacher.log if kind == "predict"]
    assert len(fits) == len(preds) == 2 * 2 * 3
    X = res._data["X"]  # the features as the study holds them (float32)
    gold = digits_small["y_gold"]
    assert set().union(*fits) <= {r.tobytes() for r in X}
    for i, (f, p) in enumerate(zip(fits, preds)):
        assert not f & p
        seed, fold = divmod(i // 3, 2)
        train, test = list(StratifiedKFold(2, shuffle=True, random_state=seed).split(
            gold, gold))[fold]
        assert not (f | p) & {r.tobytes() for r in X[test]}
    df = res.results
    human = df[(df["source"] == "human") & (df["metric"] == "gold_nll")]
    assert set(human["allocate"]) == {"uncertain"} and set(human["human_fraction"]) == {0.5}


class SpySource(HumanSoftLabels):
    """Human soft labels that record the human labels and annotations they are given."""

    seen = []

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        SpySource.seen.append((np.array(human), None if annotations is None
                               else np.array(annotations)))
        return super().make_targets(X, gold, human=human, n_classes=n_classes)


def test_human_sources_see_only_the_budget(monkeypatch, tmp_path, digits_small):
    real = _fit.make_source
    SpySource.seen = []

    def spy(name, seed, cfg=None):
        return SpySource() if name == "human" else real(name, seed, cfg)

    monkeypatch.setattr(_fit, "make_source", spy)
    res = run(data=digits_small, sources=("gold", "human", "dawid_skene"), seeds=1, folds=2,
              n_bootstrap=0, annotators=(1,), human_fraction=(0.5, 1.0),
              out=str(tmp_path / "b"), backend="sequential", **FAST)
    assert res.complete and len(SpySource.seen) == 2 * 2  # 2 fractions x 2 folds
    A0 = digits_small["annotations"]
    C0 = to_counts(A0, n_classes=10)
    gold = digits_small["y_gold"]
    splits = list(StratifiedKFold(2, shuffle=True, random_state=0).split(gold, gold))
    # tasks in order: fraction 0.5 (folds 0, 1), then fraction 1 (folds 0, 1)
    for i, (human, ann) in enumerate(SpySource.seen):
        fraction, fold = (0.5, 1.0)[i // 2], i % 2
        train = splits[fold][0]
        assert set(np.unique(human)) <= {0.0, 1.0}  # k = 1: one-hot human targets
        obs = ~np.isnan(ann)
        assert obs.sum(axis=1).max() == 1  # one kept vote per labelled item, none elsewhere
        assert obs.any(axis=1).sum() == np.ceil(fraction * len(train))
        np.testing.assert_array_equal(ann[obs], A0[train][obs])  # real votes, unchanged
        labelled = obs.any(axis=1)
        # the unlabelled items' human labels are their gold one-hot rows
        np.testing.assert_array_equal(human[~labelled].argmax(axis=1), gold[train][~labelled])
    df = res.results
    one = df[(df["metric"] == "gold_nll") & (df["bin"].astype(str) == "all")]
    cost = one.set_index(["source", "human_fraction", "fold"])["annotations_used"]
    assert (cost.loc["gold"] == 0).all()
    n_train = [200, 200]
    for fold in (0, 1):
        assert cost.loc[("human", 1.0, fold)] == n_train[fold]  # 1 vote per training item
        assert cost.loc[("human", 0.5, fold)] == np.ceil(0.5 * n_train[fold])
        assert cost.loc[("dawid_skene", 0.5, fold)] == np.ceil(0.5 * n_train[fold])
    # counts never exceed the originals; dawid_skene gets the subsampled wide votes
    H, A, _ = _budget.subsample_human({**digits_small, "human": C0 / 50}, 0, 1)
    assert (to_counts(A, n_classes=10) <= C0).all()


# --------------------------------------------------------------------------- equality
def test_axes_at_their_defaults_are_the_study_bit_for_bit(tmp_path, digits_small):
    kw = dict(data=digits_small, sources=("gold", "human", "smoothing"), seeds=2, folds=2,
              n_bootstrap=50, **FAST)
    base = run(out=str(tmp_path / "a"), **kw)
    explicit = run(out=str(tmp_path / "b"), annotators=("all",), human_fraction=(1.0,),
                   calibrators=("none",), allocate=("random", "uncertain"), **kw)
    a, b = _drop_times(base.results), _drop_times(explicit.results)
    assert list(a.columns) == list(b.columns) == ["regime", "source", "seed", "fold", "bin",
                                                  "metric", "value"]
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(base.summary["intervals"]["differences"],
                                  explicit.summary["intervals"]["differences"],
                                  check_exact=True)
    # with the budget axis in use, the all-votes and gold fits are still today's, bit for bit
    axis = run(out=str(tmp_path / "c"), annotators=(2, "all"), **kw)
    c = _drop_times(axis.results)
    c = c[(c["annotators"].astype(str).isin(["all", "0"]))]
    c = c.drop(columns=["calibrator", "annotators", "human_fraction", "allocate",
                        "annotations_used"])
    key = ["regime", "source", "seed", "fold", "bin", "metric"]
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True),
                                  c.sort_values(key).reset_index(drop=True),
                                  check_exact=True, check_dtype=False)


def test_same_subsample_on_every_backend(tmp_path, digits_small):
    pytest.importorskip("distributed")
    kw = dict(data=digits_small, sources=("human", "dawid_skene"), seeds=2, folds=2,
              n_bootstrap=0, annotators=(1, 3), model="logreg", regimes=("regularised",),
              progress=False, figures=False)
    runs = {b: run(out=str(tmp_path / b), backend=b, n_jobs=1 if b == "sequential" else 2,
                   **kw).results for b in ("sequential", "loky", "dask")}
    key = ["regime", "source", "annotators", "seed", "fold", "bin", "metric"]
    ref = _drop_times(runs["sequential"]).sort_values(key).reset_index(drop=True)
    for b in ("loky", "dask"):
        got = _drop_times(runs[b]).sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(ref, got, check_exact=True)
    # and k = 1 differs from k = 3 (the subsample is really used)
    nll = ref[(ref["metric"] == "gold_nll") & (ref["bin"].astype(str) == "all")]
    by_k = nll.groupby(nll["annotators"].astype(str))["value"].mean()
    assert by_k["1"] != by_k["3"]


# --------------------------------------------------------------------------- differences
def test_compare_keys_pair_arms_across_calibrators(digits_small):
    rng = np.random.default_rng(0)
    K = 10
    human = to_counts(digits_small["annotations"], n_classes=K) / 50.0
    gold = digits_small["y_gold"]
    fits = []
    for seed in range(2):
        for fold, (_, test) in enumerate(StratifiedKFold(2, shuffle=True, random_state=seed)
                                         .split(gold, gold)):
            P = rng.dirichlet(np.ones(K), size=len(test))
            Q = rng.dirichlet(np.ones(K), size=len(test))
            for source, cal, proba in (("gold", "none", P), ("gold", "t", Q),
                                       ("human", "none", Q), ("human", "t", P)):
                fits.append({"keys": {"regime": "r", "source": source, "calibrator": cal,
                                      "seed": seed, "fold": fold}, "test": test,
                             "proba": proba})
    grouped = paired_differences(fits, gold, human, n_bootstrap=50)
    assert grouped["extra_keys"] == ["regime", "calibrator"]
    armed = paired_differences(fits, gold, human, n_bootstrap=50,
                               compare_keys=("calibrator",),
                               references=("gold (calibrator=t)",))
    d = armed["differences"]
    assert armed["extra_keys"] == ["regime"]
    # human raw has gold + t's very predictions: exactly 0 in every replicate
    same = d[(d["source"] == "human (calibrator=none)")
             & (d["reference"] == "gold (calibrator=t)")]
    assert len(same) and (same["difference"].fillna(0) == 0).all()
    assert ((same["low"].fillna(0) == 0) & (same["high"].fillna(0) == 0)).all()
    other = d[(d["source"] == "gold (calibrator=none)") & (d["metric"] == "gold_nll")]
    assert (other["difference"].abs() > 0).all()


def test_cost_is_not_a_key():
    rows = pd.DataFrame({"regime": ["r"] * 2, "source": ["human"] * 2, "calibrator": ["none"] * 2,
                         "annotators": [3, 3], "human_fraction": [1.0, 1.0],
                         "allocate": ["all", "all"], "annotations_used": [600.0, 600.0],
                         "seed": [0, 0], "fold": [1, 1], "bin": ["all", 0],
                         "metric": ["gold_nll"] * 2, "value": [0.3, 0.2]})
    keys = fit_keys(rows)
    assert "annotations_used" not in keys and keys["annotators"] == 3


# --------------------------------------------------------------------------- the answer
def test_cost_benefit_sections_and_figure(tmp_path, digits_small):
    out = tmp_path / "cb"
    res = run(data=digits_small, sources=("gold", "human", "smoothing"), seeds=2, folds=2,
              n_bootstrap=100, calibrators=("temperature", "isotonic"), annotators=(1, "all"),
              calibration_fraction=0.2, out=str(out), model="logreg",
              regimes=("regularised",), progress=False, n_jobs=1)
    summary = (out / "summary.md").read_text()
    assert "### Gold + the best calibrator vs human soft labels" in summary
    assert "### Cost–benefit: when do human labels pay?" in summary
    assert "chosen without the test fold" in summary and "intersection-union" in summary
    assert "gold (one-hot) + selected:" in summary  # which calibrator was chosen, how often
    for metric in ("gold_nll", "gold_ece", "gold_ece (hardest bin, 2)", "human_kl",
                   "entropy_correlation"):
        assert f"**{metric}**" in summary
    assert ("beats every zero-cost alternative on `gold_nll`" in summary
            or "never beats every zero-cost alternative on `gold_nll`" in summary)
    assert (out / "figures" / "regularised" / "cost_benefit.png").stat().st_size > 5000
    df = pd.read_csv(out / "results.csv")
    assert list(df.columns[:7]) == ["regime", "source", "calibrator", "annotators",
                                    "human_fraction", "allocate", "annotations_used"]
    assert set(df["calibrator"]) == {"none", "temperature", "isotonic", "selected"}
    # one model fit serves every calibrator: fits = sources' budgets x folds x seeds
    assert res.n_model_fits() == (1 + 2 + 1) * 2 * 2
    assert res.n_fits == res.n_model_fits()
    d = pd.read_csv(out / "differences.csv")
    head = d[(d["reference"] == "gold + selected") & (d["source"] == "human")
             & (d["metric"] == "gold_nll")]
    assert set(head["bin"].astype(str)) == {"all", "0", "1", "2"}
    # the headline's point difference is that of the paired fits' means
    sel = df[(df["metric"] == "gold_nll") & (df["bin"].astype(str) == "all")]
    g = sel[(sel["source"] == "gold") & (sel["calibrator"] == "selected")]["value"].mean()
    h = sel[(sel["source"] == "human") & (sel["calibrator"] == "none")
            & (sel["annotators"].astype(str) == "all")]["value"].mean()
    assert head[head["bin"].astype(str) == "all"]["difference"].iloc[0] == pytest.approx(
        h - g, rel=1e-6, abs=1e-9)
    # raw gold vs recalibrated gold are different arms of the same fits
    assert set(d[d["reference"] == "gold"]["source"]) >= {"gold + temperature",
                                                          "human @ k=1", "human"}


# --------------------------------------------------------------------------- validation
def test_axis_options_are_validated(tmp_path, capsys, monkeypatch):
    for bad, match in (({"calibrators": ("platt",)}, "calibrators"),
                       ({"calibrate_to": ("crowd",)}, "calibrate_to"),
                       ({"annotators": (0,)}, "annotators"),
                       ({"annotators": ("some",)}, "annotators"),
                       ({"human_fraction": (0.0,)}, "human_fraction"),
                       ({"allocate": ("smart",)}, "allocate"),
                       ({"calibration_fraction": 0.9}, "calibration_fraction")):
        with pytest.raises(ValueError, match=match):
            StudyConfig(**bad).resolved()
    with pytest.raises(TypeError, match="annotators"):
        StudyConfig(annotators=3).resolved()
    d = make_ambiguous_digits(random_state=0)
    # own data's wide votes are checked against the labels (they were an IndexError deep in
    # the budget axis when they had fewer rows)
    arrays = {"X": d.X[:60], "y_gold": d.y_gold[:60], "soft_labels": d.soft_labels[:60]}
    with pytest.raises(ValueError, match="annotations have 50 rows"):
        own_data({**arrays, "annotations": d.annotations[:50]})
    with pytest.raises(ValueError, match="class code"):
        own_data({**arrays, "annotations": d.annotations[:60] + 10})
    with pytest.raises(TypeError, match="annotations"):
        own_data({**arrays, "annotations": np.full((60, 3), "a")})
    assert own_data({**arrays, "annotations": d.annotations[:60]})["annotations"].shape == (60, 50)
    with pytest.raises(ValueError, match="annotators"):
        run(data={"X": d.X, "y_gold": d.y_gold, "soft_labels": d.soft_labels},
            annotators=(3,), out=str(tmp_path / "x"), progress=False)
    with pytest.raises(SystemExit):
        main(["study", "--annotators", "3", "few", "--out", str(tmp_path / "y"),
              "--no-progress"])
    assert "--annotators" in capsys.readouterr().err
    cfg = StudyConfig(cost_benefit=True, seeds=2).resolved()
    assert cfg.annotators == (1, 3, 10, "all") and cfg.calibrators == ("none", "temperature")
    assert cfg.sources == ("gold", "human", "smoothing") and cfg.seeds == 2
    # under cost_benefit, values given explicitly win even when they equal the defaults
    cfg = StudyConfig(cost_benefit=True, folds=5, annotators=("all",), calibrators=("none",),
                      sources=StudyConfig().resolved().sources).resolved()
    assert cfg.folds == 5 and cfg.annotators == ("all",) and cfg.calibrators == ("none",)
    assert len(cfg.sources) == 7
    assert StudyConfig().resolved().folds == 5  # and unset fields keep their defaults
    seen = {}

    def spy_run(**kw):
        seen["cfg"] = StudyConfig(**kw).resolved()
        raise SystemExit(0)

    monkeypatch.setattr("sksoft.study.run", spy_run)
    with pytest.raises(SystemExit):
        main(["study", "--cost-benefit", "--folds", "5", "--annotators", "all", "--out",
              str(tmp_path / "z"), "--no-progress"])
    assert seen["cfg"].folds == 5 and seen["cfg"].annotators == ("all",)
    assert seen["cfg"].seeds == 5 and seen["cfg"].calibrators == ("none", "temperature")
    for bad in ("+3", "1_0", "²"):
        with pytest.raises(SystemExit):
            main(["study", "--annotators", bad, "--out", str(tmp_path / "y"), "--no-progress"])
        assert "--annotators" in capsys.readouterr().err
    with pytest.raises(ValueError, match="annotators"):
        StudyConfig(annotators=("²",)).resolved()
    assert StudyConfig(annotators=("all", 3, "3"), calibrators=("isotonic", "none",
                       "temperature")).resolved().annotators == (3, "all")


def test_cost_benefit_sentences_name_the_smallest_winning_budget():
    """A table built by hand: k=1 beats gold but not smoothing (so not every zero-cost
    alternative), k=3 beats both, every vote beats gold only."""
    from sksoft.study._cost_benefit import cost_benefit_markdown, cost_benefit_table

    names = ["gold", "smoothing", "human @ k=1", "human @ k=3", "human"]
    variants = pd.DataFrame({"source": ["gold", "smoothing", "human", "human", "human"],
                             "calibrator": ["none"] * 5, "annotators": [0, 0, 1, 3, "all"],
                             "human_fraction": [0.0, 0.0, 1.0, 1.0, 1.0],
                             "allocate": ["none", "none", "all", "all", "all"],
                             "annotations_used": [0.0, 0.0, 100.0, 300.0, 5000.0]}, index=names)
    vals = dict(zip(names, (0.5, 0.45, 0.47, 0.40, 0.41)))
    levels = pd.DataFrame([{"source": v, "metric": "gold_nll", "bin": "all", "value": x,
                            "low": x - 0.01, "high": x + 0.01} for v, x in vals.items()])
    holds = {("human @ k=1", "gold"): True, ("human @ k=1", "smoothing"): False,
             ("human @ k=3", "gold"): True, ("human @ k=3", "smoothing"): True,
             ("human", "gold"): True, ("human", "smoothing"): False}
    diffs = []
    for (s, r), h in holds.items():
        d = vals[s] - vals[r]
        diffs.append({"source": s, "reference": r, "metric": "gold_nll", "bin": "all",
                      "difference": d, "low": d - 0.01, "high": d + 0.01, "holds": h,
                      "better": ("better" if d < 0 else "worse") if h else ""})
    intervals = {"levels": levels, "differences": pd.DataFrame(diffs), "confidence": 0.95}
    rows, best = cost_benefit_table(intervals, variants, "gold_nll", "all")
    assert best == "smoothing"
    assert [r.get("beats_all") for r in rows] == [None, None, False, True, False]
    text = "\n".join(cost_benefit_markdown(intervals, variants, 3))
    assert ("beats every zero-cost alternative on `gold_nll` first at k=3 (300 annotations "
            "per fit)") in text
    assert "but not at every vote" in text and "from k=3 on" not in text
    # when every larger budget wins too, the sentence says "from ... on"
    intervals["differences"].loc[intervals["differences"]["source"] == "human",
                                 ["holds", "better"]] = (True, "better")
    text = "\n".join(cost_benefit_markdown(intervals, variants, 3))
    assert "from k=3 on (300 annotations per fit)" in text and "but not at" not in text
    # and never, at the largest budget's cost
    intervals["differences"]["holds"] = False
    text = "\n".join(cost_benefit_markdown(intervals, variants, 3))
    assert ("never beats every zero-cost alternative on `gold_nll` within the budgets tried; "
            "at its largest (every vote, 5,000 annotations per fit)") in text
