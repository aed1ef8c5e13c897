"""The built-in testbed: ambiguous handwritten digits with simulated annotators."""

import numbers

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch, check_random_state

from .._validation import Interval, Options, validate_params
from ..annotations import counts_to_soft, to_counts

DESCR = """Ambiguous digits (sksoft built-in, synthetic)
=============================================

Built from scikit-learn's bundled 8x8 handwritten digits (1,797 images, no download), in the
spirit of the "synthetic MNIST variant" of Pavlovic, Paun & Poesio (2026).

* A fraction of the images is made genuinely ambiguous by blending each with an image of a
  visually close class (the class whose mean image is nearest): ``x = (1 - a) * x_i + a *
  x_partner`` with mixing weight ``a`` (the ``ambiguity``); ``a < 0.5`` so the dominant
  (clean) class is that of ``x_i``.
* The annotators are **simulated**, not real people: each has a psychometric response to the
  blend -- it answers the partner class with probability ``sigmoid(slope * (a - threshold))``
  -- plus a lapse rate with which it answers uniformly at random. Counts and soft labels are
  their votes.
* Gold labels contain a controlled fraction of errors. By default (``gold_noise="coupled"``)
  they are **coupled to the votes**: drawn mostly among ambiguous images and always flipped to
  the partner class -- the very class the simulated annotators hesitate towards -- so the
  human plurality mostly *corrects* gold, and the majority vote is nearly the clean label.
  ``gold_noise="independent"`` draws the same number of errors uniformly over the items, each
  to a class uniform over the nine wrong ones, independently of the votes;
  ``gold_noise="none"`` keeps the gold labels clean.
* The generator's truth is returned beside the noisy gold: the clean labels ``y_clean`` and
  ``true_proba``, the probability with which an annotator drawn at random from the simulated
  pool answers each class (the distribution the vote fractions estimate).
"""


