"""Out-of-core metrics and the Dask backend (a real process-based LocalCluster)."""

import builtins

import numpy as np
import pytest

from conftest import random_probs
from sksoft.label_sources import GoldLabels, HumanSoftLabels, LabelSmoothing
from sksoft.linear_model import SoftLogisticRegression
from sksoft.metrics import (
    brier_score_loss,
    calibration_report,
    classwise_calibration_error,
    log_loss,
    expected_calibration_error,
)

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")


def _case(n=5000, K=4, soft=False, seed=0):
    rng = np.random.default_rng(seed)
    p = random_probs(rng, n, K).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    y = random_probs(rng, n, K, "grid") if soft else rng.integers(0, K, n)
    return y, p


@pytest.mark.parametrize("soft", [False, True])
def test_dask_arrays_equal_in_memory(soft):
    y, p = _case(soft=soft)
    w = np.random.default_rng(1).uniform(0, 2, len(p))
    ref = calibration_report(y, p, sample_weight=w)
    dy = da.from_array(y, chunks=(1700,) + y.shape[1:])
    dp = da.from_array(p, chunks=(1100, 2))  # column chunks are merged, row chunks aligned
    got = calibration_report(dy, dp, sample_weight=da.from_array(w, chunks=900))
    for key in ("accuracy", "ece", "mce", "rmsce", "classwise_ece", "brier", "cross_entropy",
                "kl_divergence", "jensen_shannon", "total_variation", "entropy_pred"):
        assert got[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-12), key
    assert expected_calibration_error(dy, dp, norm="max") == pytest.approx(
        expected_calibration_error(y, p, norm="max"))
    assert np.isfinite(got.overall["entropy_pearson"]) == soft


def test_memmap_and_iterators_equal_in_memory(tmp_path):
    y, p = _case(n=3001)
    path = tmp_path / "p.f32"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=p.shape)
    mm[:] = p
    mm.flush()
    del mm
    mm = np.memmap(path, dtype=np.float32, mode="r", shape=p.shape)
    from sksoft.metrics import _chunked

    chunks = list(_chunked.iter_chunks(mm, chunk_rows=1000))
    assert [c.shape[0] for c in chunks] == [1000, 1000, 1000, 1]
    assert expected_calibration_error(y, mm) == pytest.approx(expected_calibration_error(y, p))
    assert classwise_calibration_error(y, mm) == pytest.approx(classwise_calibration_error(y, p))
    gen_p = (p[i:i + 500] for i in range(0, len(p), 500))
    gen_y = (y[i:i + 500] for i in range(0, len(y), 500))
    assert brier_score_loss(gen_y, gen_p) == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    with pytest.raises(ValueError, match="quantile"):
        expected_calibration_error(y, mm, strategy="quantile")
    with pytest.raises(ValueError, match="fewer rows"):
        log_loss(iter([y[:10]]), iter([p[:10], p[10:20]]))
    with pytest.raises(ValueError, match="y_prob contains NaN"):
        bad = p.copy()
        bad[2000, 0] = np.nan
        log_loss(da.from_array(y, chunks=1000), da.from_array(bad, chunks=(1000, 4)))


