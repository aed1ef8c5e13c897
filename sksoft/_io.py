"""Reading user-supplied files safely: ``.npz`` archives and members of tarballs.

A file a user hands to sksoft (``sksoft report FILE.npz``, ``sksoft study --data FILE.npz``,
the CIFAR-10 archive) may be truncated, of the wrong kind, or hostile. Every problem becomes a
``ValueError`` that names the file, and nothing is decompressed before it is known to be
plausible. Before a member of an ``.npz`` is opened, its entry in the archive's directory is
checked: only stored and deflated members are read (what ``numpy.savez`` and
``numpy.savez_compressed`` write; bzip2 and lzma decompress a whole block of up to gigabytes on
the first small read, so no header check could run before the bomb went off), never encrypted
ones, and the member is refused when its declared size exceeds ``max_bytes`` or it would
inflate more than ``max_ratio`` times (a decompression bomb: real probability matrices and
labels compress a few times, not thousands). Then its ``.npy`` header (a few hundred bytes) is
read and the member is refused when its declared size disagrees with the header; the data are
read in bounded chunks straight into the array (never held twice), and ``zipfile`` never
inflates more than the declared size.
"""

import ast
import os
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = ["check_path", "load_npy", "load_npz", "read_tar_member", "MAX_ARRAY_BYTES",
           "MAX_RATIO"]

#: The largest array a user file may hold (uncompressed), 16 GiB by default.
MAX_ARRAY_BYTES = 16 << 30
#: The largest uncompressed / compressed size of a compressed member of more than 64 MiB.
MAX_RATIO = 1000
_RATIO_MIN_BYTES = 64 << 20
#: the largest .npy header (numpy writes a few hundred bytes; the format allows 4 GiB)
_MAX_HEADER = 1 << 16
#: the compression methods read: those numpy writes (stored, deflated)
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "lzma"}
#: bytes read at a time from a member
_CHUNK = 1 << 20


def check_path(path, name, *, kind="file"):
    """A user-given path: ``TypeError`` unless a str or ``os.PathLike``; ``ValueError`` when
    ``kind="file"`` and it is not an existing file, or ``kind="folder"`` and it exists but is
    not a folder (a folder that does not exist yet is fine: it is created when needed).

    Examples
    --------
    >>> check_path(3, "path")
    Traceback (most recent call last):
    ...
    TypeError: path must be a path (str or os.PathLike); got int.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike); got "
                        f"{type(path).__name__}.")
    p = Path(path).expanduser()
    if kind == "file" and not p.is_file():
        raise ValueError(f"{name}: {p} does not exist or is not a file.")
    if kind == "folder" and p.exists() and not p.is_dir():
        raise ValueError(f"{name}: {p} exists and is not a folder.")
    return p


def load_npy(path, name="path", *, max_bytes=MAX_ARRAY_BYTES):
    """Read one ``.npy`` file (never unpickling): a truncated or corrupt file, one that is not
    a ``.npy`` array or holds Python objects, or an array larger than ``max_bytes`` is a
    ``ValueError`` naming ``name``."""
    path = check_path(path, name)
    with open(path, "rb") as fh:
        head = fh.read(4096)
        shape, dtype, fortran, offset = _npy_header(head, f"{name} ({path})")
        n_bytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
        if n_bytes > max_bytes:
            raise ValueError(f"{name} ({path}) declares an array of {n_bytes / 2**30:.1f} GiB "
                             f"(limit {max_bytes / 2**30:.1f} GiB).")
        if path.stat().st_size != offset + n_bytes:
            raise ValueError(f"{name} ({path}) has {path.stat().st_size} bytes but its header "
                             f"describes {offset + n_bytes}: the file is truncated or corrupt.")
        fh.seek(offset)
        buf = _read_into(fh, n_bytes)
    if buf.shape[0] != n_bytes:
        raise ValueError(f"{name} ({path}) is truncated ({buf.shape[0]} of {n_bytes} bytes).")
    return _as_array(buf, shape, dtype, fortran)


def _read_into(fh, n_bytes, head=b""):
    """``head`` and then up to ``n_bytes - len(head)`` bytes of ``fh``, read in bounded chunks
    into one preallocated buffer (the bytes are never held twice); the buffer is cut short
    when the stream ends early."""
    buf = np.empty(n_bytes, dtype=np.uint8)
    head = head[:n_bytes]
    buf[:len(head)] = np.frombuffer(head, dtype=np.uint8)
    pos = len(head)
    view = memoryview(buf)
    while pos < n_bytes:
        got = fh.readinto(view[pos:pos + min(_CHUNK, n_bytes - pos)])
        if not got:
            return buf[:pos]
        pos += got
    return buf


def _as_array(buf, shape, dtype, fortran):
    """The array of ``shape`` and ``dtype`` whose bytes are ``buf`` (no copy)."""
    return buf.view(dtype).reshape(shape, order="F" if fortran else "C")


def _npy_header(raw, where):
    """(shape, dtype, Fortran order, header length) from the first bytes of an .npy member."""
    if not raw.startswith(b"\x93NUMPY") or len(raw) < 10:
        raise ValueError(f"{where} is not a .npy array.")
    major = raw[6]
    if major == 1:
        hlen, start = int.from_bytes(raw[8:10], "little"), 10
    elif major in (2, 3):
        hlen, start = int.from_bytes(raw[8:12], "little"), 12
    else:
        raise ValueError(f"{where} has an unknown .npy version {major}.")
    text = raw[start:start + hlen]
    if len(text) < hlen:
        raise ValueError(f"{where} has a truncated .npy header.")
    try:
        header = ast.literal_eval(text.decode("latin1"))
        shape = tuple(int(s) for s in header["shape"])
        dtype = np.dtype(header["descr"])
        fortran = bool(header.get("fortran_order", False))
    except (ValueError, SyntaxError, KeyError, TypeError, AttributeError):
        raise ValueError(f"{where} has an invalid .npy header.") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"{where} declares a negative dimension.")
    if dtype.hasobject:
        raise ValueError(f"{where} holds Python objects, which sksoft never unpickles.")
    return shape, dtype, fortran, start + hlen


def load_npz(path, *, names=None, required=(), max_bytes=MAX_ARRAY_BYTES, max_ratio=MAX_RATIO):
    """Read the arrays of an ``.npz`` archive (never unpickling), checking each before use.

    Parameters
    ----------
    path : str or Path
    names : iterable of str, optional
        Read only these members (when present); default: all.
    required : iterable of str
        Members that must be present.
    max_bytes : int
        Refuse an array larger than this, uncompressed.
    max_ratio : float
        Refuse a compressed member of more than 64 MiB that inflates more than this.

    Returns
    -------
    dict of str -> ndarray

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "a.npz")
    >>> np.savez_compressed(path, y_prob=np.eye(2))
    >>> load_npz(path)["y_prob"].tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} does not exist or is not a file.")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, ValueError, EOFError):
        with open(path, "rb") as fh:
            magic = fh.read(6)
        kind = "a plain .npy array" if magic == b"\x93NUMPY" else "not a (complete) zip archive"
        raise ValueError(f"{path} is {kind}; an .npz archive of named arrays is expected "
                         "(numpy.savez).") from None
    out = {}
    with archive:
        members = {info.filename[:-4] if info.filename.endswith(".npy") else info.filename: info
                   for info in archive.infolist() if not info.is_dir()}
        missing = [r for r in required if r not in members]
        if missing:
            raise ValueError(f"{path} needs arrays {sorted(missing)}; it has {sorted(members)}.")
        wanted = members if names is None else [n for n in names if n in members]
        for name in wanted:
            out[name] = _read_member(archive, members[name], f"{path}[{name}]", max_bytes,
                                     max_ratio)
    return out