def _partner_classes(X, y):
    centroids = np.stack([X[y == k].mean(axis=0) for k in range(10)])
    d = ((centroids[:, None, :] - centroids[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return d.argmin(axis=1)


_CONSTRAINTS = {
    "ambiguous_fraction": [Interval(numbers.Real, 0, 1, closed="both")],
    "max_ambiguity": [Interval(numbers.Real, 0.05, 0.5, closed="right")],
    "n_annotators": [Interval(numbers.Integral, 1, None, closed="left")],
    "annotators_per_item": [None, Interval(numbers.Integral, 1, None, closed="left")],
    "threshold_sd": [Interval(numbers.Real, 0, None, closed="left")],
    "mislabel_fraction": [Interval(numbers.Real, 0, 1, closed="both")],
    "gold_noise": [Options(("coupled", "independent", "none"))],
    "random_state": ["random_state"],
}


def _check_range(value, name, low, high):
    """A pair ``(a, b)`` of reals with ``low <= a <= b <= high`` (None: unbounded)."""
    real = Interval(numbers.Real, None, None)
    if not isinstance(value, (tuple, list)) or len(value) != 2 or not all(
            real.is_type(v) for v in value):
        raise TypeError(f"{name} must be a pair of real numbers (low, high); got {value!r}.")
    a, b = (float(v) for v in value)
    if not (np.isfinite(a) and np.isfinite(b) and low <= a <= b
            and (high is None or b <= high)):
        bounds = f"[{low}, {'inf' if high is None else high}]"
        raise ValueError(f"{name} must be (low, high) with low <= high in {bounds}; got "
                         f"{value!r}.")


def _check_params(params):
    validate_params(params, _CONSTRAINTS)
    _check_range(params["slope"], "slope", 0, None)
    _check_range(params["lapse"], "lapse", 0, 1)


def make_ambiguous_digits(
    *,
    ambiguous_fraction=0.35,
    max_ambiguity=0.5,
    n_annotators=50,
    annotators_per_item=None,
    slope=(10.0, 25.0),
    threshold_sd=0.06,
    lapse=(0.0, 0.04),
    mislabel_fraction=0.04,
    gold_noise="coupled",
    random_state=0,
):
    """Digits with ambiguous blends, simulated annotator votes and imperfect gold labels.

    Parameters
    ----------
    ambiguous_fraction : float, default=0.35
        Fraction of images blended with a partner-class image.
    max_ambiguity : float in (0.05, 0.5], default=0.5
        Mixing weights are drawn uniformly from ``[0.05, max_ambiguity)`` (below one half,
        so the clean class stays dominant).
    n_annotators : int, default=50
        Size of the simulated annotator pool.
    annotators_per_item : int, optional
        Votes per item (a random subset of the pool; default: every annotator votes).
    slope : (float, float), default=(10, 25)
        Range of the annotators' psychometric slopes (higher = sharper).
    threshold_sd : float, default=0.06
        Spread of the annotators' switching points around 0.5 (their bias).
    lapse : (float, float), default=(0, 0.04)
        Range of the annotators' lapse rates (uniformly random answers), within [0, 1].
    mislabel_fraction : float, default=0.04
        Fraction of gold labels that are wrong (``round(mislabel_fraction * n)`` items; not
        used with ``gold_noise="none"``).
    gold_noise : {"coupled", "independent", "none"}, default="coupled"
        How the wrong gold labels arise.

        * ``"coupled"``: items drawn with probability proportional to ``0.02 + ambiguity``
          (so mostly ambiguous images), each flipped to its **partner class** -- the class the
          simulated annotators vote for when they do not vote for the clean class. The errors
          are then coupled to the votes: the human plurality corrects most of them, so
          majority-vote labels are close to the clean labels, and human soft labels put mass
          on exactly the wrong gold class. This is the default because the study's shipped
          numbers were computed with it (it models the annotators and the gold labeller
          sharing the same confusion); keep it in mind when reading "human labels correct
          gold" results.
        * ``"independent"``: the same number of items, drawn uniformly, each given a wrong
          class uniform over the other nine, independently of the votes.
        * ``"none"``: clean gold labels (``y_gold`` equals ``y_clean``).

        The images, votes and ``true_proba`` do not depend on this choice (at the same
        ``random_state`` they are identical).
    random_state : int, RandomState or None, default=0

    Returns
    -------
    Bunch
        ``X`` (n, 64) float64 in [0, 1]; ``images`` (n, 8, 8); ``y_gold`` (the labels a model
        is given, with errors); ``y_clean`` (dominant class); ``soft_labels`` and ``counts``
        (n, 10); ``annotations`` (n, n_annotators) wide votes with NaN for missing;
        ``ambiguity`` (mixing weight, 0 for clean images); ``partner`` (blend class);
        ``is_mislabeled``; ``true_proba`` (n, 10), the exact probability with which an
        annotator drawn at random from the simulated pool answers each class (psychometric
        response and lapses; the vote fractions ``soft_labels`` are its sample estimate);
        ``gold_noise``; ``class_names``; ``DESCR``.

    Examples
    --------
    >>> from sksoft.datasets import make_ambiguous_digits
    >>> d = make_ambiguous_digits(random_state=0)
    >>> d.X.shape, d.soft_labels.shape, round(float(d.is_mislabeled.mean()), 2)
    ((1797, 64), (1797, 10), 0.04)
    >>> bool((d.y_gold[d.is_mislabeled] == d.partner[d.is_mislabeled]).all())  # coupled
    True
    >>> clean = make_ambiguous_digits(gold_noise="none", random_state=0)
    >>> bool((clean.y_gold == clean.y_clean).all()), bool((clean.counts == d.counts).all())
    (True, True)
    """
    _check_params(locals())
    rng = check_random_state(random_state)
    digits = load_digits()
    X0 = digits.data / 16.0
    y = digits.target.astype(np.intp)
    n = X0.shape[0]
    partner = _partner_classes(X0, y)[y]
    ambiguous = rng.random_sample(n) < ambiguous_fraction
    a = np.where(ambiguous, rng.uniform(0.05, max_ambiguity, n), 0.0)
    # blend each ambiguous image with a random image of its partner class
    by_class = [np.flatnonzero(y == k) for k in range(10)]
    other = np.array([rng.choice(by_class[p]) for p in partner])
    X = (1.0 - a)[:, None] * X0 + a[:, None] * X0[other]

    # simulated annotators: psychometric response to the blend weight plus lapses
    slopes = rng.uniform(*slope, n_annotators)
    thresholds = 0.5 + rng.normal(0.0, threshold_sd, n_annotators)
    lapses = rng.uniform(*lapse, n_annotators)
    p_partner = 1.0 / (1.0 + np.exp(-slopes[None, :] * (a[:, None] - thresholds[None, :])))
    p_partner = np.where(ambiguous[:, None], p_partner, 0.0)
    answer = np.where(rng.random_sample((n, n_annotators)) < p_partner, partner[:, None], y[:, None])
    lapsed = rng.random_sample((n, n_annotators)) < lapses[None, :]
    answer = np.where(lapsed, rng.randint(0, 10, (n, n_annotators)), answer).astype(np.float64)
    if annotators_per_item is not None and annotators_per_item < n_annotators:
        keep = np.argsort(rng.random_sample((n, n_annotators)), axis=1) < annotators_per_item
        answer = np.where(keep, answer, np.nan)
    counts = to_counts(answer, n_classes=10)
    soft = counts_to_soft(counts)
    # the exact answer distribution of an annotator drawn at random from the pool (no draws,
    # so the random stream -- and every array of the default -- is that of earlier versions)
    rows = np.arange(n)
    attentive = 1.0 - lapses[None, :]
    true_proba = np.full((n, 10), lapses.mean() / 10.0)
    true_proba[rows, y] += (attentive * (1.0 - p_partner)).mean(axis=1)
    true_proba[rows, partner] += (attentive * p_partner).mean(axis=1)

    n_wrong = 0 if gold_noise == "none" else int(round(mislabel_fraction * n))
    y_gold = y.copy()
    if gold_noise == "coupled":
        # errors where the annotators hesitate, to the class they hesitate towards
        weights = 0.02 + a
        wrong = rng.choice(n, size=n_wrong, replace=False, p=weights / weights.sum())
        y_gold[wrong] = partner[wrong]
    else:
        # independent of the votes: uniform items, a wrong class uniform over the other nine
        wrong = rng.choice(n, size=n_wrong, replace=False)
        y_gold[wrong] = (y[wrong] + rng.randint(1, 10, n_wrong)) % 10
    is_mislabeled = np.zeros(n, dtype=bool)
    is_mislabeled[wrong] = True

    return Bunch(
        X=X,
        images=X.reshape(n, 8, 8),
        y_gold=y_gold,
        y_clean=y,
        soft_labels=soft,
        counts=counts,
        annotations=answer,
        ambiguity=a,
        partner=partner,
        is_mislabeled=is_mislabeled,
        true_proba=true_proba,
        gold_noise=gold_noise,
        class_names=np.array([str(k) for k in range(10)]),
        DESCR=DESCR,
    )
