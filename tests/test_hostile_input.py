"""Hostile and careless input to the metrics and file readers: no silent wrong answer.

Each numbered test is an item of the hostile-input issue; each failed before its fix.
"""

import gzip
import io
import re
import tarfile
import time
import zipfile

import numpy as np
import pytest

from conftest import random_probs
from sksoft import metrics as M
from sksoft._io import load_npz, read_tar_member

P2 = np.array([[0.9, 0.1], [0.2, 0.8]])
P3 = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8]])

HARD_METRICS = [M.accuracy_score, M.brier_score_loss, M.log_loss, M.kl_divergence,
                M.jensen_shannon_divergence, M.total_variation,
                M.expected_calibration_error, M.classwise_calibration_error,
                lambda y, p: M.calibration_report(y, p)["ece"]]


# ---------------------------------------------------------------- 1. one label rule
@pytest.mark.parametrize("metric", HARD_METRICS)
@pytest.mark.parametrize("y, P, bad", [([-1, 0], P2, "-1"), ([0, 5], P2, "5"),
                                       ([0, 1, 3], P3, "3"), ([1, 2, 3], P3, "3")])
def test_labels_outside_the_columns_are_named_not_remapped(metric, y, P, bad):
    with pytest.raises(ValueError, match=rf"labels outside \[0, {P.shape[1]}\): {bad}"):
        metric(np.array(y), P)


def test_labels_argument_is_the_only_remapping():
    y = np.array(["b", "a", "c"])
    assert M.accuracy_score(y, P3, labels=["a", "b", "c"]) == pytest.approx(1 / 3)
    assert M.accuracy_score(y, P3, labels=["b", "a", "c"]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"labels=\[\.\.\.\]"):
        M.accuracy_score(y, P3)
    with pytest.raises(ValueError, match="not in `labels`"):
        M.accuracy_score(y, P3, labels=["a", "b", "d"])
    # a subset of the classes present is fine: codes are columns, not ranks
    assert M.accuracy_score(np.array([2, 2, 2]), P3) == pytest.approx(1 / 3)


# ---------------------------------------------------------------- 2. out of core = in memory
def _sources(tmp_path, p, chunk):
    import dask.array as da

    mm_path = tmp_path / "p.dat"
    mm = np.memmap(mm_path, dtype=p.dtype, mode="w+", shape=p.shape)
    mm[:] = p
    mm.flush()
    ro = np.memmap(mm_path, dtype=p.dtype, mode="r", shape=p.shape)
    return {
        "memmap": lambda: ro,
        "dask": lambda: da.from_array(p, chunks=(chunk, p.shape[1])),
        "iterator": lambda: iter([p[i:i + chunk] for i in range(0, p.shape[0], chunk)]),
    }


@pytest.mark.parametrize("soft", [False, True])
def test_every_metric_out_of_core_equals_in_memory_with_late_labels(tmp_path, soft):
    rng = np.random.default_rng(0)
    n, K, chunk = 3000, 4, 1000
    p = random_probs(rng, n, K)
    # labels 2 and 3 appear only after the first chunk
    y = np.where(np.arange(n) < chunk, rng.integers(0, 2, n), rng.integers(0, K, n))
    if soft:
        y = random_probs(rng, n, K, "grid")
    w = rng.uniform(0.1, 2, n)
    fns = {
        "ece": lambda yy, pp: M.expected_calibration_error(yy, pp, sample_weight=w),
        "mce": lambda yy, pp: M.expected_calibration_error(yy, pp, norm="max"),
        "classwise": lambda yy, pp: M.classwise_calibration_error(yy, pp),
        "accuracy": M.accuracy_score, "brier": M.brier_score_loss, "ce": M.log_loss,
        "kl": M.kl_divergence, "js": M.jensen_shannon_divergence, "tv": M.total_variation,
        "curve": lambda yy, pp: M.reliability_curve(yy, pp).count.tolist(),
    }
    for name, make in _sources(tmp_path, p, chunk).items():
        for metric, fn in fns.items():
            want = fn(y, p)
            got = fn(y, make())
            assert got == pytest.approx(want, rel=1e-10), (name, metric)
        rep, want = M.calibration_report(y, make(), sample_weight=w), M.calibration_report(
            y, p, sample_weight=w)
        for key in ("accuracy", "ece", "classwise_ece", "brier", "cross_entropy"):
            assert rep[key] == pytest.approx(want[key], rel=1e-10), (name, key)
    # labels that are not column codes fail everywhere alike (before: remapped in memory by
    # their sorted order, used as codes in chunks where they happened to be in range)
    if not soft:
        shifted = y - 1
        with pytest.raises(ValueError, match=r"labels outside \[0, 4\): -1"):
            M.accuracy_score(shifted, p)
        for name, make in _sources(tmp_path, p, chunk).items():
            with pytest.raises(ValueError, match=r"labels outside \[0, 4\): -1"):
                M.accuracy_score(shifted, make())
    # string labels decode the same way in every chunk
    names = np.array(list("abcd"))
    ys = names[rng.integers(0, K, n)]
    ys[:chunk] = "a"
    for name, make in _sources(tmp_path, p, chunk).items():
        assert M.accuracy_score(ys, make(), labels=names) == pytest.approx(
            M.accuracy_score(ys, p, labels=names)), name


