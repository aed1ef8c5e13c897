"""Label sources: how the training targets are built, as grid-searchable hyper-parameters.

A label source is a small estimator-like object (``get_params`` / ``set_params`` / ``clone``)
passed as the ``label_source=`` parameter of every sksoft classifier. Inside ``fit`` -- and so
on the training fold only -- the classifier calls it with the gold labels ``y`` and the routed
human ``soft_labels`` of the training rows; it returns the (n, K) training targets. Sources that
fit models of their own (:class:`TeacherDistillation`, :class:`EnsembleDisagreement`) cross-fit
*within* the training rows, so no model ever predicts a row it was fitted on, and no row of a
test fold is seen at all.

Together they make the controlled comparison of the human-vs-model uncertainty study:

==========================  =========================  ============================
source                      mode                       uncertainty
==========================  =========================  ============================
:class:`GoldLabels`         gold                       none
:class:`HumanSoftLabels`    human (may correct gold)   human
:class:`HumanMajority`      human (may correct gold)   none  ("correction only")
:class:`ModeAlignedHumanLabels`  gold                  human ("uncertainty only")
:class:`LabelSmoothing`     gold                       uniform, synthetic
:class:`TeacherDistillation`  teacher                  model, synthetic
:class:`EnsembleDisagreement`  ensemble                model, synthetic
==========================  =========================  ============================
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state

from ._targets import check_probability_matrix, prepare_targets, validate_rows

__all__ = [
    "LabelSource",
    "GoldLabels",
    "HumanSoftLabels",
    "HumanMajority",
    "ModeAlignedHumanLabels",
    "LabelSmoothing",
    "TeacherDistillation",
    "EnsembleDisagreement",
    "MixtureOfSources",
    "CrowdAggregate",
    "make_training_targets",
]


def _one_hot(codes, K):
    Y = np.zeros((codes.shape[0], K))
    Y[np.arange(codes.shape[0]), codes] = 1.0
    return Y


class LabelSource(BaseEstimator):
    """Base class. Subclasses implement :meth:`make_targets`."""

    #: whether the source needs the human label distributions
    needs_human = False
    #: whether the source needs the raw annotations
    needs_annotations = False

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        """Return the (n, n_classes) training targets.

        Parameters
        ----------
        X : array of the training rows
        gold : ndarray of intp, shape (n,)
            Gold class codes of the training rows.
        human : ndarray of shape (n, n_classes) or None
            Human label distributions of the training rows.
        annotations : ndarray or None
            Raw annotations (wide) of the training rows.
        n_classes : int
        sample_weight : ndarray or None
        """
        raise NotImplementedError


def make_training_targets(source, X, y, *, soft_labels=None, annotations=None, classes=None,
                          sample_weight=None):
    """Resolve gold labels and human labels from ``y`` / metadata and apply ``source``.

    * Hard ``y``: gold labels; ``soft_labels`` (routed metadata) are the human distributions.
    * Soft ``y``: the gold label is its argmax (first class on ties), and without routed
      ``soft_labels`` the soft ``y`` itself is taken as the human distribution.

    Returns
    -------
    Y : ndarray (n, K)
    classes_ : ndarray
    """
    if not isinstance(source, LabelSource):
        raise TypeError(f"label_source must be a sksoft LabelSource; got {type(source).__name__}.")
    Yin, classes_, codes = prepare_targets(y, classes=classes)
    K = classes_.shape[0]
    human = None
    if soft_labels is not None:
        human = check_probability_matrix(soft_labels, name="soft_labels", n_classes=K)
        human = validate_rows(np.asarray(human, dtype=np.float64), "soft_labels")
        if human.shape[0] != Yin.shape[0]:
            raise ValueError(f"soft_labels has {human.shape[0]} rows but y has {Yin.shape[0]}.")
    if codes is None:
        codes = np.argmax(Yin, axis=1)
        if human is None:
            human = Yin
    if source.needs_human and human is None:
        raise ValueError(
            f"{type(source).__name__} needs human label distributions: pass soft_labels=... to "
            "fit (routed as metadata in GridSearchCV / Pipeline) or give a soft y."
        )
    if source.needs_annotations and annotations is None:
        raise ValueError(f"{type(source).__name__} needs annotations=... (wide votes) in fit.")
    Y = source.make_targets(X, codes, human=human, annotations=annotations, n_classes=K,
                            sample_weight=sample_weight)
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape != (codes.shape[0], K):
        raise ValueError(f"{type(source).__name__} returned targets of shape {Y.shape}, "
                         f"expected {(codes.shape[0], K)}.")
    validate_rows(Y, f"targets from {type(source).__name__}")
    return Y, classes_


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
        return _one_hot(gold, n_classes)


class HumanSoftLabels(LabelSource):
    """The human label distributions, optionally smoothed and tempered.

    Targets are ``normalize(((h + prior) / (1 + K * prior)) ** (1 / temperature))``: ``prior``
    adds a symmetric Dirichlet pseudo-count to each class (treating an item's distribution as
    one unit of evidence), ``temperature < 1`` sharpens and ``> 1`` flattens.

    Parameters
    ----------
    temperature : float, default=1.0
    prior : float, default=0.0

    Examples
    --------
    >>> import numpy as np
    >>> h = np.array([[0.75, 0.25, 0.0]])
    >>> HumanSoftLabels(prior=0.25).make_targets(None, np.array([0]), human=h, n_classes=3)
    array([[0.57142857, 0.28571429, 0.14285714]])
    """

    needs_human = True

    def __init__(self, temperature=1.0, prior=0.0):
        self.temperature = temperature
        self.prior = prior

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0; got {self.temperature}.")
        if self.prior < 0:
            raise ValueError(f"prior must be >= 0; got {self.prior}.")
        H = (human + self.prior) / (1.0 + n_classes * self.prior)
        if self.temperature != 1.0:
            with np.errstate(divide="ignore"):
                logs = np.where(H > 0, np.log(np.where(H > 0, H, 1.0)), -np.inf) / self.temperature
            logs -= logs.max(axis=1, keepdims=True)
            H = np.exp(logs)
        return H / H.sum(axis=1, keepdims=True)


def _human_mode(human, gold):
    """Plurality class; when several classes tie, the gold class if it is among them, else the
    smallest index."""
    is_max = human >= human.max(axis=1, keepdims=True) - 1e-12
    mode = np.argmax(is_max, axis=1)
    gold_tied = is_max[np.arange(gold.shape[0]), gold]
    return np.where(gold_tied, gold, mode)


class HumanMajority(LabelSource):
    """One-hot of the human plurality: the "implicit label correction" control.

    Same mode as the human labels, no uncertainty. Ties: the gold class when it is among the
    tied classes (no needless correction), else the smallest tied class index.

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
        return _one_hot(_human_mode(human, gold), n_classes)


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
        H = np.array(human, dtype=np.float64, copy=True)
        rows = np.arange(H.shape[0])
        mode = _human_mode(H, gold)
        h_mode, h_gold = H[rows, mode].copy(), H[rows, gold].copy()
        H[rows, gold] = h_mode
        H[rows, mode] = h_gold
        return H


