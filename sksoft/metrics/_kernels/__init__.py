"""The compiled kernels behind :mod:`sksoft.metrics` (private).

* ``calibration_pass`` -- the one pass over the probability matrix (``calibration_pass.pyx``,
  with its C helpers: ``_rowstats.h`` row checks (deciding with the one row rule of
  ``_rowrule.h``, shared by every kernel that checks rows), ``_vecmath.h`` logarithms and score
  formulas, ``_classwise.h`` sparse classwise binning, ``_report512.h`` the AVX-512 report
  pass; structures in ``_pass.h``, the layout of sums and error bits in ``_layout.h``);
* ``equal_mass`` -- equal-mass bins in O(n) and binning of 1-D values with arbitrary edges;
* ``ranks`` -- average ranks in O(n) (Spearman correlations);
* ``moments`` -- second moments of cells (debiased calibration error) and the item
  bootstrap's Poisson weights and exact/moment split;
* ``events`` -- the smooth calibration error's grid masses and the events and pool-adjacent-
  violators of the CORP decomposition (one event's settings in an ``event_t`` struct);
* ``floor`` -- the benchmarks' read-once and memory floors.

Nothing here validates its arguments: the Python modules of :mod:`sksoft.metrics` do.
"""

from .calibration_pass import (
    calibration_pass,
    error_codes,
    max_threads,
    openmp_enabled,
    row_check,
    row_score_fields,
    set_vec_level,
    sum_fields,
    vec_level,
    vec_level_available,
)
from . import events
from .equal_mass import bin_1d, equal_mass_binning
from .floor import read_floor
from .moments import (
    cell_variance,
    class_cell_variance,
    class_split_moments,
    poisson_weights,
    replicate_sums,
    split_moments,
)
from .ranks import average_ranks

__all__ = [
    "average_ranks",
    "bin_1d",
    "calibration_pass",
    "cell_variance",
    "class_cell_variance",
    "class_split_moments",
    "poisson_weights",
    "replicate_sums",
    "split_moments",
    "equal_mass_binning",
    "events",
    "error_codes",
    "max_threads",
    "openmp_enabled",
    "read_floor",
    "row_check",
    "row_score_fields",
    "set_vec_level",
    "sum_fields",
    "vec_level",
    "vec_level_available",
]
