"""The results stage: what a study run produced, in memory (:class:`StudyResults`, fed one
:class:`._fit.FitRecord` at a time; the files are written by :mod:`._output`)."""

from dataclasses import replace
from pathlib import Path

import numpy as np

from ._budget import uses_axes
from ._differences import fit_keys
from ._vocabulary import AXIS_COLUMNS, CALIBRATORS, COST_COLUMN, present_in, variant_name

__all__ = ["StudyResults", "RESULT_SCHEMA", "RESULT_COLUMNS", "AXIS_RESULT_COLUMNS",
           "CURVE_COLUMNS", "CHECKPOINT_COLUMNS", "result_columns"]

#: the one tidy schema of results.csv, for every axis: the fit's keys, the evaluation's axis
#: values and cost (``_vocabulary.AXIS_COLUMNS`` and ``COST_COLUMN``: only in a run with the
#: recalibration or budget axes, see :func:`result_columns`), the row
RESULT_SCHEMA = ("regime", "source", *AXIS_COLUMNS, COST_COLUMN, "seed", "fold", "bin",
                 "metric", "value")
#: the columns of the schema that only a run with the axes has
_AXIS_ONLY = (*AXIS_COLUMNS, COST_COLUMN)
#: results.csv of a run without the axes (the schema less the axis columns)
RESULT_COLUMNS = [c for c in RESULT_SCHEMA if c not in _AXIS_ONLY]
#: results.csv of a run with the axes (the whole schema)
AXIS_RESULT_COLUMNS = list(RESULT_SCHEMA)
#: the layout of curves.csv
CURVE_COLUMNS = ["regime", "source", "seed", "fold", "epoch", "train_loss", "valid_loss"]
#: the tidy layout of dynamics.csv (held-out metrics at the checkpoint epochs)
CHECKPOINT_COLUMNS = ["regime", "source", "seed", "fold", "epoch", "metric", "value"]


def result_columns(cfg):
    """The columns of results.csv of a run with the settings ``cfg``."""
    return _columns(uses_axes(cfg))


def _columns(axes):
    return AXIS_RESULT_COLUMNS if axes else RESULT_COLUMNS


def _annotator_key(k):
    return -1.0 if str(k) == "0" else float("inf") if str(k) == "all" else float(k)


def _calibrator_key(name, calibrators):
    base, human = (name[:-len(" (human)")], 1) if name.endswith(" (human)") else (name, 0)
    order = list(calibrators) + ["selected"]
    return (human, order.index(base) if base in order else len(order), name)


_ALLOCATE_ORDER = ("none", "all", "random", "uncertain")


def _concat(frames, columns):
    import pandas as pd

    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=columns)
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


