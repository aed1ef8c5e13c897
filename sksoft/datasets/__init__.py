"""Datasets with human (or simulated human) label distributions.

* :func:`make_ambiguous_digits` -- built from scikit-learn's bundled digits, no download:
  blended (ambiguous) images, simulated annotators, gold labels with plausible errors.
* :func:`load_cifar10h` / :func:`fetch_cifar10h` -- CIFAR-10H (Peterson et al., 2019), ~51
  human votes for each CIFAR-10 test image.
* :func:`load_chaosnli` -- ChaosNLI, 100 votes per NLI item (text).
* :func:`load_lewidi2023` -- the four LeWiDi 2023 datasets with annotator-level labels (text).
* :class:`TextPairFeatures` -- TF-IDF (or MiniLM) features of texts and premise/hypothesis
  pairs, fitted on the training rows only.
"""

from ._chaosnli import load_chaosnli
from ._cifar10h import fetch_cifar10h, get_data_home, load_cifar10h, read_cifar10_binary
from ._digits import make_ambiguous_digits
from ._features import image_features
from ._lewidi import load_lewidi2023
from ._text import TextPairFeatures

__all__ = [
    "TextPairFeatures",
    "fetch_cifar10h",
    "get_data_home",
    "image_features",
    "load_chaosnli",
    "load_cifar10h",
    "load_lewidi2023",
    "make_ambiguous_digits",
    "read_cifar10_binary",
]
