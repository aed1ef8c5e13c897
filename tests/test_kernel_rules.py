"""The house rules of the compiled kernels (``sksoft/metrics/_kernels``), read from their sources.

* No kernel function -- ``def`` / ``cdef`` / ``cpdef`` in the ``.pyx`` / ``.pxd`` files, C
  functions in the ``.h`` files and in the C blocks of the ``.pyx`` files -- takes more than
  12 parameters; settings travel in a config struct (``sk_config`` of the calibration pass,
  ``event_t`` of the event passes).
* The row rule (finite, non-negative, summing to 1 within the tolerance) is decided in one C
  helper, ``_rowrule.h``: no other kernel source compares a row sum with the tolerance.
* float / double twins are generated (fused types or one defining macro), not written twice;
  the pairs that remain hand-written are SIMD code whose two versions differ, listed below
  with the reason.
"""

import re
from pathlib import Path

import numpy as np
import pytest

KERNELS = Path(__file__).resolve().parents[1] / "sksoft" / "metrics" / "_kernels"
MAX_PARAMETERS = 12
RULE_FILE = "_rowrule.h"

# hand-written float/double pairs whose bodies differ, not only in their type
DISTINCT_TWINS = {
    "sk_load4": "float32 lanes are converted to double, float64 ones loaded",
    "sk_xlogx": "the float32 version uses the float32 logarithm, the float64 one an AVX2 loop",
    "sksoft_hard_block": "the float32 version has an SSE2 path of four rows at once",
    "sksoft_rowcheck_block": "the float32 version has the four-row path and the bins",
    "sksoft_rowcheck": "SSE2 lanes of four floats vs two doubles (other tails and masks)",
    "sksoft_rowstats_wide": "SSE2 lanes of four floats vs two doubles",
}

_C_KEYWORDS = {"if", "for", "while", "switch", "return", "sizeof", "defined", "else",
               "__attribute__", "_Generic"}


def _source_files():
    return sorted(p for p in KERNELS.iterdir() if p.suffix in (".pyx", ".pxd", ".h"))


def _strip_c(src):
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    src = re.sub(r"//[^\n]*", " ", src)
    src = src.replace("\\\n", " ")
    # a function-like macro's own parameter list is not a function's
    return re.sub(r"#\s*define\s+\w+\([^)]*\)", "#define _", src)


def _closing(src, i):
    """Index of the bracket closing the one at ``src[i]``."""
    depth = 0
    for j in range(i, len(src)):
        if src[j] in "([{":
            depth += 1
        elif src[j] in ")]}":
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced brackets")


def _n_parameters(inner):
    # top-level commas only: memoryview types such as double[:, ::1] hold commas of their own
    inner = inner.strip()
    if inner in ("", "void"):
        return 0
    depth, n = 0, 1
    for ch in inner:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            n += 1
    return n


def c_functions(src):
    """(name, number of parameters) of every C function defined in ``src`` (also those
    defined inside a macro: named by the macro's parameter, e.g. ``NAME``)."""
    src = _strip_c(src)
    found = []
    for m in re.finditer(r"\b(\w+)(\s*\(\s*\w+\s*\))?\s*\(", src):
        name = m.group(1)
        if name in _C_KEYWORDS:
            continue
        if m.group(2):  # SK_FN(name)(...)
            name = m.group(2).strip("() \t")
        end = _closing(src, m.end() - 1)
        rest = re.sub(r"^\s*(__attribute__\s*\(\(.*?\)\)\s*)*", "", src[end + 1:end + 200])
        before = src[max(0, m.start() - 80):m.start()].rstrip()
        if rest.startswith("{") and re.search(r"[\w*]$", before):
            found.append((name, _n_parameters(src[m.end():end])))
    return found


