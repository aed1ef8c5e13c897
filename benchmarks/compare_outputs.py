"""Bit-for-bit regression check of the metrics across a change to the kernels.

    python benchmarks/compare_outputs.py dump before.pkl      # with the old build on PYTHONPATH
    python benchmarks/compare_outputs.py dump after.pkl       # with the new one
    python benchmarks/compare_outputs.py compare before.pkl after.pkl

``dump`` runs every public metric (ECE, classwise ECE, reliability curves, the report with
``extended=True`` and with the bootstrap, smooth ECE and its curve, CORP decomposition and
isotonic curve, divergences, entropy, equal-mass edges) on fixed random inputs -- float32 and
float64, hard and soft labels, with and without weights, 1 and 2 threads, 2 to 70 classes, tied
and edge-of-tolerance rows -- plus the error messages of bad rows (NaN, inf, negative, off sum)
and the kernel row check at every vec level, and pickles the raw bytes of every result.
``compare`` exits 1 if any result differs.
"""
import dataclasses
import pickle
import sys

import numpy as np


def norm(x):
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: norm(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {k: norm(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(norm(v) for v in x)
    if isinstance(x, np.ndarray):
        return ("arr", x.dtype.str, x.shape, x.tobytes())
    if isinstance(x, (float, np.floating)):
        return ("f", np.float64(x).tobytes())
    if hasattr(x, "to_dict"):
        try:
            return norm(x.to_dict())
        except Exception:
            pass
    if hasattr(x, "__dict__"):
        return {k: norm(v) for k, v in vars(x).items()}
    return x


def call(out, key, fn, *a, **kw):
    try:
        out[key] = norm(fn(*a, **kw))
    except Exception as e:  # noqa: BLE001 - the error and its message are results too
        out[key] = ("ERR", type(e).__name__, str(e))


def cases():
    rng = np.random.default_rng(12345)
    for n, K in [(50, 2), (300, 3), (9000, 10), (2000, 17), (600, 70), (20000, 4)]:
        for dt in (np.float32, np.float64):
            z = rng.standard_normal((n, K)) * 2.5
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p = p.astype(dt)
            p[0] = 1.0 / K  # ties
            p[1] = 0
            p[1, :2] = 0.5
            p[2] = p[5]
            p[6] *= p.dtype.type(1 + 0.5e-6)  # inside the tolerance
            if K > 2:
                p[3] = 0
                p[3, 1] = 1
            y = rng.integers(0, K, n)
            a = rng.dirichlet(np.full(K, 0.4), n).astype(dt)
            w = rng.uniform(0.1, 2, n)
            g = rng.integers(0, 3, n)
            yield f"{n}x{K}-{np.dtype(dt).name}", p, y, a, w, g


def run():
    import sksoft.metrics as M
    from sksoft.metrics import _kernels as K_

    out = {}
    for name, p, y, a, w, g in cases():
        for tname, t in (("hard", y), ("soft", a)):
            for wname, ww in (("unw", None), ("w", w)):
                key = (name, tname, wname)
                for nt in (1, 2):
                    kw = dict(sample_weight=ww, n_threads=nt)
                    kk = key + (nt,)
                    call(out, kk + ("ece",), M.expected_calibration_error, t, p, **kw)
                    call(out, kk + ("ece_q",), M.expected_calibration_error, t, p,
                         strategy="quantile", norm="l2", debias=True, **kw)
                    call(out, kk + ("cw",), M.classwise_calibration_error, t, p, **kw)
                    call(out, kk + ("report",), M.calibration_report, t, p, groups=g,
                         extended=True, **kw)
                    call(out, kk + ("smooth",), M.smooth_calibration_error, t, p, **kw)
                    call(out, kk + ("smooth_cls",), M.smooth_calibration_error, t, p,
                         mode="classwise", **kw)
                    call(out, kk + ("smooth_curve",), M.smooth_reliability_curve, t, p, **kw)
                kw = dict(sample_weight=ww)
                call(out, key + ("rel",), M.reliability_curve, t, p, **kw)
                call(out, key + ("rel_cw",), M.reliability_curve, t, p, mode="classwise", **kw)
                call(out, key + ("corp",), M.score_decomposition, t, p, **kw)
                call(out, key + ("corp_log",), M.score_decomposition, t, p, score="log", **kw)
                call(out, key + ("corp_cls",), M.score_decomposition, t, p, mode="classwise",
                     **kw)
                call(out, key + ("iso",), M.isotonic_reliability_curve, t, p, random_state=0,
                     **kw)
                for f in ("accuracy", "brier_score", "cross_entropy", "kl_divergence",
                          "jensen_shannon_divergence", "total_variation"):
                    call(out, key + (f,), getattr(M, f), t, p, **kw)
                boot = dict(random_state=0, **kw)
                call(out, key + ("ece_boot",), M.expected_calibration_error, t, p,
                     n_bootstrap=20, **boot)
                call(out, key + ("ece_dboot",), M.expected_calibration_error, t, p, norm="l2",
                     debias=True, n_bootstrap=20, **boot)
                call(out, key + ("cw_boot",), M.classwise_calibration_error, t, p,
                     n_bootstrap=10, **boot)
                call(out, key + ("report_boot",), M.calibration_report, t, p, n_bootstrap=10,
                     **boot)
            call(out, (name, tname, "entcorr"), M.entropy_correlation, a, p)
        call(out, (name, "entropy"), M.entropy, p)
        call(out, (name, "emass"), M.equal_mass_edges, p.max(1), n_bins=10)
        # bad rows: the error messages
        for bad in ("nan", "neg", "sum", "inf"):
            q = p.copy()
            r = len(q) // 2
            q[r, 0] = {"nan": np.nan, "neg": -0.1, "sum": q[r, 0] + 0.01, "inf": np.inf}[bad]
            for tname, t in (("hard", y), ("soft", a)):
                k = (name, "bad", bad, tname)
                call(out, k + ("ece",), M.expected_calibration_error, t, q)
                call(out, k + ("report",), M.calibration_report, t, q, extended=True)
                call(out, k + ("smooth",), M.smooth_calibration_error, t, q)
                call(out, k + ("smooth_cls",), M.smooth_calibration_error, t, q,
                     mode="classwise")
                call(out, k + ("corp",), M.score_decomposition, t, q)
                call(out, k + ("corp_cls",), M.score_decomposition, t, q, mode="classwise")
            aq = a.copy()
            aq[r, 0] = q[r, 0]
            k = (name, "badT", bad)
            call(out, k + ("ece",), M.expected_calibration_error, aq, p)
            call(out, k + ("smooth",), M.smooth_calibration_error, aq, p)
            call(out, k + ("smooth_cls",), M.smooth_calibration_error, aq, p, mode="classwise")
            call(out, k + ("corp",), M.score_decomposition, aq, p)
        # the kernel row check and the report at every vec level
        for lvl in (0, 1, 2):
            K_.set_vec_level(lvl)
            edge = p * np.asarray(1 + 1e-6, p.dtype)
            call(out, (name, "rowcheck", lvl), K_.row_check, p, 1e-6)
            call(out, (name, "rowcheck_edge", lvl), K_.row_check, edge, 1e-6)
            call(out, (name, "report_lvl", lvl), M.calibration_report, y, p, groups=y % 3,
                 extended=True)
            call(out, (name, "cw_lvl", lvl), M.classwise_calibration_error, y, p)
        K_.set_vec_level(-1)
    return out


def compare(a_path, b_path):
    with open(a_path, "rb") as fh:
        a = pickle.load(fh)
    with open(b_path, "rb") as fh:
        b = pickle.load(fh)
    if a.keys() != b.keys():
        print("different cases:", sorted(map(str, set(a) ^ set(b)))[:20])
        return 1
    diff = [k for k in a if a[k] != b[k]]
    print(len(a), "results compared;", len(diff), "differ")
    for k in diff[:20]:
        print(" ", k)
    return 1 if diff else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "dump":
        out = run()
        with open(sys.argv[2], "wb") as fh:
            pickle.dump(out, fh)
        n_err = sum(1 for v in out.values() if isinstance(v, tuple) and v and v[0] == "ERR")
        print(len(out), "results,", n_err, "of them errors (bad-input cases)")
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
