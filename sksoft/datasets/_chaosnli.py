"""ChaosNLI: 100 human votes per natural-language-inference item."""

import numpy as np
from sklearn.utils import Bunch

from .._io import check_path
from .._optional import import_optional
from .._validation import Options, check_scalar
from ..annotations import counts_to_soft

__all__ = ["load_chaosnli"]

_NLI = ("entailment", "neutral", "contradiction")
_OLD = {"e": 0, "n": 1, "c": 2}


def load_chaosnli(path, *, subset="nli"):
    """Load the ChaosNLI CSV (Nie, Zhou & Bansal, 2020).

    Parameters
    ----------
    path : str or Path
        The ``chaosnli.csv`` table (columns ``subset``, ``premise``, ``hypothesis``,
        ``count_e``, ``count_n``, ``count_c``, ``old_label``, ...).
    subset : {"nli", "snli", "mnli_m", "alphanli"}, default="nli"
        ``"nli"``: SNLI and MNLI-matched items (3 classes: entailment, neutral,
        contradiction); ``"alphanli"``: the abductive items (2 classes: hypothesis 1 or 2).

    Returns
    -------
    Bunch
        ``text`` (list of ``(premise, hypothesis)`` or ``(obs1, obs2, hyp1, hyp2)``),
        ``counts``, ``soft_labels``, ``y_gold`` (the label of the original 5-vote dataset),
        ``subset``, ``class_names``.
    """
    pd = import_optional("pandas", extra="study", purpose="load_chaosnli")

    check_scalar(subset, "subset", Options(("nli", "snli", "mnli_m", "alphanli")))
    path = check_path(path, "path")
    try:
        df = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ValueError(f"path: {path} is not a readable CSV table ({exc}).") from None
    needed = {"subset", "old_label"} | (
        {"obs1", "obs2", "hyp1", "hyp2", "count_hyp1", "count_hyp2"} if subset == "alphanli"
        else {"premise", "hypothesis", "count_e", "count_n", "count_c"})
    missing = sorted(needed - set(df.columns))
    if missing:
        raise ValueError(f"path: {path} lacks the ChaosNLI columns {missing}.")
    if subset == "nli":
        df = df[df["subset"].isin(["snli", "mnli_m"])]
    else:
        df = df[df["subset"] == subset]
    if subset == "alphanli":
        counts = df[["count_hyp1", "count_hyp2"]].to_numpy()
        y_gold = df["old_label"].astype(int).to_numpy() - 1
        text = list(zip(df["obs1"], df["obs2"], df["hyp1"], df["hyp2"]))
        names = np.array(["hypothesis 1", "hypothesis 2"])
    else:
        counts = df[["count_e", "count_n", "count_c"]].to_numpy()
        y_gold = df["old_label"].map(_OLD).to_numpy()
        text = list(zip(df["premise"], df["hypothesis"]))
        names = np.array(_NLI)
    counts = np.rint(counts).astype(np.int64)
    return Bunch(text=text, counts=counts, soft_labels=counts_to_soft(counts),
                 y_gold=y_gold.astype(np.int64), subset=df["subset"].to_numpy(),
                 class_names=names)