class LabelSmoothing(LabelSource):
    """Uniform label smoothing of the gold labels: ``(1 - epsilon) one_hot + epsilon / K``.

    Examples
    --------
    >>> import numpy as np
    >>> LabelSmoothing(0.3).make_targets(None, np.array([0]), n_classes=3).round(3).tolist()
    [[0.8, 0.1, 0.1]]
    """

    def __init__(self, epsilon=0.1):
        self.epsilon = epsilon

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        if not 0 <= self.epsilon <= 1:
            raise ValueError(f"epsilon must be in [0, 1]; got {self.epsilon}.")
        return (1.0 - self.epsilon) * _one_hot(gold, n_classes) + self.epsilon / n_classes


def _default_teacher():
    from .linear_model import SoftLogisticRegression

    return SoftLogisticRegression()


def _cross_fit_splits(gold, cv, random_state):
    """Folds of the training rows for cross-fitting (stratified on gold when possible)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if isinstance(cv, numbers.Integral):
        if cv < 2:
            raise ValueError(f"cv must be >= 2 for cross-fitting; got {cv}.")
        counts = np.bincount(gold)
        if counts[counts > 0].min() >= cv:
            splitter = StratifiedKFold(cv, shuffle=True, random_state=random_state)
        else:
            splitter = KFold(cv, shuffle=True, random_state=random_state)
    else:
        splitter = cv
    return list(splitter.split(np.zeros(gold.shape[0]), gold))


def _aligned_proba(est, X, n_classes):
    P = est.predict_proba(X)
    out = np.zeros((P.shape[0], n_classes))
    out[:, np.asarray(est.classes_, dtype=int)] = P
    return out


def _subset(X, idx):
    return X[idx] if hasattr(X, "__getitem__") and not hasattr(X, "iloc") else X.iloc[idx]


def _temper(P, temperature):
    if temperature == 1.0:
        return P
    from .calibration import apply_temperature

    return apply_temperature(P, temperature)


class TeacherDistillation(LabelSource):
    """Soft labels from a teacher fitted on gold labels, cross-fitted within the training rows.

    The training rows are split into ``cv`` folds; for each, a clone of ``teacher`` is fitted on
    the other folds (gold labels) and predicts the held-out fold. Every row's target therefore
    comes from a teacher that never saw it. Targets are
    ``alpha * softmax(log p_teacher / temperature) + (1 - alpha) * one_hot(gold)``.

    Parameters
    ----------
    teacher : classifier, optional
        Default :class:`~sksoft.linear_model.SoftLogisticRegression`.
    temperature : float, default=1.0
    alpha : float, default=1.0
    cv : int or splitter, default=5
    random_state : int, optional
        Seeds the cross-fitting folds.
    """

    def __init__(self, teacher=None, temperature=1.0, alpha=1.0, cv=5, random_state=None):
        self.teacher = teacher
        self.temperature = temperature
        self.alpha = alpha
        self.cv = cv
        self.random_state = random_state

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        teacher = self.teacher if self.teacher is not None else _default_teacher()
        P = np.zeros((gold.shape[0], n_classes))
        for train, held in _cross_fit_splits(gold, self.cv, self.random_state):
            est = clone(teacher).fit(_subset(X, train), gold[train])
            P[held] = _aligned_proba(est, _subset(X, held), n_classes)
        P = _temper(P, self.temperature)
        return self.alpha * P + (1.0 - self.alpha) * _one_hot(gold, n_classes)


class EnsembleDisagreement(LabelSource):
    """Targets from the disagreement of an ensemble fitted on gold labels, cross-fitted.

    For each cross-fitting fold, ``n_members`` clones of ``estimator`` are fitted on the other
    folds -- on bootstrap resamples (``method="bootstrap"``) or with different seeds
    (``method="seeds"``, setting every ``random_state`` parameter) -- and predict the held-out
    rows. Targets are the members' mean probabilities (``output="mean"``) or the distribution
    of their votes (``output="vote"``).

    Parameters
    ----------
    estimator : classifier, optional
        Default :class:`~sksoft.linear_model.SoftLogisticRegression`.
    n_members : int, default=5
    method : {"bootstrap", "seeds"}, default="bootstrap"
    output : {"mean", "vote"}, default="mean"
    cv : int or splitter, default=5
    random_state : int, optional
    """

    def __init__(self, estimator=None, n_members=5, method="bootstrap", output="mean", cv=5,
                 random_state=None):
        self.estimator = estimator
        self.n_members = n_members
        self.method = method
        self.output = output
        self.cv = cv
        self.random_state = random_state

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        if self.method not in ("bootstrap", "seeds"):
            raise ValueError(f"method must be 'bootstrap' or 'seeds'; got {self.method!r}.")
        if self.output not in ("mean", "vote"):
            raise ValueError(f"output must be 'mean' or 'vote'; got {self.output!r}.")
        base = self.estimator if self.estimator is not None else _default_teacher()
        rng = check_random_state(self.random_state)
        out = np.zeros((gold.shape[0], n_classes))
        for train, held in _cross_fit_splits(gold, self.cv, self.random_state):
            acc = np.zeros((held.shape[0], n_classes))
            for m in range(self.n_members):
                est = clone(base)
                rows = train
                if self.method == "bootstrap":
                    rows = train[rng.randint(0, train.shape[0], train.shape[0])]
                else:
                    seed = int(rng.randint(np.iinfo(np.int32).max))
                    est.set_params(**{k: seed for k in est.get_params()
                                      if k == "random_state" or k.endswith("__random_state")})
                est.fit(_subset(X, rows), gold[rows])
                P = _aligned_proba(est, _subset(X, held), n_classes)
                if self.output == "vote":
                    P = _one_hot(np.argmax(P, axis=1), n_classes)
                acc += P
            out[held] = acc / self.n_members
        return out


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
    >>> mix = MixtureOfSources([("gold", GoldLabels()), ("human", HumanSoftLabels())], [0.5, 0.5])
    >>> mix.make_targets(None, np.array([0]), human=np.array([[0.2, 0.8]]), n_classes=2).tolist()
    [[0.6, 0.4]]
    """

    def __init__(self, sources, weights=None):
        self.sources = sources
        self.weights = weights

    def _named(self):
        return [s if isinstance(s, tuple) else (f"source{i}", s)
                for i, s in enumerate(self.sources)]

    @property
    def needs_human(self):
        return any(s.needs_human for _, s in self._named())

    @property
    def needs_annotations(self):
        return any(s.needs_annotations for _, s in self._named())

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
                     sample_weight=None):
        named = self._named()
        w = np.ones(len(named)) if self.weights is None else np.asarray(self.weights, float)
        if w.shape != (len(named),) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("weights must be non-negative, one per source, not all zero.")
        w = w / w.sum()
        return sum(wi * s.make_targets(X, gold, human=human, annotations=annotations,
                                       n_classes=n_classes, sample_weight=sample_weight)
                   for wi, (_, s) in zip(w, named))


