"""Out-of-core evaluation: dask arrays, numpy memmaps and iterators of chunks.

Every metric is a function of :class:`CalibrationStats`, whose sums merge exactly, so large
inputs are processed chunk by chunk (memory bounded by the chunk size) and give the same result
as the in-memory call. What needs all rows at once is not available out of core: equal-mass
(quantile) bins, and the Spearman entropy correlation (the report gives the mergeable Pearson
correlation of the entropies, ``entropy_pearson``, instead).
"""

import mmap
import numbers

import numpy as np

from ._stats import CalibrationStats
from ._validation import check_groups

__all__ = ["is_chunked", "iter_chunks", "DEFAULT_CHUNK_ROWS"]

DEFAULT_CHUNK_ROWS = 1 << 18


def _is_dask(a):
    return type(a).__module__.startswith("dask") and hasattr(a, "chunks") and hasattr(a, "compute")


def is_chunked(a):
    """True for inputs processed out of core: dask arrays, memmaps and iterators of chunks."""
    if a is None or isinstance(a, (list, tuple)):
        return False
    if isinstance(a, np.memmap) or _is_dask(a):
        return True
    return hasattr(a, "__next__") or (hasattr(a, "__iter__") and not hasattr(a, "__array__")
                                       and not hasattr(a, "__len__"))


def _memmap_reader(mm, chunk_rows):
    """Read a C-ordered memmap with plain file reads into one reused buffer (the pages are
    never mapped into this process, so resident memory stays at one chunk)."""
    whole_file = isinstance(mm.base, mmap.mmap) and getattr(mm, "filename", None) is not None
    if not (whole_file and mm.flags.c_contiguous):
        for start in range(0, mm.shape[0], chunk_rows):
            yield np.array(mm[start:start + chunk_rows])
        return
    row_bytes = int(np.prod(mm.shape[1:], dtype=np.int64)) * mm.dtype.itemsize
    buf = np.empty((chunk_rows,) + mm.shape[1:], dtype=mm.dtype)
    with open(mm.filename, "rb") as fh:
        fh.seek(mm.offset)
        for start in range(0, mm.shape[0], chunk_rows):
            rows = min(chunk_rows, mm.shape[0] - start)
            view = buf[:rows]
            got = fh.readinto(memoryview(view).cast("B"))
            if got != rows * row_bytes:
                raise ValueError(f"{mm.filename} ended early (row {start + got // row_bytes}).")
            yield view


def _dask_blocks(a, chunk_rows, row_chunks=None):
    if row_chunks is not None:
        a = a.rechunk((row_chunks,) + (-1,) * (a.ndim - 1))
    elif a.ndim == 2:
        a = a.rechunk({1: -1})
    for i in range(a.numblocks[0]):
        yield np.asarray(a.blocks[i].compute())


def iter_chunks(a, *, chunk_rows=DEFAULT_CHUNK_ROWS, row_chunks=None):
    """Yield numpy chunks of rows of ``a`` (dask array, memmap, ndarray or iterator)."""
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, numbers.Integral) or chunk_rows < 1:
        raise ValueError(f"chunk_rows must be a positive integer; got {chunk_rows!r}.")
    if _is_dask(a):
        yield from _dask_blocks(a, chunk_rows, row_chunks)
    elif isinstance(a, np.memmap):
        yield from _memmap_reader(a, chunk_rows)
    elif isinstance(a, np.ndarray):
        for start in range(0, a.shape[0], chunk_rows):
            yield a[start:start + chunk_rows]
    else:
        for chunk in a:
            yield np.asarray(chunk)


