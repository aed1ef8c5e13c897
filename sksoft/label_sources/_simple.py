"""Label sources whose target of a row is computed from that row's gold and human labels."""

import numbers

import numpy as np

from .._deprecation import deprecate_positional_args
from .._label_source import LabelSource, human_mode
from .._targets import one_hot
from .._validation import Interval

__all__ = [
    "GoldLabels",
    "HumanSoftLabels",
    "HumanMajority",
    "ModeAlignedHumanLabels",
    "LabelSmoothing",
    "MixtureOfSources",
]


class GoldLabels(LabelSource):
    """One-hot gold labels (the classic hard-label baseline).

    Examples
    --------
    >>> import numpy as np
    >>> GoldLabels().make_targets(None, np.array([1, 0]), n_classes=3).tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    """

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        self._validate_params()
        return one_hot(gold, n_classes)


class HumanSoftLabels(LabelSource):
    """The human label distributions, optionally smoothed and tempered.

    Targets are ``normalize(((h + prior) / (1 + K * prior)) ** (1 / temperature))``: ``prior``
    adds a symmetric Dirichlet pseudo-count to each class (treating an item's distribution as
    one unit of evidence), ``temperature < 1`` sharpens and ``> 1`` flattens.

    Parameters
    ----------
    temperature : float, default=1.0
        > 0.
    prior : float, default=0.0
        >= 0.

    Examples
    --------
    >>> import numpy as np
    >>> h = np.array([[0.75, 0.25, 0.0]])
    >>> HumanSoftLabels(prior=0.25).make_targets(None, np.array([0]), human=h, n_classes=3)
    array([[0.57142857, 0.28571429, 0.14285714]])
    """

    needs_human = True

    _parameter_constraints = {
        "temperature": [Interval(numbers.Real, 0, None, closed="neither")],
        "prior": [Interval(numbers.Real, 0, None, closed="left")],
    }

    @deprecate_positional_args
    def __init__(self, *, temperature=1.0, prior=0.0):
        self.temperature = temperature
        self.prior = prior

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        self._validate_params()
        H = (human + self.prior) / (1.0 + n_classes * self.prior)
        if self.temperature != 1.0:
            with np.errstate(divide="ignore"):
                logs = np.where(H > 0, np.log(np.where(H > 0, H, 1.0)), -np.inf) / self.temperature
            logs -= logs.max(axis=1, keepdims=True)
            H = np.exp(logs)
        return H / H.sum(axis=1, keepdims=True)


class HumanMajority(LabelSource):
    """One-hot of the human plurality: the "implicit label correction" control.

    Same mode as the human labels, no uncertainty. Ties: the gold class when it is among the
    tied classes (no needless correction), else the smallest tied class index (the rule of
    :func:`sksoft._label_source.human_mode`, which the study's ``plurality_accuracy`` uses too).

    Examples
    --------
    >>> import numpy as np
    >>> h = np.array([[0.4, 0.4, 0.2], [0.1, 0.2, 0.7]])
    >>> HumanMajority().make_targets(None, np.array([1, 0]), human=h, n_classes=3).tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """

    needs_human = True

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        self._validate_params()
        return one_hot(human_mode(human, gold), n_classes)


class ModeAlignedHumanLabels(LabelSource):
    """The human distribution with its mode moved onto the gold label: "uncertainty without
    correction".

    The probabilities of the human mode and of the gold class are swapped, so the targets are
    a permutation of the human distribution (same entropy, same shape of uncertainty) whose
    argmax is the gold label. When the gold class is already (tied for) the mode nothing
    changes. When the gold class has zero human mass, the swap gives it the mode's mass and the
    former mode gets zero.

    Examples
    --------
    >>> import numpy as np
    >>> h = np.array([[0.1, 0.7, 0.2], [0.0, 0.6, 0.4]])
    >>> ModeAlignedHumanLabels().make_targets(None, np.array([0, 0]), human=h, n_classes=3)
    array([[0.7, 0.1, 0.2],
           [0.6, 0. , 0.4]])
    """

    needs_human = True

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        self._validate_params()
        H = np.array(human, dtype=np.float64, copy=True)
        rows = np.arange(H.shape[0])
        mode = human_mode(H, gold)
        h_mode, h_gold = H[rows, mode].copy(), H[rows, gold].copy()
        H[rows, gold] = h_mode
        H[rows, mode] = h_gold
        return H


