"""Hostile input, round three (issue 28): one section per problem found by the sweep.

1. decompression bombs through bzip2 / lzma members, members held twice, MemoryError;
2. two studies on one ``--out``; 3. a failing run after a good one, stale figures, Ctrl-C;
4. difficulty bins beyond the items; 5. huge (and tiny) finite sample weights;
6. empty bootstrap resamples; 7. ``counts_to_soft``'s prior and huge counts;
8. huge class codes in annotations; 9. ``sksoft bench`` options; 10. the extended report on
object-dtype ``y_prob``; and a string ``X`` in a study ``.npz``.

The file-level cases go through the command line as a user meets them (``sksoft.cli.main``
in-process, or a subprocess where two processes are the point). Bombs are built here, small.
"""

import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import bounded_memory
from sksoft import metrics as M
from sksoft.annotations import counts_to_soft, dawid_skene, to_counts
from sksoft.cli import main

ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(28)
P = RNG.dirichlet(np.ones(3), size=60)
Y = RNG.integers(0, 3, 60)
Y_SOFT = RNG.dirichlet(np.ones(3), size=60)


def _cli_error(capsys, argv):
    """Run the CLI expecting ``sksoft: error:`` and exit 2; returns the message."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert "sksoft: error:" in err and "Traceback" not in err, err
    return err


# ---------------------------------------------------------------- 1. files
_ZEROS = 64 << 20  # what the bzip2 member inflates to (its compressed size: about 100 bytes)


def _npy_header(n_values):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False,
                                               "shape": (n_values,)})
    return buf.getvalue()


def _compressed_npz(path, method, big="y_prob", n_values=_ZEROS // 8, small="y_true"):
    """An .npz whose ``big`` member is ``n_values`` zeros compressed with ``method``."""
    with zipfile.ZipFile(path, "w", compression=method) as z:
        with z.open(f"{big}.npy", "w", force_zip64=True) as fh:
            fh.write(_npy_header(n_values))
            chunk = bytes(1 << 22)
            left = n_values * 8
            while left:
                fh.write(chunk[:min(left, len(chunk))])
                left -= min(left, len(chunk))
        buf = io.BytesIO()
        np.save(buf, np.zeros(3, dtype=np.int64))
        z.writestr(f"{small}.npy", buf.getvalue())
    return path


@pytest.fixture(scope="module")
def bzip2_bomb(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    return {"report": _compressed_npz(folder / "report.npz", zipfile.ZIP_BZIP2),
            "study": _compressed_npz(folder / "study.npz", zipfile.ZIP_BZIP2, "X", small="y_gold")}


@pytest.mark.parametrize("command", ["report", "study"])
def test_a_bzip2_bomb_is_refused_before_it_inflates(bzip2_bomb, command, tmp_path, capsys):
    path = bzip2_bomb[command]
    assert path.stat().st_size < 4096  # 64 MiB of zeros in a few hundred bytes
    argv = ["report", str(path)] if command == "report" else [
        "study", "--data", str(path), "--model", "logreg", "--no-progress", "--out",
        str(tmp_path / "out")]
    tracemalloc.start()
    try:
        with bounded_memory():
            err = _cli_error(capsys, argv)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "bzip2" in err and "stored or deflated" in err, err
    assert peak < 16 << 20, peak  # nothing near the 64 MiB was inflated
    assert not (tmp_path / "out").exists()  # the study never touched --out


def test_lzma_members_and_other_methods_are_refused(tmp_path):
    from sksoft._io import load_npz

    path = _compressed_npz(tmp_path / "lzma.npz", zipfile.ZIP_LZMA, n_values=1000)
    with pytest.raises(ValueError, match="lzma.*stored or deflated"):
        load_npz(path)
    # a member that declares more than the size limit is refused from its directory entry
    with pytest.raises(ValueError, match="limit"):
        load_npz(_compressed_npz(tmp_path / "big.npz", zipfile.ZIP_DEFLATED, n_values=1000),
                 max_bytes=1000)


def test_a_stored_member_is_read_without_a_second_copy(tmp_path):
    from sksoft._io import load_npz

    n = 4 << 20  # 32 MiB of float64
    path = tmp_path / "stored.npz"
    np.savez(path, y_prob=np.arange(n, dtype=np.float64))
    tracemalloc.start()
    try:
        got = load_npz(path)["y_prob"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got.shape == (n,) and got[-1] == n - 1 and got.flags.writeable
    assert peak < 1.25 * 8 * n, peak / (8 * n)  # the array, not the bytes and the array


@pytest.mark.parametrize("command", ["report", "study"])
def test_memory_error_anywhere_in_the_cli_is_an_error_exit(command, monkeypatch, capsys,
                                                           tmp_path):
    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 8.00 TiB for an array")

    if command == "report":
        monkeypatch.setattr(M, "calibration_report", no_memory)
        argv = ["report"]
    else:
        from sksoft.study import _runner

        monkeypatch.setattr(_runner, "run", no_memory)
        # (another test's monkeypatch of sksoft.study.run may have left a real attribute)
        monkeypatch.setattr("sksoft.study.run", no_memory)
        argv = ["study", "--out", str(tmp_path / "o")]
    err = _cli_error(capsys, argv)
    assert "out of memory" in err and "8.00 TiB" in err


# ---------------------------------------------------------------- 2-3. the output folder
_STUDY = ["study", "--model", "logreg", "--sources", "gold", "human", "--seeds", "1",
          "--folds", "2", "--n-bootstrap", "0", "--no-progress", "--no-figures", "--n-jobs", "1"]


def _own_npz(path, n=40, **changes):
    from sksoft.datasets import make_ambiguous_digits

    d = make_ambiguous_digits(random_state=1)
    arrays = {"X": d.X[:n], "y_gold": d.y_gold[:n], "counts": d.counts[:n]}
    arrays.update(changes)
    np.savez(path, **arrays)
    return str(path)


def _snapshot(folder):
    """The run's files in ``folder`` (not the staging folder of a run in progress)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(Path(folder).rglob("*"))
            if p.is_file() and ".sksoft-staging" not in p.parts}


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