def test_out_of_core_with_in_memory_labels_groups_and_weights(tmp_path):
    # y_prob out of core (dask with its own row chunks, a memmap, an iterator of uneven
    # chunks); y_true, sample_weight and groups in memory follow its chunks
    y, p = _case(n=4001)
    rng = np.random.default_rng(3)
    w = rng.uniform(0, 2, len(p))
    groups = rng.choice(np.array(["easy", "mid", "hard"]), len(p))
    ref = calibration_report(y, p, groups=groups, sample_weight=w)
    path = tmp_path / "p.f32"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=p.shape)
    mm[:] = p
    mm.flush()
    cuts = [0, 7, 1500, 1501, 3999, 4001]
    sources = {
        "dask": da.from_array(p, chunks=(1300, 4)),
        "memmap": np.memmap(path, dtype=np.float32, mode="r", shape=p.shape),
        "iterator": (p[a:b] for a, b in zip(cuts[:-1], cuts[1:])),
    }
    for name, src in sources.items():
        got = calibration_report(y, src, groups=groups, sample_weight=w)
        assert sorted(got.groups) == sorted(ref.groups), name
        for g in ref.groups:
            for key in ("n_samples", "ece", "classwise_ece", "brier", "cross_entropy",
                        "entropy_pred"):
                assert got.groups[g][key] == pytest.approx(
                    ref.groups[g][key], rel=1e-9, abs=1e-12), (name, g, key)
        assert got["ece"] == pytest.approx(ref["ece"], rel=1e-9), name
    # groups as a dask array or memmap: coded up front, same result
    dg = da.from_array(groups, chunks=999)
    got = calibration_report(y, da.from_array(p, chunks=(700, 4)), groups=dg)
    assert got.groups["hard"]["ece"] == pytest.approx(
        calibration_report(y, p, groups=groups).groups["hard"]["ece"], rel=1e-9)
    with pytest.raises(ValueError, match="not an iterator"):
        calibration_report(y, sources["memmap"], groups=iter(groups))
    with pytest.raises(ValueError, match="groups has fewer rows"):
        calibration_report(y, sources["memmap"], groups=groups[:-1])
    with pytest.raises(ValueError, match="groups has 4002 rows, y_prob 4001"):
        calibration_report(y, sources["memmap"], groups=np.append(groups, "mid"))
    with pytest.raises(ValueError, match="sample_weight has fewer rows"):
        calibration_report(y, da.from_array(p, chunks=(1300, 4)), sample_weight=w[:-5])
    with pytest.raises(ValueError, match="y_true has 4002 rows"):
        calibration_report(np.append(y, 0), da.from_array(p, chunks=(1300, 4)))


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_gridsearch_on_dask_equals_sequential(client):
    import joblib
    from sklearn.model_selection import GridSearchCV

    from sksoft.metrics import get_scorer
    from sksoft.model_selection import SoftStratifiedKFold

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    human = rng.dirichlet(np.ones(3), size=300)
    grid = {"label_source": [GoldLabels(), HumanSoftLabels(), LabelSmoothing(epsilon=0.2)],
            "C": [0.1, 1.0]}
    kw = dict(scoring={"nll": get_scorer("neg_log_loss"),
                       "ece": get_scorer("neg_expected_calibration_error")},
              refit="nll", cv=SoftStratifiedKFold(4, shuffle=True, random_state=0))
    seq = GridSearchCV(SoftLogisticRegression(), grid, **kw).fit(X, human)
    with joblib.parallel_config(backend="dask"):
        par = GridSearchCV(SoftLogisticRegression(), grid, n_jobs=-1, **kw).fit(X, human)
    for key in ("mean_test_nll", "mean_test_ece", "split3_test_nll"):
        np.testing.assert_array_equal(par.cv_results_[key], seq.cv_results_[key])
    assert par.best_index_ == seq.best_index_
    assert len(client.scheduler_info()["workers"]) == 2


def test_study_on_dask_equals_sequential(client, tmp_path):
    from sksoft.study import run

    kw = dict(model="logreg", sources=("gold", "human", "mode_aligned"), seeds=2, folds=2,
              progress=False, figures=False)
    seq = run(out=str(tmp_path / "seq"), backend="sequential", **kw).results
    par = run(out=str(tmp_path / "dask"), backend="dask", scheduler=client.scheduler.address,
              **kw).results
    key = ["regime", "source", "seed", "fold", "bin", "metric"]
    a = seq[seq["metric"] != "fit_seconds"].sort_values(key).reset_index(drop=True)
    b = par[par["metric"] != "fit_seconds"].sort_values(key).reset_index(drop=True)
    import pandas as pd

    pd.testing.assert_frame_equal(a, b)


def test_missing_dask_names_the_extra(monkeypatch):
    from sksoft.study import _dask

    real_import = builtins.__import__

    def fake(name, *args, **kwargs):
        if name in ("dask", "distributed"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"sksoft\[dask\]"):
        _dask.require_dask()
