"""CIFAR-10H: ~51 human labels for each of the 10,000 CIFAR-10 test images."""

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from .._io import check_path, load_npy, load_npz, read_tar_member
from .._optional import import_optional
from .._validation import check_scalar
from ..annotations import counts_to_soft

__all__ = ["load_cifar10h", "fetch_cifar10h", "get_data_home", "read_cifar10_binary"]

CLASS_NAMES = np.array(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                        "ship", "truck"])

# The official release files (see shared/README of the project for how these were checked).
REMOTE_FILES = {
    "cifar10h-counts.npy": {
        "url": "https://github.com/jcpeterson/cifar-10h/raw/master/data/cifar10h-counts.npy",
        "sha256": "9b36b4550349af56c79083356312eb4af856cc5fd3caf1f669d40b9d0bbb69ff",
    },
    "cifar-10-binary.tar.gz": {
        "url": "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        "sha256": "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
    },
}
_TEST_MEMBER = "cifar-10-batches-bin/test_batch.bin"
_RECORD = 1 + 3 * 32 * 32

DESCR = """CIFAR-10H (Peterson, Battleday, Griffiths & Russakovsky, ICCV 2019)
===================================================================

Human label distributions for the 10,000 CIFAR-10 *test* images: about 51 annotators per
image (47-63) chose one of the ten classes. ``counts`` are their votes, ``soft_labels`` the
vote fractions, ``y_gold`` the original CIFAR-10 labels. CIFAR-10H is licensed CC BY-NC-SA 4.0.
"""


def get_data_home(data_home=None):
    """Cache folder: ``data_home``, else ``$SKSOFT_DATA``, else ``~/sksoft_data`` (created)."""
    if data_home is None:
        data_home = os.environ.get("SKSOFT_DATA") or Path.home() / "sksoft_data"
        name = "the data home ($SKSOFT_DATA or ~/sksoft_data)"
    else:
        name = "data_home"
    path = check_path(data_home, name, kind="folder")
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_cifar10_binary(source):
    """Read a CIFAR-10 binary batch (never unpickles): returns (images (n,32,32,3), labels).

    ``source`` is a path to ``test_batch.bin``, to the official ``cifar-10-binary.tar.gz``
    (the test batch is read from inside the archive), or the raw bytes.
    """
    return _read_batch(source, "source")


def _read_batch(source, name):
    if isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
    else:
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"{name} must be bytes or a path (str or os.PathLike); got "
                            f"{type(source).__name__}.")
        source = check_path(source, name)
        if source.name.endswith((".tar.gz", ".tgz", ".tar")):
            try:
                raw = read_tar_member(source, _TEST_MEMBER, max_size=10_000 * _RECORD,
                                      multiple_of=_RECORD)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        else:
            if source.stat().st_size > 10 * 10_000 * _RECORD:
                raise ValueError(f"{name}: {source} has {source.stat().st_size} bytes, more "
                                 "than ten CIFAR-10 batches.")
            raw = source.read_bytes()
    if len(raw) % _RECORD or not raw:
        raise ValueError(f"{name}: CIFAR-10 binary data must be a positive multiple of "
                         f"{_RECORD} bytes; got {len(raw)}.")
    rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _RECORD)
    labels = rec[:, 0].astype(np.int64)
    images = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
    return images, labels


def _bunch(images, counts, y_gold, class_names, source):
    counts = np.asarray(counts)
    if counts.dtype.kind not in "iuf":
        raise ValueError(f"CIFAR-10H counts must be numbers; got dtype {counts.dtype}.")
    if counts.ndim != 2 or counts.shape[1] != 10:
        raise ValueError(f"CIFAR-10H counts must have shape (n, 10); got {counts.shape}.")
    if images is not None and images.shape[0] != counts.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {counts.shape[0]} rows of counts.")
    counts = np.rint(counts).astype(np.int64)
    return Bunch(images=images, counts=counts, soft_labels=counts_to_soft(counts),
                 y_gold=np.asarray(y_gold, dtype=np.int64), class_names=np.asarray(class_names),
                 source=str(source), DESCR=DESCR)


