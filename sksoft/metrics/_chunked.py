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


def chunked_stats(y_true, y_prob, *, n_bins, binning, labels, sample_weight, classwise, eps,
                  n_threads, chunk_rows=DEFAULT_CHUNK_ROWS):
    """Accumulate :class:`CalibrationStats` chunk by chunk; returns the raw-statistics dict
    of ``compute_stats`` (without per-row arrays)."""
    from ._stats import CalibrationStats, uniform_edges

    row_chunks = None
    if _is_dask(y_prob):
        y_prob = y_prob.rechunk({1: -1})
        row_chunks = y_prob.chunks[0]
    prob_iter = iter_chunks(y_prob, chunk_rows=chunk_rows)
    true_iter = iter_chunks(y_true, chunk_rows=chunk_rows, row_chunks=row_chunks)
    weight_iter = None if sample_weight is None else iter_chunks(
        sample_weight if is_chunked(sample_weight) else np.asarray(sample_weight),
        chunk_rows=chunk_rows, row_chunks=row_chunks)
    stats = None
    n = 0
    for P in prob_iter:
        try:
            T = next(true_iter)
        except StopIteration:
            raise ValueError("y_true has fewer rows than y_prob.") from None
        if T.shape[0] != P.shape[0]:
            raise ValueError(f"y_true and y_prob chunks differ in length ({T.shape[0]} vs "
                             f"{P.shape[0]} rows); give them the same row chunks.")
        W = None if weight_iter is None else next(weight_iter)
        if P.ndim == 1:
            P = np.column_stack([1.0 - P, P]).astype(P.dtype, copy=False)
        if stats is None:
            stats = CalibrationStats(P.shape[1], n_bins=n_bins, binning=binning,
                                     classwise=classwise, labels=labels, eps=eps)
        stats.update(T, P, sample_weight=W, n_threads=n_threads)
        n += P.shape[0]
    if stats is None:
        raise ValueError("y_prob is empty: it has 0 samples.")
    if next(true_iter, None) is not None:
        raise ValueError("y_true has more rows than y_prob.")
    edges = uniform_edges(n_bins, binning)
    if binning == "torchmetrics":
        edges = np.append(edges, np.inf)
    return {"top": stats.top, "cls": stats.cls, "sums": stats.sums, "rows": {},
            "edges": edges, "class_edges": stats.edges[None, :] if classwise else None,
            "group_labels": np.array([None], dtype=object), "n_samples": n,
            "soft": None, "weight": None, "codes": None}