class StudyResults:
    """What a study run produced.

    Attributes
    ----------
    config : StudyConfig
    results : pandas.DataFrame
        Tidy: regime, source, seed, fold, bin, metric, value; with the recalibration or
        budget axes also calibrator, annotators, human_fraction, allocate and
        annotations_used (after source, see :data:`AXIS_RESULT_COLUMNS`).
    curves : pandas.DataFrame
        Network training curves: regime, source, seed, fold, epoch, train_loss, valid_loss.
    checkpoints : pandas.DataFrame
        Held-out metrics of the networks at the checkpoint epochs (dynamics.csv): regime,
        source, seed, fold, epoch, metric, value.
    oof : dict
        (regime, source, seed) -> out-of-fold probabilities (n_items, K), NaN rows where
        unfinished.
    fits : list of dict
        One per evaluated output (a fit, and each of its recalibrated outputs): ``keys``
        (regime, source, seed, fold and any other key column of its result rows, see
        :func:`._differences.fit_keys`), ``test`` (its evaluation items) and ``proba`` (its
        predictions on them, as evaluated); what the intervals need.
    selections : list of dict
        The calibrator that each fit's ``selected`` output chose on its calibration split:
        regime, variant (the selected output's), seed, fold, chosen.
    dynamics : dict
        (regime, source) -> cartography data of seed 0, fold 0 (networks only).
    out : Path
        Where the run's files are.
    complete : bool
        False when the run was interrupted.
    summary : dict of DataFrame or None
        The summary tables (set when the outputs are written).
    settings : dict
        regime -> its resolved hyper-parameters (see ``_registry.regime_settings``).
    """

    def __init__(self, config, data, out, settings=None):
        import pandas as pd

        self.config = config
        self.out = Path(out)
        self.results = pd.DataFrame(columns=result_columns(config))
        self.curves = pd.DataFrame(columns=CURVE_COLUMNS)
        self.checkpoints = pd.DataFrame(columns=CHECKPOINT_COLUMNS)
        self.oof = {}
        self.fits = []
        self.selections = []
        self.variant_table = None
        self.dynamics = {}
        self.data_info = {"name": data["name"], "n_items": int(data["human"].shape[0]),
                          "n_classes": int(data["human"].shape[1])}
        self._data = data
        self.complete = False
        self.summary = None
        self.n_fits = 0
        #: summed over the fits: seconds per timing of :class:`._fit.FitRecord`
        self.fit_seconds = {}
        #: seconds per stage of the run (plan, fits, analysis, figures, writing)
        self.timing = {}
        self.settings = dict(settings or {})

    def add(self, record):
        """Add one fit (a :class:`._fit.FitRecord`): its own evaluation and each recalibrated
        one; return their tidy result rows (a DataFrame, in results.csv's layout)."""
        import pandas as pd

        regime, source, seed, fold = record.key
        self.n_fits += 1
        frames, raw = [], None
        for i, ev in enumerate(record.evaluations):
            rows = record.fit_rows() if i == 0 else ev.rows
            values = () if ev.axes is None else ev.axes.columns()
            head = (regime, source, *values, seed, fold)
            new = pd.DataFrame([head + (b, m, v) for b, m, v in rows],
                               columns=_columns(ev.axes is not None))
            if ev.axes is None:
                variant = source
            else:
                new["annotators"] = new["annotators"].astype(object)
                variant = variant_name(source, *values[:len(AXIS_COLUMNS)])
            raw = variant if raw is None else raw
            key = (regime, variant, seed)
            if key not in self.oof:
                self.oof[key] = np.full(self._data["human"].shape, np.nan, dtype=np.float32)
            self.oof[key][record.test] = ev.proba
            self.fits.append({"keys": fit_keys(new), "test": record.test, "proba": ev.proba})
            if ev.chosen is not None:
                self.selections.append({"regime": regime, "variant": variant, "seed": seed,
                                        "fold": fold, "chosen": ev.chosen})
            frames.append(new)
        new = _concat(frames, frames[0].columns)
        self.results = _concat([self.results, new], new.columns)
        if record.curves:
            c = pd.DataFrame([(regime, raw, seed, fold, *row) for row in record.curves],
                             columns=CURVE_COLUMNS)
            self.curves = _concat([self.curves, c], CURVE_COLUMNS)
        if record.checkpoints:
            c = pd.DataFrame([(regime, raw, seed, fold, *row) for row in record.checkpoints],
                             columns=CHECKPOINT_COLUMNS)
            self.checkpoints = _concat([self.checkpoints, c], CHECKPOINT_COLUMNS)
        if record.dynamics is not None:
            self.dynamics[(regime, raw)] = record.dynamics
        for name, seconds in record.timings.items():
            self.fit_seconds[name] = self.fit_seconds.get(name, 0.0) + seconds
        return new

    @property
    def has_axes(self):
        """Whether the results carry the recalibration / budget axis columns."""
        return "calibrator" in self.results.columns

    def variant_results(self, df=None):
        """``df`` (default: the results) with ``source`` naming each variant (see
        :func:`._vocabulary.variant_name`: source, calibrator, budget) and without the axis
        columns: the layout of a study without the axes, one "source" per variant."""
        df = self.results if df is None else df
        if "calibrator" not in df.columns:
            return df
        cols = ["source", *AXIS_COLUMNS]
        combos = df[cols].drop_duplicates()
        names = {tuple(r): variant_name(*r) for r in combos.itertuples(index=False)}
        out = df.drop(columns=[*AXIS_COLUMNS, COST_COLUMN])
        out["source"] = [names[tuple(r)] for r in df[cols].itertuples(index=False)]
        return out

    def variants(self, df=None):
        """One row per variant of ``df`` (default: the results; index: the variant's name), in
        the order of :meth:`variant_order`: source, the axis values and ``annotations_used``
        (the mean over its fits); empty without the axes."""
        import pandas as pd

        df = self.results if df is None else df
        if "calibrator" not in df.columns or df.empty:
            return pd.DataFrame(columns=["source", *AXIS_COLUMNS, COST_COLUMN])
        per_fit = df.drop_duplicates(["regime", "source", *AXIS_COLUMNS, "seed", "fold"])
        out = per_fit.groupby(["source", *AXIS_COLUMNS], sort=False, dropna=False)[
            COST_COLUMN].mean().reset_index()
        out.index = [variant_name(*r) for r in out[["source", *AXIS_COLUMNS]].itertuples(
            index=False)]
        return out.loc[[v for v in self.variant_order() if v in out.index]]

    def variant_order(self):
        """The sources (variants with the axes) of the results, in report order: by source as
        configured, then budget (votes per item, fraction, allocation), then calibrator (none,
        the recalibrators as configured, selected; those fitted to human labels after)."""
        df = self.results
        sources = list(self.config.sources)
        if "calibrator" not in df.columns:
            return present_in(sources, df["source"])
        combos = df[["source", *AXIS_COLUMNS]].drop_duplicates()
        calibrators = [c for c in CALIBRATORS if c in self.config.calibrators]

        def key(r):
            src, cal, k, f, a = r
            return (sources.index(src) if src in sources else len(sources), _annotator_key(k),
                    float(f), _ALLOCATE_ORDER.index(a) if a in _ALLOCATE_ORDER else 9,
                    _calibrator_key(str(cal), calibrators))

        rows = sorted((tuple(r) for r in combos.itertuples(index=False)), key=key)
        return list(dict.fromkeys(variant_name(*r) for r in rows))

    def n_model_fits(self, df=None):
        """The number of model fits (not counting recalibrated outputs) in ``df`` (default:
        the results)."""
        df = self.results if df is None else df
        keys = ["regime", "source", "seed", "fold"]
        if "calibrator" in df.columns:
            df = df[df["calibrator"] == "none"]
            keys += [c for c in AXIS_COLUMNS if c != "calibrator"]
        return len(df[keys].drop_duplicates())

    @property
    def regimes(self):
        """The regimes of this run that have results, in the configured order."""
        present = set(self.results["regime"])
        return [r for r in self.config.regimes if r in present]

    def regime_view(self, regime):
        """The results of one regime, in the layout of a single-regime run.

        A :class:`StudyResults` whose tables hold that regime's rows only, whose ``oof`` and
        ``dynamics`` are keyed by (source, seed) and source, and whose config lists that
        regime alone: the report tables and figures are made per regime from it.
        """
        view = StudyResults.__new__(StudyResults)
        view.__dict__.update(self.__dict__)
        rows = self.results[self.results["regime"] == regime].reset_index(drop=True)
        sources = tuple(self.variant_order()) if self.has_axes else self.config.sources
        view.config = replace(self.config, regimes=(regime,), sources=sources)
        view.variant_table = self.variants(rows)
        view.results = self.variant_results(rows)
        view.curves = self.curves[self.curves["regime"] == regime].reset_index(drop=True)
        view.checkpoints = self.checkpoints[
            self.checkpoints["regime"] == regime].reset_index(drop=True)
        view.oof = {k[1:]: v for k, v in self.oof.items() if k[0] == regime}
        view.dynamics = {k[1]: v for k, v in self.dynamics.items() if k[0] == regime}
        view.fits = [f for f in self.fits if f["keys"].get("regime") == regime]
        view.n_fits = self.n_model_fits(rows)
        view.selections = [x for x in self.selections if x["regime"] == regime]
        view.settings = {regime: self.settings[regime]} if regime in self.settings else {}
        view.summary = None
        return view