def _follower(a, name, chunk_rows, row_chunks):
    """A function ``take(start, rows)`` giving the rows of ``a`` that match the next chunk of
    ``y_prob``: arrays (in memory or memmaps) are sliced to follow y_prob's chunks, whatever
    their sizes; dask arrays and iterators are read chunk by chunk and must have the same row
    chunks."""
    if not is_chunked(a) or isinstance(a, np.memmap):
        a = a if isinstance(a, np.memmap) else np.asarray(a)
        return lambda start, rows: a[start:start + rows]
    chunks = iter_chunks(a, chunk_rows=chunk_rows, row_chunks=row_chunks)

    def take(start, rows):
        try:
            part = next(chunks)
        except StopIteration:
            raise ValueError(f"{name} has fewer rows than y_prob.") from None
        if part.shape[0] != rows:
            raise ValueError(f"{name} and y_prob chunks differ in length ({part.shape[0]} vs "
                             f"{rows} rows); give them the same row chunks.")
        return part

    take.rest = chunks
    return take


def chunked_stats(y_true, y_prob, *, n_bins, binning, labels, sample_weight, classwise, eps,
                  n_threads, groups=None, clusters=None, variance=False, n_bootstrap=0,
                  random_state=None, chunk_rows=DEFAULT_CHUNK_ROWS):
    """Accumulate :class:`CalibrationStats` chunk by chunk (``n_bins`` and ``binning`` are
    already checked).

    ``groups`` and ``clusters`` must be arrays (numpy, memmap or dask): their labels are coded
    once, up front, so that every chunk uses the same codes. Hard labels are decoded by the label rule (column
    codes, or positions in ``labels``), which needs no chunk but its own; an error names the
    global row.
    """
    row_chunks = None
    if _is_dask(y_prob):
        y_prob = y_prob.rechunk({1: -1})
        row_chunks = y_prob.chunks[0]
    codes, group_labels = _coded(groups, "groups")
    cluster_codes, _ = _coded(clusters, "clusters")
    followers = [("y_true", y_true), ("sample_weight", sample_weight), ("groups", codes),
                 ("clusters", cluster_codes)]
    takes = [(name, src, _follower(src, name, chunk_rows, row_chunks))
             for name, src in followers if src is not None]
    stats = None
    n = 0
    for P in iter_chunks(y_prob, chunk_rows=chunk_rows):
        rows = P.shape[0]
        parts = {}
        for name, _, take in takes:
            parts[name] = take(n, rows)
            if parts[name].shape[0] != rows:
                raise ValueError(f"{name} has fewer rows than y_prob.")
        if P.ndim == 1:
            P = np.column_stack([1.0 - P, P]).astype(P.dtype, copy=False)
        if stats is None:
            if P.ndim != 2:
                raise ValueError("y_prob must be a 2-D array of shape (n_samples, n_classes); "
                                 f"got chunks of shape {P.shape}.")
            stats = CalibrationStats(P.shape[1], n_bins=n_bins, binning=binning,
                                     classwise=classwise, labels=labels, eps=eps,
                                     n_groups=1 if group_labels is None else group_labels.shape[0],
                                     variance=variance, n_bootstrap=n_bootstrap,
                                     random_state=random_state, clusters=clusters is not None)
        stats.update(parts["y_true"], P, sample_weight=parts.get("sample_weight"),
                     groups=parts.get("groups"), clusters=parts.get("clusters"),
                     n_threads=n_threads)
        n += rows
    if stats is None:
        raise ValueError("y_prob is empty: it has 0 samples.")
    for name, src, take in takes:
        if hasattr(take, "rest"):
            if next(take.rest, None) is not None:
                raise ValueError(f"{name} has more rows than y_prob.")
        elif np.shape(src)[0] != n:
            raise ValueError(f"{name} has {np.shape(src)[0]} rows, y_prob {n}.")
    if group_labels is not None:
        stats.group_labels = group_labels
        stats.drop_empty_groups()
    return stats


def _coded(a, name):
    """Codes and labels of an out-of-core groups / clusters array, coded once (or Nones)."""
    if a is None:
        return None, None
    if is_chunked(a) and not (isinstance(a, np.memmap) or _is_dask(a)):
        raise ValueError(f"{name} of out-of-core input must be an array (numpy, memmap or "
                         "dask), not an iterator: its labels are coded before the pass.")
    g = np.asarray(a.compute() if _is_dask(a) else a)
    if g.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {g.shape}.")
    return check_groups(g, g.shape[0], name)
