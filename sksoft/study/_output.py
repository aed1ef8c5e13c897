"""The output stage: the one writer of a study's files -- config.json, results.csv,
curves.csv, dynamics.csv, differences.csv, summary.md, figures and cartography exports. It
computes nothing: the tables and the text come from the analysis (:mod:`._analysis`).

results.csv is appended fit by fit while the study runs, so that an interrupted (or killed)
run keeps every finished fit; everything else is written once at the end.
"""

import json
import time
from pathlib import Path

from ._cartography import write_training_dynamics
from ._report import timing_markdown

__all__ = ["StudyWriter"]

_STALE = ("results.csv", "curves.csv", "dynamics.csv", "summary.md", "differences.csv")


class StudyWriter:
    """Writes one study run's files into the folder ``out`` (created if needed)."""

    def __init__(self, out):
        self.out = Path(out)

    def start(self):
        """Create the folder and remove the tables of an earlier run in it."""
        self.out.mkdir(parents=True, exist_ok=True)
        for stale in _STALE:
            if (self.out / stale).exists():
                (self.out / stale).unlink()

    def write_config(self, config_json):
        """config.json: the settings, the data, the versions, the seeding rules (and, at the
        end, the timing)."""
        (self.out / "config.json").write_text(json.dumps(config_json, indent=2, default=str))

    def append_results(self, rows):
        """Append one fit's tidy rows (a DataFrame) to results.csv."""
        path = self.out / "results.csv"
        rows.to_csv(path, mode="a", header=not path.exists(), index=False)

    def finish(self, results, analysis, config_json=None):
        """Write curves.csv, dynamics.csv, differences.csv, cartography exports, figures and
        summary.md (with the timing footer) from ``analysis`` (an
        :class:`._analysis.Analysis`); add ``timing`` to ``results.timing`` and config.json.
        Returns the folder."""
        out = self.out
        t0 = time.perf_counter()
        if not (out / "results.csv").exists():
            results.results.to_csv(out / "results.csv", index=False)
        results.curves.to_csv(out / "curves.csv", index=False)
        results.checkpoints.to_csv(out / "dynamics.csv", index=False)
        if analysis.intervals is not None:
            analysis.intervals["differences"].to_csv(out / "differences.csv", index=False)
        gold = results._data["y_gold"]
        for (regime, source), dyn in results.dynamics.items():
            write_training_dynamics(out / "cartography" / regime / source, dyn["logits"],
                                    gold[dyn["items"]], dyn["items"])
        t1 = time.perf_counter()
        if results.config.figures and analysis.tables:
            from ._figures import make_figures  # imports matplotlib: only with figures

            make_figures(results, analysis.tables)
        t2 = time.perf_counter()
        results.timing["figures"] = t2 - t1
        results.timing["writing"] = t1 - t0
        (out / "summary.md").write_text(analysis.markdown + timing_markdown(results.timing))
        results.timing["writing"] += time.perf_counter() - t2
        if config_json is not None:
            self.write_config({**config_json, "timing": dict(results.timing)})
        return out