# ---------------------------------------------------------------- 3. scalar sample weights
@pytest.mark.parametrize("bad", [np.nan, -1.0, 0.0, np.inf])
def test_scalar_sample_weight_is_checked_like_an_array(bad):
    rng = np.random.default_rng(1)
    p = random_probs(rng, 50, 3)
    y = rng.integers(0, 3, 50)
    soft = random_probs(rng, 50, 3, "grid")
    from sksoft.calibration import fit_temperature
    from sksoft.linear_model import SoftLogisticRegression

    calls = [
        lambda: M.expected_calibration_error(y, p, sample_weight=bad),
        lambda: M.calibration_report(y, p, sample_weight=bad),
        lambda: M.entropy_correlation(soft, p, sample_weight=bad),
        lambda: M.difficulty_bins(np.arange(50.0), sample_weight=bad),
        lambda: fit_temperature(y, p, sample_weight=bad),
        lambda: SoftLogisticRegression().fit(rng.normal(size=(50, 2)), soft, sample_weight=bad),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="sample_weight"):
            call()
    assert M.expected_calibration_error(y, p, sample_weight=2.5) == pytest.approx(
        M.expected_calibration_error(y, p))


# ---------------------------------------------------------------- 4. eps
@pytest.mark.parametrize("eps", [2.0, np.nan, -1.0, 0.5, np.inf])
def test_eps_outside_zero_to_one_over_k_is_refused(eps):
    with pytest.raises(ValueError, match="eps"):
        M.log_loss([0, 1], P2, eps=eps)
    with pytest.raises(ValueError, match="eps"):
        M.calibration_report([0, 1], P2, eps=eps)


def test_eps_inside_the_range_clips():
    P = np.array([[1.0, 0.0]])
    assert M.log_loss([1], P, eps=0.1) == pytest.approx(-np.log(0.1))
    assert M.log_loss([1], P, eps=0.0) == np.inf
    with pytest.raises(TypeError, match="eps"):
        M.log_loss([1], P, eps="small")


# ---------------------------------------------------------------- 5. junk dtypes
@pytest.mark.parametrize("make, exc", [
    (lambda P: P + 5j, ValueError),
    (lambda P: P.astype(object) + 5j, TypeError),
    (lambda P: np.array([["a", "b"], ["c", "d"]]), TypeError),
    (lambda P: np.array([[None, 1.0], [0.5, 0.5]], dtype=object), TypeError),
    (lambda P: P.astype("datetime64[s]"), TypeError),
])
def test_non_real_y_prob_is_refused_before_any_cast(make, exc):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning: refused, not cast
        with pytest.raises(exc, match="y_prob"):
            M.expected_calibration_error([0, 1], make(P2))


def test_object_array_of_floats_is_fine():
    assert M.accuracy_score([0, 1], P2.astype(object)) == 1.0


# ---------------------------------------------------------------- 6. torch tensors as X
def _net(**kw):
    from sksoft.neural_network import SoftNeuralNetClassifier

    return SoftNeuralNetClassifier(max_epochs=2, batch_size=32, random_state=0, **kw)