def cython_functions(src):
    """(name, number of parameters) of every def / cdef / cpdef function of a .pyx / .pxd
    source, and of the C functions in its verbatim C blocks."""
    found = []
    pattern = r"^[ \t]*(?:cdef|cpdef|def)\b([^=\n(:]*?)\b(\w+)\s*\("
    for m in re.finditer(pattern, src, flags=re.M):
        if re.match(r"\s*(class|struct|enum|extern|union)\b", m.group(1)):
            continue
        end = _closing(src, m.end() - 1)
        found.append((m.group(2), _n_parameters(src[m.end():end])))
    for block in re.findall(r'cdef extern from \*:\s*"""(.*?)"""', src, flags=re.S):
        found.extend(c_functions(block))
    return found


def kernel_functions():
    out = []
    for path in _source_files():
        src = path.read_text(encoding="utf-8")
        funcs = c_functions(src) if path.suffix == ".h" else cython_functions(src)
        out.extend((path.name, name, n) for name, n in funcs)
    return out


def test_parser_counts_parameters():
    cy = '''
def f(const floating[:, ::1] P, const double[:, :, ::1] M2, int n_threads=1):
    pass
cdef inline bint _g(const floating* row, Py_ssize_t K,
                    double tol) noexcept nogil:
    pass
cdef struct s_t:
    int a
cdef double x = h(1, 2, 3)
'''
    assert cython_functions(cy) == [("f", 3), ("_g", 3)]
    c = r'''
static inline int a(const float *p, Py_ssize_t K) { return 0; }
/* not(a, function) { */
#define MAKE(NAME, T) \
    static void NAME(const T *p, int x, int y) { }
SK_ATTR static void SK_FN(b)(void) { }
__attribute__((target("avx2"))) static int c(int x, int y, int z) { if (x) { } return 0; }
int d(int x);
'''
    assert c_functions(c) == [("a", 2), ("NAME", 3), ("b", 0), ("c", 3)]


def test_every_kernel_function_takes_at_most_12_parameters():
    funcs = kernel_functions()
    names = {name for _, name, _ in funcs}
    # the scan sees the kernels (it is not vacuous): passes, helpers, C and macro-made ones
    assert {"calibration_pass", "_rows", "smooth_masses", "_masses_rows", "events",
            "class_split_moments", "sksoft_rowcheck_block_f", "sksoft_packed_block",
            "NAME"} <= names
    assert len(funcs) > 100
    over = [f"{f}: {name} takes {n}" for f, name, n in funcs if n > MAX_PARAMETERS]
    assert not over, "kernel functions over 12 parameters (use a config struct):\n" + \
        "\n".join(over)


# a row sum compared with 1 or with a tolerance, scalar or vector
_TOL = r"\b(?![rx]tol)\w*tol\w*"  # a row-sum tolerance (not ranks.pyx's rtol of ties)
_RULE_PATTERNS = [
    r"fabs\s*\([^;]*?-\s*1\.0",
    _TOL + r"\s*(?:<=|>=|<|(?<!-)>)",
    r"(?:<=|>=|<|(?<!-)>)\s*" + _TOL,
    r"_mm\w*_cmp\w*\([^;]*" + _TOL,
    r"_mm\w*_abs_pd\s*\(\s*_mm\w*_sub_pd",
    r"_mm\w*_sub_pd\s*\([^;]*_mm\w*_set1_pd\s*\(\s*1\.0",
]


def _rule_sites(src, python=False):
    if python:  # Python comments (the C preprocessor's lines have no space after the #)
        src = re.sub(r"(?m)(^|\s)#\s.*$", " ", src)
    src = _strip_c(src)
    return [m.group(0) for p in _RULE_PATTERNS for m in re.finditer(p, src)]


def test_rule_detector_finds_the_rule():
    assert _rule_sites("    bad = not (fabs(s - 1.0) <= tol)\n", python=True)
    assert not _rule_sites("    x = 1  # fabs(s - 1.0) <= tol\n", python=True)
    assert _rule_sites("return neg || !(fabs((s0 + s1) + (s2 + s3) - 1.0) <= tol);")
    assert _rule_sites("bad |= _mm_movemask_pd(_mm_cmpnle_pd(dlo, vtol));")
    assert _rule_sites("ok = _mm512_cmp_pd_mask(_mm512_abs_pd(d), vt_tol, _CMP_LE_OQ);")
    assert _rule_sites("d = _mm_sub_pd(s, _mm_set1_pd(1.0));")
    assert _rule_sites("m = _mm512_cmp_pd_mask(_mm512_abs_pd(_mm512_sub_pd(s, o)), vt, 2);")
    assert not _rule_sites("const double tol = c->tol; if (v - prev <= rtol * a) {}")
    assert not _rule_sites("sksoft_row_bad(s, neg, tol); /* fabs(s - 1.0) <= tol */")