class LabelSmoothing(LabelSource):
    """Uniform label smoothing of the gold labels: ``(1 - epsilon) one_hot + epsilon / K``.

    Parameters
    ----------
    epsilon : float in [0, 1], default=0.1

    Examples
    --------
    >>> import numpy as np
    >>> LabelSmoothing(epsilon=0.3).make_targets(None, np.array([0]), n_classes=3).round(3).tolist()
    [[0.8, 0.1, 0.1]]
    """

    _parameter_constraints = {"epsilon": [Interval(numbers.Real, 0, 1, closed="both")]}

    @deprecate_positional_args
    def __init__(self, *, epsilon=0.1):
        self.epsilon = epsilon

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        self._validate_params()
        return (1.0 - self.epsilon) * one_hot(gold, n_classes) + self.epsilon / n_classes


class MixtureOfSources(LabelSource):
    """Convex combination of other sources, e.g. gold and human labels.

    Parameters
    ----------
    sources : list of (name, LabelSource) or list of LabelSource
    weights : list of float, optional
        Non-negative, normalised to sum 1 (default equal).

    Examples
    --------
    >>> import numpy as np
    >>> mix = MixtureOfSources(sources=[("gold", GoldLabels()), ("human", HumanSoftLabels())],
    ...                        weights=[0.5, 0.5])
    >>> mix.make_targets(None, np.array([0]), human=np.array([[0.2, 0.8]]), n_classes=2).tolist()
    [[0.6, 0.4]]
    """

    _parameter_constraints = {
        "sources": [list, tuple],
        "weights": ["array-like", None],
    }

    @deprecate_positional_args
    def __init__(self, *, sources, weights=None):
        self.sources = sources
        self.weights = weights

    def _named(self):
        # tolerant of an invalid `sources` (rejected by _validate_params in make_targets), so
        # that get_params / set_params never raise, as scikit-learn's conventions require
        sources = self.sources if isinstance(self.sources, (list, tuple)) else []
        return [s if isinstance(s, tuple) else (f"source{i}", s) for i, s in enumerate(sources)]

    @property
    def needs_human(self):
        return any(s.needs_human for _, s in self._named())

    @property
    def needs_annotations(self):
        return any(s.needs_annotations for _, s in self._named())

    @property
    def uses_item_index(self):
        return any(getattr(s, "uses_item_index", False) for _, s in self._named())

    def get_params(self, deep=True):
        params = super().get_params(deep=False)
        if deep:
            for name, src in self._named():
                params[name] = src
                for key, val in src.get_params(deep=True).items():
                    params[f"{name}__{key}"] = val
        return params

    def set_params(self, **params):
        named = dict(self._named())
        own = {k: v for k, v in params.items() if "__" not in k and k not in named}
        super().set_params(**own)
        nested = {}
        for key, val in params.items():
            if "__" in key:
                head, rest = key.split("__", 1)
                nested.setdefault(head, {})[rest] = val
            elif key in named:
                self.sources = [(n, val if n == key else s) for n, s in self._named()]
        for head, kw in nested.items():
            dict(self._named())[head].set_params(**kw)
        return self

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None, item_index=None):
        self._validate_params()
        named = self._named()
        for name, src in named:
            if not isinstance(src, LabelSource):
                raise TypeError(f"source {name!r} of MixtureOfSources must be a sksoft "
                                f"LabelSource; got {type(src).__name__}.")
        if not named:
            raise ValueError("sources must hold at least one label source; got none.")
        w = np.ones(len(named)) if self.weights is None else np.asarray(self.weights, float)
        if w.shape != (len(named),) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("weights must be non-negative, one per source, not all zero.")
        w = w / w.sum()
        def targets(s):
            extra = {"item_index": item_index} if getattr(s, "uses_item_index", False) else {}
            return s.make_targets(X, gold, human=human, annotations=annotations,
                                  n_classes=n_classes, sample_weight=sample_weight, **extra)

        return sum(wi * targets(s) for wi, (_, s) in zip(w, named))
