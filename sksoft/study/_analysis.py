"""The analysis stage: everything the summary says, computed from the results of every fit.

:func:`analyse` turns :class:`._results.StudyResults` into an :class:`Analysis`: the summary
tables (:func:`._tables.summarize`: means and stds over seeds, per difficulty bin, stability,
checkpoints, training fit), the intervals (:func:`._differences.study_intervals`: the paired
bootstrap of every metric of every arm) and the text of summary.md. The output stage
(:class:`._output.StudyWriter`) only writes them.
"""

from dataclasses import dataclass, field

from ._differences import study_intervals
from ._report import NO_FIT_MARKDOWN, summary_markdown, timing_markdown
from ._tables import summarize

__all__ = ["Analysis", "analyse", "timing_markdown"]


@dataclass(eq=False)
class Analysis:
    """What the analysis of a study run produced.

    Attributes
    ----------
    tables : dict
        The summary tables (see :func:`._tables.summarize`) with ``intervals`` (see
        :func:`._differences.study_intervals`; None without a bootstrap); empty when no fit
        finished.
    markdown : str
        The text of summary.md, without its timing footer.
    """

    tables: dict = field(default_factory=dict)
    markdown: str = NO_FIT_MARKDOWN

    @property
    def intervals(self):
        """The intervals of the run (None without a bootstrap or without fits)."""
        return self.tables.get("intervals")


def analyse(results):
    """The analysis of a study run (an :class:`Analysis`); also sets ``results.summary``."""
    tables = summarize(results)
    if tables:
        tables["intervals"] = study_intervals(results)
    results.summary = tables
    if not tables:
        return Analysis()
    return Analysis(tables=tables, markdown=summary_markdown(results, tables))