def test_row_rule_is_decided_in_one_helper():
    sites = {p.name: _rule_sites(p.read_text(encoding="utf-8"), python=p.suffix != ".h")
             for p in _source_files()}
    assert sites[RULE_FILE], f"{RULE_FILE} no longer holds the row rule"
    elsewhere = {name: s for name, s in sites.items() if s and name != RULE_FILE}
    assert not elsewhere, f"the row rule is coded outside {RULE_FILE}: {elsewhere}"
    # and every kernel that checks rows decides with it
    users = {"calibration_pass.pyx", "events.pyx", "_rowstats.h", "_report512.h"}
    for name in users:
        src = (KERNELS / name).read_text(encoding="utf-8")
        assert RULE_FILE in src and re.search(r"SKSOFT_ROW_SUM|sksoft_row_bad|"
                                              r"sksoft_row_sum_off|sksoft_(bad|scan)_row",
                                              src), name


def _twin_stems(funcs):
    stems = {}
    for _, name, _ in funcs:
        m = re.fullmatch(r"(\w+?)_(f|d|ff|dd|fd|df)", name)
        if m:
            stems.setdefault(m.group(1), set()).add(m.group(2))
    return {s for s, kinds in stems.items() if {"f", "d"} <= kinds or {"ff", "dd"} <= kinds}


def test_float_double_twins_are_generated():
    twins = _twin_stems(kernel_functions())
    unexpected = twins - set(DISTINCT_TWINS)
    assert not unexpected, ("float/double twins written twice; generate them (fused types or "
                            f"one defining macro): {sorted(unexpected)}")
    # and the detector works
    c = "static int x_f(const float *p) { return 0; }\nstatic int x_d(const double *p) " \
        "{ return 0; }\n"
    assert _twin_stems([("c", n, k) for n, k in c_functions(c)]) == {"x"}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_row_rule_matches_the_python_rule(dtype):
    # the kernels take their tolerance from sksoft._targets.row_sum_tolerance, and away from
    # rounding at the edge they accept and reject the rows validate_rows does
    from sksoft._targets import row_sum_tolerance
    from sksoft.metrics import _kernels, smooth_calibration_error

    rng = np.random.default_rng(0)
    for K in (2, 3, 4, 7, 10, 16, 17, 65, 70):
        tol = row_sum_tolerance(np.dtype(dtype), K)
        p = rng.dirichlet(np.ones(K), 40)
        p[1] *= 1 + 0.5 * tol
        p[2] *= 1 - 0.5 * tol
        p[3] *= 1 + 2 * tol
        p[4] *= 1 - 2 * tol
        p[5, 0] = np.nan
        p[6, -1] = np.inf
        p[7, 0], p[7, 1] = -1e-3, p[7, 1] + 1e-3
        p = p.astype(dtype)
        sums = p.astype(np.float64).sum(axis=1)
        expected = ~(np.abs(sums - 1.0) <= tol) | (p < 0).any(axis=1)
        for level in (0, -1):
            _kernels.set_vec_level(level)
            try:
                flags = _kernels.row_check(p, tol)[0]
            finally:
                _kernels.set_vec_level(-1)
            np.testing.assert_array_equal(flags.astype(bool), expected)
        for row in np.flatnonzero(expected):
            q = rng.dirichlet(np.ones(K), 50).astype(dtype)
            q[10] = p[row]
            with pytest.raises(ValueError, match="y_prob"):
                smooth_calibration_error(rng.integers(0, K, 50), q)
        good = p[~expected]
        smooth_calibration_error(rng.integers(0, K, len(good)), good)