def test_a_tensor_X_is_accepted_and_fits_like_the_array():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 4)).astype(np.float32)
    Y = random_probs(rng, 60, 3)
    want = _net().fit(X, Y).predict_proba(X)
    net = _net().fit(torch.from_numpy(X), Y)  # before: "MLP needs input_units..."
    assert net.input_shape_ == (4,) and net.n_features_in_ == 4
    np.testing.assert_array_equal(net.predict_proba(torch.from_numpy(X)), want)
    # float64 tensors are cast to float32, as arrays are
    np.testing.assert_array_equal(
        _net().fit(torch.from_numpy(X.astype(np.float64)), Y).predict_proba(X), want)
    with pytest.raises(ValueError, match=r"X has samples of shape \(5,\)"):
        net.predict_proba(torch.zeros(3, 5))


def test_a_dict_X_of_arrays_and_tensors_fits():
    torch = pytest.importorskip("torch")

    class TwoInputs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(4, 3)

        def forward(self, a, b):
            return self.linear(a + b)

    rng = np.random.default_rng(4)
    X = {"a": rng.normal(size=(60, 4)).astype(np.float32), "b": torch.zeros(60, 4)}
    net = _net(module=TwoInputs).fit(X, random_probs(rng, 60, 3))  # before: "X must be ..."
    assert net.predict_proba(X).shape == (60, 3)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_tensor_X_with_nan_or_inf_is_refused(value):
    torch = pytest.importorskip("torch")
    X = torch.zeros(40, 3)
    X[17, 1] = value
    Y = random_probs(np.random.default_rng(5), 40, 2)
    with pytest.raises(ValueError, match=r"X contains NaN or infinity \(first in row 17\)"):
        _net().fit(X, Y)  # before: trained to NaN probabilities
    fitted = _net().fit(torch.zeros(40, 3), Y)
    with pytest.raises(ValueError, match="X contains NaN"):
        fitted.predict_proba(X)


@pytest.mark.parametrize("make, exc, match", [
    (lambda t: t.zeros(20, 3, dtype=t.int64), TypeError, "floating-point tensor"),
    (lambda t: t.zeros(20, 3, dtype=t.complex64), TypeError, "floating-point tensor"),
    (lambda t: t.zeros(20, 3).to_sparse(), TypeError, "sparse"),
    (lambda t: t.zeros(20), ValueError, "shape"),
    (lambda t: {"X": t.zeros(20, 3), "Z": t.zeros(5, 3)}, ValueError, "numbers of rows"),
    (lambda t: {"X": t.full((20, 3), float("nan"))}, ValueError, r"X\['X'\] contains NaN"),
])
def test_bad_tensors_and_dicts_are_refused(make, exc, match):
    torch = pytest.importorskip("torch")
    Y = random_probs(np.random.default_rng(6), 20, 2)
    with pytest.raises(exc, match=match):
        _net().fit(make(torch), Y)


# ---------------------------------------------------------------- 7. non-contiguous labels
def test_non_contiguous_and_read_only_labels(tmp_path):
    rng = np.random.default_rng(2)
    p = random_probs(rng, 200, 3)
    y = rng.integers(0, 3, 400)
    Y = np.column_stack([y, y])
    want = M.expected_calibration_error(y[::2].copy(), p)
    assert M.expected_calibration_error(y[::2], p) == want
    assert M.expected_calibration_error(Y[::2, 0], p) == want
    ro = y[::2].copy()
    ro.setflags(write=False)
    assert M.expected_calibration_error(ro, p) == want
    mm = np.memmap(tmp_path / "y.dat", dtype=np.int64, mode="w+", shape=(400,))
    mm[:] = y
    assert M.expected_calibration_error(mm[::2], p) == want
    stats = M.CalibrationStats(3).update(Y[::2, 0], p)
    assert stats.compute()["ece"] == pytest.approx(want)
    assert M.expected_calibration_error(y[::2].astype(np.int32), p) == want


# ---------------------------------------------------------------- 8. global rows in errors
def test_errors_of_chunked_input_name_the_global_row(tmp_path):
    import dask.array as da

    rng = np.random.default_rng(3)
    p = random_probs(rng, 3000, 3)
    p[1500] = np.nan
    y = rng.integers(0, 3, 3000)
    for name, make in _sources(tmp_path, p, 1000).items():
        with pytest.raises(ValueError, match="first in row 1500"):
            M.expected_calibration_error(y, make())
    with pytest.raises(ValueError, match="first in row 1500"):
        M.calibration_report(y, da.from_array(p, chunks=(700, 3)))


