"""What a study run produced, in memory (the files are written by :mod:`._output`)."""

from pathlib import Path

import numpy as np

from ._differences import fit_keys

__all__ = ["StudyResults", "RESULT_COLUMNS", "CURVE_COLUMNS"]

#: the tidy layout of results.csv
RESULT_COLUMNS = ["source", "seed", "fold", "bin", "metric", "value"]
#: the layout of curves.csv
CURVE_COLUMNS = ["source", "seed", "fold", "epoch", "train_loss", "valid_loss"]


class StudyResults:
    """What a study run produced.

    Attributes
    ----------
    config : StudyConfig
    results : pandas.DataFrame
        Tidy: source, seed, fold, bin, metric, value.
    curves : pandas.DataFrame
        Network training curves: source, seed, fold, epoch, train_loss, valid_loss.
    oof : dict
        (source, seed) -> out-of-fold probabilities (n_items, K), NaN rows where unfinished.
    fits : list of dict
        One per finished fit: ``keys`` (source, seed, fold and any other key column of its
        result rows, see :func:`._differences.fit_keys`), ``test`` (its evaluation items) and
        ``proba`` (its predictions on them, as evaluated); what the intervals need.
    dynamics : dict
        source -> cartography data of seed 0, fold 0 (networks only).
    out : Path
        Where the run's files are.
    complete : bool
        False when the run was interrupted.
    summary : dict of DataFrame or None
        The summary tables (set when the outputs are written).
    """

    def __init__(self, config, data, out):
        import pandas as pd

        self.config = config
        self.out = Path(out)
        self.results = pd.DataFrame(columns=RESULT_COLUMNS)
        self.curves = pd.DataFrame(columns=CURVE_COLUMNS)
        self.oof = {}
        self.fits = []
        self.dynamics = {}
        self.data_info = {"name": data["name"], "n_items": int(data["human"].shape[0]),
                          "n_classes": int(data["human"].shape[1])}
        self._data = data
        self.complete = False
        self.summary = None
        self.n_fits = 0

    def add(self, res):
        """Add the outcome of one fit (see ``fit_one``); return its tidy result rows."""
        import pandas as pd

        source, seed, fold = res["task"]
        self.n_fits += 1
        new = pd.DataFrame([(source, seed, fold, b, m, v) for b, m, v in res["rows"]],
                           columns=RESULT_COLUMNS)
        self.results = new if self.results.empty else pd.concat([self.results, new],
                                                                ignore_index=True)
        key = (source, seed)
        if key not in self.oof:
            self.oof[key] = np.full(self._data["human"].shape, np.nan, dtype=np.float32)
        self.oof[key][res["test"]] = res["proba"]
        self.fits.append({"keys": fit_keys(new), "test": res["test"], "proba": res["proba"]})
        if res["curves"]:
            c = pd.DataFrame([(source, seed, fold, *row) for row in res["curves"]],
                             columns=CURVE_COLUMNS)
            self.curves = c if self.curves.empty else pd.concat([self.curves, c], ignore_index=True)
        if res["dynamics"] is not None:
            self.dynamics[source] = res["dynamics"]
        return new