_HELD_RUN = r"""
import sys, time
from pathlib import Path
from sksoft.study import _runner
from sksoft.cli import main

flag = Path(sys.argv[1])
real = _runner.fit_one

def held(task, data, cfg):  # the first fit waits until the test lets it go
    if not (flag / "go").exists():
        (flag / "started").touch()
        while not (flag / "go").exists():
            time.sleep(0.05)
    return real(task, data, cfg)

_runner.fit_one = held
sys.exit(main(sys.argv[2:]))
"""


def test_a_second_study_on_the_same_out_is_refused_while_the_first_runs(tmp_path, capsys):
    out = tmp_path / "out"
    flag = tmp_path / "flag"
    flag.mkdir()
    script = tmp_path / "held.py"
    script.write_text(_HELD_RUN)
    data = _own_npz(tmp_path / "mine.npz")
    first = subprocess.Popen(
        [sys.executable, str(script), str(flag), *_STUDY, "--data", data, "--out", str(out)],
        env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not (flag / "started").exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first study did not start"
            time.sleep(0.1)
        # the first study holds --out: a second one (other sources, same folder) is refused
        err = _cli_error(capsys, [*_STUDY[:4], "teacher", *_STUDY[6:], "--data", data,
                                  "--out", str(out)])
        assert "in use by another sksoft study" in err and str(first.pid) in err, err
        (flag / "go").touch()
        stdout, stderr = first.communicate(timeout=300)
    finally:
        (flag / "go").touch()
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, stderr
    # the folder holds the first run only: config, results and summary agree
    import pandas as pd

    cfg = json.loads((out / "config.json").read_text())
    assert cfg["config"]["sources"] == ["gold", "human"]
    df = pd.read_csv(out / "results.csv")
    assert set(df["source"]) == {"gold", "human"}
    assert len(df[["regime", "source", "seed", "fold"]].drop_duplicates()) == 2 * 2 * 2
    assert "teacher" not in (out / "summary.md").read_text()
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json", "curves.csv", "dynamics.csv", "results.csv", "summary.md"]


def test_a_failing_run_after_a_good_one_keeps_the_good_results(tmp_path, capsys):
    out = tmp_path / "out"
    good = _own_npz(tmp_path / "good.npz")
    assert main([*_STUDY, "--data", good, "--out", str(out)]) == 0
    capsys.readouterr()
    before = _snapshot(out)
    assert {"results.csv", "summary.md", "config.json"} <= set(before)
    # a bad y_gold in an own-data .npz: refused before --out is touched
    bad = _own_npz(tmp_path / "bad.npz", y_gold=np.full(40, 99))
    err = _cli_error(capsys, [*_STUDY, "--data", bad, "--out", str(out)])
    assert "y_gold" in err
    assert _snapshot(out) == before
    # bad options too
    _cli_error(capsys, [*_STUDY, "--data", good, "--out", str(out), "--difficulty-bins", "0"])
    assert _snapshot(out) == before


def test_a_run_that_fails_midway_leaves_the_earlier_run_and_keeps_its_fits(tmp_path,
                                                                         monkeypatch, capsys):
    import pandas as pd

    from sksoft.study import _runner, run

    out = tmp_path / "out"
    data = _own_npz(tmp_path / "good.npz")
    kw = dict(data=data, model="logreg", sources=("gold",), seeds=1, folds=2, n_bootstrap=0,
              progress=False, figures=False, n_jobs=1, out=str(out))
    run(**kw)
    before = _snapshot(out)
    real, calls = _runner.fit_one, {"n": 0}

    def broken(task, data, cfg):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("a fit crashed")
        return real(task, data, cfg)

    monkeypatch.setattr(_runner, "fit_one", broken)
    with pytest.raises(RuntimeError, match="a fit crashed"):
        run(**{**kw, "sources": ("human",)})
    assert _snapshot(out) == before
    assert "keeps the earlier run's files" in capsys.readouterr().err
    staged = pd.read_csv(out / ".sksoft-staging" / "results.csv")
    assert set(staged["source"]) == {"human"}  # the failed run's finished fit is kept
    monkeypatch.setattr(_runner, "fit_one", real)
    run(**kw)  # the next run clears the leftovers and is not refused (the lock was released)
    assert not (out / ".sksoft-staging").exists()


def test_a_new_run_removes_the_figures_and_cartography_of_an_earlier_one(tmp_path, capsys):
    out = tmp_path / "out"
    data = _own_npz(tmp_path / "good.npz")
    assert main([*_STUDY, "--data", data, "--out", str(out)]) == 0
    # an earlier run with figures and networks left these (and the user's own file)
    for stale in ("figures/regularised/reliability.png",
                  "cartography/regularised/human/training_dynamics/dynamics_epoch_1.jsonl"):
        (out / stale).parent.mkdir(parents=True, exist_ok=True)
        (out / stale).write_text("an earlier run")
    (out / "notes.txt").write_text("mine")
    assert main([*_STUDY, "--data", data, "--out", str(out)]) == 0
    assert not (out / "figures").exists() and not (out / "cartography").exists()
    assert (out / "notes.txt").read_text() == "mine"


def test_ctrl_c_after_a_good_run_leaves_one_consistent_partial_run(tmp_path, monkeypatch):
    import pandas as pd

    from sksoft.study import _runner, run

    out = tmp_path / "out"
    data = _own_npz(tmp_path / "good.npz")
    kw = dict(data=data, model="logreg", seeds=1, folds=2, n_bootstrap=0, progress=False,
              figures=False, n_jobs=1, out=str(out))
    run(sources=("gold", "human"), **kw)
    real, calls = _runner.fit_one, {"n": 0}

    def interrupted(task, data, cfg):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(task, data, cfg)

    monkeypatch.setattr(_runner, "fit_one", interrupted)
    res = run(sources=("teacher", "smoothing"), **kw)
    assert not res.complete and res.out == out
    df = pd.read_csv(out / "results.csv")
    assert set(df["source"]) <= {"teacher", "smoothing"}  # nothing of the earlier run
    assert len(df[["regime", "source", "seed", "fold"]].drop_duplicates()) == 2
    assert json.loads((out / "config.json").read_text())["config"]["sources"] == [
        "teacher", "smoothing"]
    assert "interrupted" in (out / "summary.md").read_text()
    assert not (out / ".sksoft-staging").exists() and not (out / ".sksoft-study.lock").exists()


# ---------------------------------------------------------------- 4. difficulty bins
def test_more_difficulty_bins_than_fold_items_is_an_error_before_any_fit(tmp_path, capsys):
    data = _own_npz(tmp_path / "mine.npz", n=40)
    err = _cli_error(capsys, [*_STUDY, "--data", data, "--out", str(tmp_path / "o"),
                              "--difficulty-bins", "25"])
    assert "difficulty_bins (25)" in err and "= 20" in err
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- 5. weights
def _values(obj):
    """The numbers of a metric's result, flat (floats, estimates, dataclasses, reports)."""
    if isinstance(obj, M.CalibrationReport):
        return obj.to_frame().drop(columns=["weight"]).to_numpy(dtype=float).ravel()
    if hasattr(obj, "__dataclass_fields__"):
        return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for k, v in vars(obj).items()
                               if k not in ("counts", "weights", "total_weight", "per_class")
                               and v is not None and np.asarray(v).dtype.kind in "fiu"])
    return np.ravel(np.asarray(obj, dtype=float))


