"""The one writer of a study's files: config.json, results.csv, curves.csv, dynamics.csv,
differences.csv, summary.md, figures and cartography exports.

results.csv is appended fit by fit while the study runs, so that an interrupted (or killed)
run keeps every finished fit; everything else is written once at the end.
"""

import json
from pathlib import Path

from ._cartography import write_training_dynamics
from ._differences import study_intervals
from ._figures import make_figures
from ._report import NO_FIT_MARKDOWN, summarize, summary_markdown

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
        """config.json: the settings, the data, the versions and the seeding rules."""
        (self.out / "config.json").write_text(json.dumps(config_json, indent=2, default=str))

    def append_results(self, rows):
        """Append one fit's tidy rows (a DataFrame) to results.csv."""
        path = self.out / "results.csv"
        rows.to_csv(path, mode="a", header=not path.exists(), index=False)

    def finish(self, results):
        """Write curves.csv, dynamics.csv, summary.md, cartography exports and figures; set
        ``results.summary``. Returns the folder."""
        out = self.out
        if not (out / "results.csv").exists():
            results.results.to_csv(out / "results.csv", index=False)
        results.curves.to_csv(out / "curves.csv", index=False)
        results.checkpoints.to_csv(out / "dynamics.csv", index=False)
        tables = summarize(results)
        if tables:
            tables["intervals"] = study_intervals(results)
            if tables["intervals"] is not None:
                tables["intervals"]["differences"].to_csv(out / "differences.csv", index=False)
        results.summary = tables
        (out / "summary.md").write_text(summary_markdown(results, tables) if tables
                                        else NO_FIT_MARKDOWN)
        gold = results._data["y_gold"]
        for (regime, source), dyn in results.dynamics.items():
            write_training_dynamics(out / "cartography" / regime / source, dyn["logits"],
                                    gold[dyn["items"]], dyn["items"])
        if results.config.figures and tables:
            make_figures(results, tables)
        return out