class CrowdAggregate(LabelSource):
    """Targets aggregated from raw annotations of the training rows only.

    Parameters
    ----------
    method : {"dawid_skene", "majority", "soft"}, default="dawid_skene"
        Dawid-Skene posteriors (fitted on the training rows' annotations), one-hot majority
        vote, or plain vote fractions.
    prior : float, default=0.0
        Additive smoothing of the vote counts for ``"soft"``.
    max_iter : int, default=100
        For Dawid-Skene.

    Notes
    -----
    Pass the wide ``(n_items, n_annotators)`` votes as ``annotations=`` to ``fit``; they are
    sliced per fold with the other rows.
    """

    needs_annotations = True

    def __init__(self, method="dawid_skene", prior=0.0, max_iter=100):
        self.method = method
        self.prior = prior
        self.max_iter = max_iter

    def make_targets(self, X, gold, *, human=None, annotations=None, n_classes,
                     sample_weight=None):
        from .annotations import counts_to_soft, dawid_skene, majority_vote, to_counts

        A = np.asarray(annotations, dtype=np.float64)
        if A.shape[0] != gold.shape[0]:
            raise ValueError(f"annotations has {A.shape[0]} rows but y has {gold.shape[0]}.")
        if self.method == "dawid_skene":
            return dawid_skene(A, n_classes=n_classes, max_iter=self.max_iter).posteriors
        counts = to_counts(A, n_classes=n_classes)
        if self.method == "majority":
            return _one_hot(majority_vote(counts), n_classes)
        if self.method == "soft":
            return counts_to_soft(counts, prior=self.prior)
        raise ValueError(f"method must be 'dawid_skene', 'majority' or 'soft'; got {self.method!r}.")