# ---------------------------------------------------------------- 10. absurd bin counts
def test_absurd_bin_counts_are_refused_quickly():
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="n_bins"):
        M.calibration_report([0, 1], P2.astype(np.float32), n_bins=10**6)
    with pytest.raises(ValueError, match="n_bins"):
        M.expected_calibration_error([0, 1], P2, n_bins=10**7)
    assert M.expected_calibration_error([0, 1], P2.astype(np.float32), n_bins=10_000) >= 0
    from sksoft.metrics._binning import float32_trunc_is_exact

    float32_trunc_is_exact.cache_clear()
    float32_trunc_is_exact(9999)
    # (generous: the refusal is immediate and the check is vectorised; it took minutes before)
    assert time.perf_counter() - t0 < 30


# ---------------------------------------------------------------- 11. equal_mass_edges
@pytest.mark.parametrize("values, n_bins, kw, exc, match", [
    ([0.1, np.nan], 2, {}, ValueError, "NaN"),
    ([0.1, 0.2], 0, {}, ValueError, "n_bins"),
    ([0.1, 0.2], 2.5, {}, TypeError, "n_bins"),
    ([0.1, 0.2], 2, {"sample_weight": [-1, 1]}, ValueError, "non-negative"),
    ([[0.1, 0.2]], 2, {}, ValueError, "1-D"),
    ([], 2, {}, ValueError, "empty"),
    (["a", "b"], 2, {}, TypeError, "real numbers"),
])
def test_equal_mass_edges_checks_its_input(values, n_bins, kw, exc, match):
    with pytest.raises(exc, match=match):
        M.equal_mass_edges(np.array(values), n_bins, **kw)