def _check_entry(info, where, max_bytes, max_ratio):
    """Refuse a member from its directory entry alone, before it is opened: its compression
    method, encryption, declared size and compression ratio."""
    if info.compress_type not in _METHODS:
        method = _METHOD_NAMES.get(info.compress_type, f"method {info.compress_type}")
        raise ValueError(f"{where} is compressed with {method}; only stored or deflated members "
                         "are read (numpy.savez and numpy.savez_compressed write these).")
    if info.flag_bits & 0x1:
        raise ValueError(f"{where} is encrypted.")
    if info.file_size > max_bytes + _MAX_HEADER:
        raise ValueError(f"{where} declares {info.file_size / 2**30:.1f} GiB "
                         f"(limit {max_bytes / 2**30:.1f} GiB).")
    if (info.compress_type != zipfile.ZIP_STORED and info.file_size > _RATIO_MIN_BYTES
            and info.file_size > max_ratio * max(info.compress_size, 1)):
        raise ValueError(f"{where} would inflate {info.compress_size} bytes to "
                         f"{info.file_size}: refused as a decompression bomb.")


def _read_member(archive, info, where, max_bytes, max_ratio):
    _check_entry(info, where, max_bytes, max_ratio)
    try:
        with archive.open(info) as fh:
            head = fh.read(4096)
            shape, dtype, fortran, offset = _npy_header(head, where)
            n_bytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
            if n_bytes > max_bytes:
                raise ValueError(f"{where} declares an array of {n_bytes / 2**30:.1f} GiB "
                                 f"(limit {max_bytes / 2**30:.1f} GiB).")
            if info.file_size != offset + n_bytes:
                raise ValueError(f"{where} declares {info.file_size} bytes but its header "
                                 f"describes {offset + n_bytes}: the archive is corrupt.")
            buf = _read_into(fh, n_bytes, head[offset:])
    except (zipfile.BadZipFile, EOFError, OSError, zipfile.LargeZipFile, zlib.error,
            NotImplementedError, RuntimeError) as exc:
        raise ValueError(f"{where} cannot be read: {exc}.") from None
    if buf.shape[0] != n_bytes:
        raise ValueError(f"{where} is truncated ({buf.shape[0]} of {n_bytes} bytes).")
    return _as_array(buf, shape, dtype, fortran)


def read_tar_member(path, member_name, *, max_size, multiple_of=1):
    """The bytes of a regular-file member of a (gzipped) tarball.

    Directories, links and devices under that name, a member larger than ``max_size`` bytes or
    not a positive multiple of ``multiple_of`` bytes, and truncated or corrupt archives are
    refused with a ``ValueError`` before anything is extracted.
    """
    path = Path(path)
    try:
        with tarfile.open(path, "r:*") as tar:
            try:
                member = tar.getmember(member_name)
            except KeyError:
                raise ValueError(f"{path} has no {member_name}.") from None
            if not member.isfile():
                raise ValueError(f"{path}: {member_name} is not a regular file.")
            size = member.size
            if size > max_size or size <= 0 or size % multiple_of:
                raise ValueError(f"{path}: {member_name} has {size} bytes; a positive multiple "
                                 f"of {multiple_of} up to {max_size} is expected.")
            fh = tar.extractfile(member)
            raw = fh.read(size + 1)
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise ValueError(f"{path} cannot be read as a tar archive: {exc}.") from None
    if len(raw) != size:
        raise ValueError(f"{path}: {member_name} is truncated ({len(raw)} of {size} bytes).")
    return raw