_WEIGHTED = {
    "ece": lambda w: M.expected_calibration_error(Y, P, sample_weight=w),
    "rmsce_debiased": lambda w: M.expected_calibration_error(Y, P, norm="l2", debias=True,
                                                             sample_weight=w),
    "classwise": lambda w: M.classwise_calibration_error(Y, P, sample_weight=w),
    "report": lambda w: M.calibration_report(Y, P, sample_weight=w, extended=True),
    "brier": lambda w: M.brier_score_loss(Y_SOFT, P, sample_weight=w),
    "decomposition": lambda w: M.score_decomposition(Y, P, sample_weight=w, mode="top-label"),
    "smooth": lambda w: M.smooth_calibration_error(Y, P, sample_weight=w, mode="top-label"),
    "entropy_correlation": lambda w: M.entropy_correlation(Y_SOFT, P, sample_weight=w),
    "difficulty_bins": lambda w: M.difficulty_bins(M.difficulty_scores(Y_SOFT),
                                                   sample_weight=w)[1],
}


@pytest.mark.parametrize("scale", [1e307, 1e-300])
@pytest.mark.parametrize("name", list(_WEIGHTED))
def test_metrics_are_scale_free_in_extreme_weights(name, scale):
    w = RNG.uniform(0.5, 1.0, 60)
    want = _values(_WEIGHTED[name](w))
    with np.errstate(over="raise", invalid="raise"):  # no overflow or NaN on the way
        got = _values(_WEIGHTED[name](w * scale))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_weights_that_cannot_be_rescaled_are_refused_naming_sample_weight():
    from sksoft.linear_model import SoftLogisticRegression

    # out of core, chunks cannot be rescaled one by one
    chunks = (P[i:i + 20] for i in range(0, 60, 20))
    with pytest.raises(ValueError, match="sample_weight"):
        M.expected_calibration_error(Y, chunks, sample_weight=np.full(60, 1e307))
    # an estimator's loss is not scale-free: an overflowing total is refused
    with pytest.raises(ValueError, match="sample_weight"):
        SoftLogisticRegression().fit(RNG.normal(size=(60, 2)), Y,
                                     sample_weight=np.full(60, 1e307))