def load_cifar10h(path=None, *, counts_path=None, batch_path=None):
    """Load CIFAR-10H from local files.

    Parameters
    ----------
    path : str or Path, optional
        An ``.npz`` with ``images`` (n, 32, 32, 3) uint8, ``counts`` (n, 10),
        ``true_labels`` and ``class_names`` (the layout of the project's aligned copy).
    counts_path, batch_path : str or Path, optional
        The official ``cifar10h-counts.npy`` and the CIFAR-10 binary test batch
        (``test_batch.bin`` or the whole ``cifar-10-binary.tar.gz``); used when ``path`` is
        None. Without ``batch_path`` only the labels are loaded (``images`` is None).

    Returns
    -------
    Bunch
        ``images``, ``counts``, ``soft_labels``, ``y_gold``, ``class_names``, ``DESCR``.
    """
    if path is not None:
        check_path(path, "path")
        if counts_path is not None or batch_path is not None:
            raise ValueError("give path (an .npz) or counts_path and batch_path (the official "
                             "files), not both.")
        d = load_npz(path, names=("counts", "true_labels", "class_names", "images"),
                     required=("counts", "true_labels"))
        return _bunch(d.get("images"), d["counts"], d["true_labels"],
                      d.get("class_names", CLASS_NAMES), path)
    if counts_path is None:
        raise ValueError("give path (an .npz) or counts_path (the official counts .npy).")
    counts = load_npy(counts_path, "counts_path")
    images, labels = (None, None)
    if batch_path is not None:
        images, labels = _read_batch(batch_path, "batch_path")
    if labels is None:
        raise ValueError("batch_path (the CIFAR-10 binary test batch) is needed for the gold labels.")
    return _bunch(images, counts, labels, CLASS_NAMES, counts_path)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _download(url, dest, sha256, *, progress=True, timeout=60):
    """Download to a temporary file beside ``dest``, verify, then move into place.

    Nothing is left at ``dest`` unless the checksum matches: an interrupted download or a
    corrupted file leaves only the (removed) temporary file.
    """
    tmp = tempfile.NamedTemporaryFile(dir=dest.parent, prefix=dest.name + ".", suffix=".part",
                                      delete=False)
    try:
        with tmp:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    total = int(resp.headers.get("Content-Length") or 0) or None
                    bar = None
                    tqdm = progress and import_optional("tqdm.auto", extra="study",
                                                        required=False)
                    if tqdm:  # a bar when tqdm is installed
                        bar = tqdm.tqdm(total=total, unit="B", unit_scale=True,
                                        desc=dest.name, leave=False)
                    received = 0
                    while True:
                        chunk = resp.read(1 << 16)
                        if not chunk:
                            break
                        tmp.write(chunk)
                        received += len(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
                    if bar is not None:
                        bar.close()
                    if total is not None and received != total:
                        raise OSError(f"download of {url} was interrupted "
                                      f"({received} of {total} bytes).")
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                raise OSError(
                    f"could not download {url} ({exc}). If this machine is offline, download the "
                    f"file elsewhere and place it at {dest}."
                ) from exc
        digest = _sha256(tmp.name)
        if digest != sha256:
            raise OSError(f"checksum mismatch for {url}: expected SHA-256 {sha256}, got {digest}; "
                          "the file was not cached.")
        shutil.move(tmp.name, dest)
    finally:
        if os.path.exists(tmp.name):
            os.remove(tmp.name)
    return dest


def fetch_cifar10h(data_home=None, *, download_if_missing=True, progress=True):
    """Download (once) and load the official CIFAR-10H counts and CIFAR-10 test images.

    Files are cached in :func:`get_data_home` and verified with SHA-256 (also when already
    cached); a failed or corrupted download leaves nothing in the cache. Offline, a clear
    ``OSError`` says which file to place where.

    Returns
    -------
    Bunch
        As :func:`load_cifar10h`.
    """
    check_scalar(download_if_missing, "download_if_missing", "boolean")
    check_scalar(progress, "progress", "boolean")
    home = get_data_home(data_home)
    paths = {}
    for name, meta in REMOTE_FILES.items():
        dest = home / name
        if dest.exists() and _sha256(dest) != meta["sha256"]:
            dest.unlink()
        if not dest.exists():
            if not download_if_missing:
                raise OSError(f"{dest} is missing and download_if_missing=False.")
            _download(meta["url"], dest, meta["sha256"], progress=progress)
        paths[name] = dest
    return load_cifar10h(counts_path=paths["cifar10h-counts.npy"],
                         batch_path=paths["cifar-10-binary.tar.gz"])
