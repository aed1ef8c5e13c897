"""The output stage: the one writer of a study's files -- config.json, results.csv,
curves.csv, dynamics.csv, differences.csv, summary.md, figures and cartography exports. It
computes nothing: the tables and the text come from the analysis (:mod:`._analysis`).

results.csv is appended fit by fit while the study runs, so that an interrupted (or killed)
run keeps every finished fit; everything else is written once at the end. The files are
written into a staging folder of the locked output folder and replace the earlier run's at
the end (see :mod:`._outdir`).
"""

import json
import time
from pathlib import Path

from ._cartography import write_training_dynamics
from ._outdir import OutputFolder
from ._report import timing_markdown

__all__ = ["StudyWriter"]


class StudyWriter:
    """Writes one study run's files into the folder ``out`` (created if needed): while it
    runs into ``out``'s staging folder (``self.out``), moved into ``out`` by :meth:`finish`."""

    def __init__(self, out):
        self.out = Path(out)
        self._folder = OutputFolder(out)

    def start(self):
        """Lock the folder (``ValueError`` if another study writes there) and write into a
        fresh staging folder from now on."""
        self.out = self._folder.open()

    def close(self):
        """Release the folder (after :meth:`finish`, or after a failure: then the earlier
        run's files stay as they were)."""
        staged = self.out == self._folder.staging
        if not self._folder.close() and staged and self.out.exists():
            import sys

            print(f"sksoft study: the run failed; {self._folder.out} keeps the earlier run's "
                  f"files, this run's finished fits are in {self.out}", file=sys.stderr)

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
        results.out = self.out = self._folder.commit()
        return self.out