# ---------------------------------------------------------------- 6. empty resamples
@pytest.mark.parametrize("n_rows", [1, 2, 3])
def test_empty_resamples_are_dropped_not_scored(n_rows):
    # every non-empty resample of identical rows has the point's value
    y, p = np.ones(n_rows, dtype=int), np.tile([[0.7, 0.3]], (n_rows, 1))
    for fn in (M.expected_calibration_error, M.classwise_calibration_error, M.accuracy_score,
               M.brier_score_loss):
        e = fn(y, p, n_bootstrap=300, random_state=0)
        assert e.low == pytest.approx(float(e)) and e.high == pytest.approx(float(e)), fn
        assert 0 < 300 - e.n_replicates  # e^-n of them were empty, and counted
    rep = M.calibration_report(y, p, n_bootstrap=300, random_state=0, extended=True)
    for name in ("ece", "mce", "brier", "smooth_ece", "brier_mcb"):
        assert rep[name].low == pytest.approx(float(rep[name])), name


def test_cluster_bootstrap_drops_resamples_without_any_cluster():
    y, p = Y[:30], P[:30]
    clusters = np.arange(30) % 3
    e = M.expected_calibration_error(y, p, n_bootstrap=1000, random_state=0, clusters=clusters)
    assert e.low > 0.05  # with all clusters at weight 0 in 5% of replicates, it was 0.0
    assert 900 < e.n_replicates < 1000
    rep = M.calibration_report(y, p, n_bootstrap=200, random_state=0, clusters=clusters)
    assert rep["ece"].low > 0.05


