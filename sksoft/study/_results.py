"""What a study run produced, in memory (the files are written by :mod:`._output`)."""

from dataclasses import replace
from pathlib import Path

import numpy as np

from ._differences import fit_keys

__all__ = ["StudyResults", "RESULT_COLUMNS", "CURVE_COLUMNS", "CHECKPOINT_COLUMNS"]

#: the tidy layout of results.csv
RESULT_COLUMNS = ["regime", "source", "seed", "fold", "bin", "metric", "value"]
#: the layout of curves.csv
CURVE_COLUMNS = ["regime", "source", "seed", "fold", "epoch", "train_loss", "valid_loss"]
#: the tidy layout of dynamics.csv (held-out metrics at the checkpoint epochs)
CHECKPOINT_COLUMNS = ["regime", "source", "seed", "fold", "epoch", "metric", "value"]


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
        Tidy: regime, source, seed, fold, bin, metric, value.
    curves : pandas.DataFrame
        Network training curves: regime, source, seed, fold, epoch, train_loss, valid_loss.
    checkpoints : pandas.DataFrame
        Held-out metrics of the networks at the checkpoint epochs (dynamics.csv): regime,
        source, seed, fold, epoch, metric, value.
    oof : dict
        (regime, source, seed) -> out-of-fold probabilities (n_items, K), NaN rows where
        unfinished.
    fits : list of dict
        One per finished fit: ``keys`` (regime, source, seed, fold and any other key column
        of its result rows, see :func:`._differences.fit_keys`), ``test`` (its evaluation
        items) and ``proba`` (its predictions on them, as evaluated); what the intervals need.
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
        self.results = pd.DataFrame(columns=RESULT_COLUMNS)
        self.curves = pd.DataFrame(columns=CURVE_COLUMNS)
        self.checkpoints = pd.DataFrame(columns=CHECKPOINT_COLUMNS)
        self.oof = {}
        self.fits = []
        self.dynamics = {}
        self.data_info = {"name": data["name"], "n_items": int(data["human"].shape[0]),
                          "n_classes": int(data["human"].shape[1])}
        self._data = data
        self.complete = False
        self.summary = None
        self.n_fits = 0
        self.settings = dict(settings or {})

    def add(self, res):
        """Add the outcome of one fit (see ``fit_one``); return its tidy result rows."""
        import pandas as pd

        regime, source, seed, fold = res["task"]
        self.n_fits += 1
        new = pd.DataFrame([(regime, source, seed, fold, b, m, v) for b, m, v in res["rows"]],
                           columns=RESULT_COLUMNS)
        self.results = _concat([self.results, new], RESULT_COLUMNS)
        key = (regime, source, seed)
        if key not in self.oof:
            self.oof[key] = np.full(self._data["human"].shape, np.nan, dtype=np.float32)
        self.oof[key][res["test"]] = res["proba"]
        self.fits.append({"keys": fit_keys(new), "test": res["test"], "proba": res["proba"]})
        if res["curves"]:
            c = pd.DataFrame([(regime, source, seed, fold, *row) for row in res["curves"]],
                             columns=CURVE_COLUMNS)
            self.curves = _concat([self.curves, c], CURVE_COLUMNS)
        if res.get("checkpoints"):
            c = pd.DataFrame([(regime, source, seed, fold, *row) for row in res["checkpoints"]],
                             columns=CHECKPOINT_COLUMNS)
            self.checkpoints = _concat([self.checkpoints, c], CHECKPOINT_COLUMNS)
        if res["dynamics"] is not None:
            self.dynamics[(regime, source)] = res["dynamics"]
        return new

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
        view.config = replace(self.config, regimes=(regime,))
        view.results = self.results[self.results["regime"] == regime].reset_index(drop=True)
        view.curves = self.curves[self.curves["regime"] == regime].reset_index(drop=True)
        view.checkpoints = self.checkpoints[
            self.checkpoints["regime"] == regime].reset_index(drop=True)
        view.oof = {k[1:]: v for k, v in self.oof.items() if k[0] == regime}
        view.dynamics = {k[1]: v for k, v in self.dynamics.items() if k[0] == regime}
        view.fits = [f for f in self.fits if f["keys"].get("regime") == regime]
        view.n_fits = len(view.results[["source", "seed", "fold"]].drop_duplicates())
        view.settings = {regime: self.settings[regime]} if regime in self.settings else {}
        view.summary = None
        return view