# ---------------------------------------------------------------- 9. files, bombs
def _bomb(path, big="y_prob", small="y_true"):
    """An .npz whose ``big`` member declares 80 MB of zeros in about 80 KB."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**7,)})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open(f"{big}.npy", "w", force_zip64=True) as fh:
            fh.write(header.getvalue())
            for _ in range(8):
                fh.write(bytes(10**7))
        buf = io.BytesIO()
        np.save(buf, np.zeros(3, dtype=np.int64))
        z.writestr(f"{small}.npy", buf.getvalue())
    return path


def _bad_files(tmp_path, big="y_prob", small="y_true"):
    """Every kind of bad file a user can hand to the command line: name -> (path, message)."""
    good = tmp_path / "good.npz"
    np.savez_compressed(good, **{big: P2, small: np.array([0, 1])})
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:-40])
    plain = tmp_path / "plain.npz"
    with open(plain, "wb") as fh:
        np.save(fh, P2)
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, **{big: P2, small: np.array([{"a": 1}, None], dtype=object)})
    text = tmp_path / "text.npz"
    text.write_text("y_prob,y_true\n0.5,1\n")
    return {
        "truncated": (truncated, "truncated.npz"),
        "plain .npy": (plain, "plain .npy array"),
        "missing": (tmp_path / "missing.npz", "does not exist"),
        "bomb": (_bomb(tmp_path / "bomb.npz", big, small), "decompression bomb"),
        "pickled objects": (pickled, "Python objects"),
        "text": (text, "not a \\(complete\\) zip archive"),
    }


@pytest.mark.parametrize("kind", ["truncated", "plain .npy", "missing", "bomb",
                                  "pickled objects", "text"])
def test_report_command_on_bad_files_exits_2_without_a_traceback(tmp_path, capsys, kind):
    from sksoft.cli import main

    path, message = _bad_files(tmp_path)[kind]
    with pytest.raises(SystemExit) as exc:
        main(["report", str(path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "sksoft: error:" in err and "Traceback" not in err
    assert re.search(message, err), err


@pytest.mark.parametrize("kind", ["truncated", "plain .npy", "missing", "bomb",
                                  "pickled objects", "text"])
def test_study_command_on_bad_files_exits_2_without_a_traceback(tmp_path, capsys, kind):
    from sksoft.cli import main

    path, message = _bad_files(tmp_path, "X", "y_gold")[kind]
    with pytest.raises(SystemExit) as exc:
        main(["study", "--data", str(path), "--model", "logreg", "--seeds", "1", "--folds",
              "2", "--no-progress", "--no-figures", "--out", str(tmp_path / "out")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "sksoft: error:" in err and "Traceback" not in err
    assert re.search(message, err), err


def test_report_command_reads_optional_groups_and_labels(tmp_path, capsys):
    from sksoft.cli import main

    path = tmp_path / "pred.npz"
    np.savez(path, y_prob=P3, y_true=np.array(["b", "a", "c"]), labels=np.array(["b", "a", "c"]),
             groups=np.array([0, 0, 1]))
    assert main(["report", str(path)]) == 0
    out = capsys.readouterr().out
    assert "overall" in out and "1" in out
    np.savez(path, y_prob=P3, y_true=np.array([0, 1, 2]), groups=np.array([0, 1]))
    with pytest.raises(SystemExit) as exc:
        main(["report", str(path)])
    assert exc.value.code == 2 and "groups" in capsys.readouterr().err


def test_load_npz_refuses_bad_files(tmp_path):
    good = tmp_path / "good.npz"
    np.savez_compressed(good, y_prob=P2, y_true=np.array([0, 1]))
    assert load_npz(good, required=("y_prob",))["y_true"].tolist() == [0, 1]
    with pytest.raises(ValueError, match="needs arrays"):
        load_npz(good, required=("groups",))
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:-40])
    with pytest.raises(ValueError, match="truncated.npz"):
        load_npz(truncated)
    plain = tmp_path / "plain.npz"
    with open(plain, "wb") as fh:
        np.save(fh, P2)
    with pytest.raises(ValueError, match="plain .npy array"):
        load_npz(plain)
    with pytest.raises(ValueError, match="does not exist"):
        load_npz(tmp_path / "missing.npz")
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, y=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="Python objects"):
        load_npz(pickled)


def test_load_npz_refuses_a_decompression_bomb_without_inflating_it(tmp_path):
    import tracemalloc

    bomb = tmp_path / "bomb.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10**8,)})
    n_zero = 8 * 10**8
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open("y_prob.npy", "w", force_zip64=True) as fh:
            fh.write(header.getvalue())
            chunk = bytes(10**7)
            for _ in range(n_zero // len(chunk)):
                fh.write(chunk)
    assert bomb.stat().st_size < 2 * 10**6
    tracemalloc.start()
    with pytest.raises(ValueError, match="decompression bomb"):
        load_npz(bomb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 * 10**6
    # a header that disagrees with the member's declared size is refused as corrupt
    liar = tmp_path / "liar.npz"
    small = io.BytesIO()
    np.lib.format.write_array_header_1_0(small, {"descr": "<f8", "fortran_order": False,
                                                 "shape": (1000,)})
    with zipfile.ZipFile(liar, "w") as z:
        z.writestr("a.npy", small.getvalue() + bytes(16))
    with pytest.raises(ValueError, match="corrupt"):
        load_npz(liar)


def test_read_tar_member_refuses_directories_links_and_truncation(tmp_path):
    good = tmp_path / "good.tar.gz"
    with tarfile.open(good, "w:gz") as tar:
        info = tarfile.TarInfo("d/file.bin")
        info.size = 8
        tar.addfile(info, io.BytesIO(bytes(8)))
        d = tarfile.TarInfo("d/dir")
        d.type = tarfile.DIRTYPE
        tar.addfile(d)
        link = tarfile.TarInfo("d/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    assert read_tar_member(good, "d/file.bin", max_size=8) == bytes(8)
    with pytest.raises(ValueError, match="not a regular file"):
        read_tar_member(good, "d/dir", max_size=8)
    with pytest.raises(ValueError, match="not a regular file"):
        read_tar_member(good, "d/link", max_size=8)
    with pytest.raises(ValueError, match="has no"):
        read_tar_member(good, "d/other", max_size=8)
    with pytest.raises(ValueError, match="positive multiple"):
        read_tar_member(good, "d/file.bin", max_size=4)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[:30])
    with pytest.raises(ValueError, match="cut.tar.gz"):
        read_tar_member(cut, "d/file.bin", max_size=8)
    notgz = tmp_path / "junk.tar.gz"
    notgz.write_bytes(gzip.compress(b"not a tar archive at all" * 40))
    with pytest.raises(ValueError, match="junk.tar.gz"):
        read_tar_member(notgz, "d/file.bin", max_size=8)
