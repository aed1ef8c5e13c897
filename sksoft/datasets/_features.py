"""Cheap, fixed image features for linear / MLP baselines on small colour images."""

import numbers

import numpy as np

from .._targets import reject_non_numeric
from .._validation import Interval, check_scalar


def image_features(images, *, pool=4, hist_bins=8, orientations=8):
    """Hand-made features of (n, H, W, C) or (n, C, H, W) uint8/float images.

    Concatenates (1) per-channel average-pooled pixels on a ``pool x pool`` grid, (2) per-channel
    intensity histograms with ``hist_bins`` bins, and (3) gradient-orientation histograms
    (``orientations`` bins, magnitude-weighted) on the 2x2 quadrants of the grey image
    (``pool``, ``hist_bins``, ``orientations``: positive integers, ``pool`` at most the image
    height and width; pixel values finite and non-negative, in [0, 1] or [0, 255]). No
    learning, no download: a transparent baseline representation (logistic regression reaches
    roughly 40% accuracy on CIFAR-10 with it -- far from a CNN, enough to audit calibration).

    Returns
    -------
    ndarray of float32, shape (n, C * pool^2 + C * hist_bins + 4 * orientations)
    """
    for name, value in (("pool", pool), ("hist_bins", hist_bins),
                        ("orientations", orientations)):
        check_scalar(value, name, Interval(numbers.Integral, 1, None, closed="left"))
    if np.ndim(images) == 0:
        raise TypeError(f"images must be a 4-D array; got {type(images).__name__}.")
    x = reject_non_numeric(np.asarray(images), "images")
    if x.ndim != 4:
        raise ValueError(f"images must be 4-D; got shape {x.shape}.")
    if x.size == 0:
        raise ValueError(f"images is empty: shape {x.shape}.")
    if x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):
        x = np.transpose(x, (0, 2, 3, 1))
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)) or x.min() < 0:
        raise ValueError("images must hold finite, non-negative pixel values.")
    if x.max() > 1.5:
        x /= 255.0
    n, H, W, C = x.shape
    if pool > min(H, W):
        raise ValueError(f"pool={pool} is larger than the images ({H} x {W}).")
    ph, pw = H // pool, W // pool
    pooled = x[:, : ph * pool, : pw * pool].reshape(n, pool, ph, pool, pw, C).mean(axis=(2, 4))
    b = np.minimum((x * hist_bins).astype(np.int64), hist_bins - 1)
    idx = (np.arange(n)[:, None, None, None] * C + np.arange(C)) * hist_bins + b
    hist = np.bincount(idx.ravel(), minlength=n * C * hist_bins).astype(np.float32) / (H * W)
    grey = x.mean(axis=-1)
    gy, gx = np.gradient(grey, axis=(1, 2))
    mag = np.hypot(gx, gy)
    ang = (np.arctan2(gy, gx) % np.pi) / np.pi
    obin = np.minimum((ang * orientations).astype(int), orientations - 1)
    hog = []
    for qi in range(2):
        for qj in range(2):
            sl = (slice(None), slice(qi * H // 2, (qi + 1) * H // 2), slice(qj * W // 2, (qj + 1) * W // 2))
            ob, m = obin[sl].reshape(n, -1), mag[sl].reshape(n, -1)
            flat = (np.arange(n)[:, None] * orientations + ob).ravel()
            h = np.bincount(flat, weights=m.ravel(), minlength=n * orientations)
            h = h.reshape(n, orientations).astype(np.float32)
            hog.append(h / (m.sum(axis=1, keepdims=True) + 1e-6))
    return np.concatenate([pooled.reshape(n, -1), hist.reshape(n, -1)] + hog, axis=1)