# ---------------------------------------------------------------- 7-8. annotations
def test_counts_to_soft_refuses_an_infinite_prior_and_unrepresentable_counts():
    with pytest.raises(ValueError, match="prior"):
        counts_to_soft([[1, 2]], prior=np.inf)
    with pytest.raises(ValueError, match="prior"):
        counts_to_soft([[1, 2]], prior=1e308)
    with pytest.raises(ValueError, match="counts"):
        counts_to_soft([[1e308, 1e308]])
    np.testing.assert_allclose(counts_to_soft([[2.0**52, 2.0**52]]), [[0.5, 0.5]])


@pytest.mark.parametrize("fn", [to_counts, dawid_skene])
def test_a_huge_class_code_is_a_value_error_naming_annotations(fn):
    with bounded_memory():
        with pytest.raises(ValueError, match="annotations"):
            fn(np.array([[2.0**40, 1]]))
        with pytest.raises(ValueError, match="n_classes"):
            fn(np.array([[0.0, 1]]), n_classes=2**40)


def test_a_huge_class_code_in_an_own_data_npz_is_refused_by_the_study(tmp_path, capsys):
    wide = np.zeros((40, 3))
    wide[0, 0] = 2.0**40
    data = _own_npz(tmp_path / "mine.npz", annotations=wide)
    err = _cli_error(capsys, [*_STUDY, "--data", data, "--out", str(tmp_path / "o")])
    assert "annotations" in err


# ---------------------------------------------------------------- 9. bench options
@pytest.mark.parametrize("argv, option", [
    (["--sizes", "inf"], "--sizes"), (["--sizes", "nan"], "--sizes"),
    (["--sizes", "1e9"], "--sizes"), (["--sizes", "-3"], "--sizes"),
    (["--sizes", "2.5"], "--sizes"), (["--classes", "100000"], "--classes"),
    (["--classes", "1"], "--classes"), (["--repeat", "0"], "--repeat"),
])
def test_bench_options_are_checked_naming_the_option(argv, option, capsys):
    with bounded_memory():
        err = _cli_error(capsys, ["bench", "--no-peers", *argv])
    assert option in err


@pytest.mark.parametrize("content", ['{"other": 1}', '{"rows": [{"n": 1}]}', "[1, 2]",
                                     "not json", '{"rows": 3}'])
def test_bench_markdown_of_another_file_names_the_option(content, tmp_path, capsys):
    path = tmp_path / "other.json"
    path.write_text(content)
    err = _cli_error(capsys, ["bench", "--markdown", str(path)])
    assert "--markdown" in err and "sksoft bench --json" in err


def test_bench_markdown_of_a_saved_json_prints_its_table(tmp_path, capsys):
    path = tmp_path / "saved.json"
    path.write_text(json.dumps({"rows": [
        {"n": 10, "K": 2, "dtype": "float32", "method": "read-once floor", "seconds": 1e-3,
         "ratio_to_floor": 1.0}]}))
    assert main(["bench", "--markdown", str(path)]) == 0
    assert "read-once floor" in capsys.readouterr().out


# ---------------------------------------------------------------- 10. object y_prob
def test_the_extended_report_accepts_object_y_prob_like_the_plain_one():
    P_obj = P.astype(object)
    want = M.calibration_report(Y, P, extended=True).to_frame()
    got = M.calibration_report(Y, P_obj, extended=True).to_frame()
    np.testing.assert_allclose(got.to_numpy(dtype=float), want.to_numpy(dtype=float))


# ---------------------------------------------------------------- strings in a study .npz
@pytest.mark.parametrize("key", ["X", "images"])
def test_a_string_x_in_a_study_npz_is_refused(key, tmp_path, capsys):
    from sksoft.study import own_data

    X = np.array([[f"{v:.3f}" for v in row] for row in RNG.uniform(size=(40, 4))])
    arrays = {"y_gold": Y[:40], "soft_labels": Y_SOFT[:40],
              key: X if key == "X" else X.reshape(40, 1, 2, 2)}
    with pytest.raises(TypeError, match=rf"{key} must hold real numbers"):
        own_data(arrays)
    path = tmp_path / "strings.npz"
    np.savez(path, **arrays)
    err = _cli_error(capsys, [*_STUDY, "--data", str(path), "--out", str(tmp_path / "o")])
    assert f"{key} must hold real numbers" in err
