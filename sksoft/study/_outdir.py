"""The study's output folder, written as one run: a lock, a staging folder, one commit.

A study's files (results.csv, summary.md, config.json, figures/, ...) must always describe one
run. So a run

* **locks** the folder (``.sksoft-study.lock``, an advisory ``flock`` where the platform has
  one, else an exclusive create): a second study on the same ``--out`` is refused with a
  ``ValueError`` naming the folder and the run that holds it, before it touches anything;
* **stages** its files in ``<out>/.sksoft-staging/`` while it runs (results.csv is still
  appended fit by fit there, so a killed run keeps every finished fit in that folder until
  the next run into ``out`` clears it);
* **commits** at the end (also after Ctrl-C, with the partial results): it removes every
  output of the earlier run -- including figures/ and cartography/, which a run without
  figures or networks would otherwise leave behind -- then moves the staged files in. At no
  moment does the folder hold files of two runs: first a subset of the old ones, then a subset
  of the new ones. Other files in ``out`` are never touched.

A run that fails leaves ``out`` as it was (the previous run's files), its own finished fits in
the staging folder, and releases the lock.
"""

import json
import os
import shutil
import socket
import time
from pathlib import Path

__all__ = ["OutputFolder", "STUDY_OUTPUTS", "LOCK_NAME", "STAGING_NAME"]

#: every file and folder a study writes into its output folder (an earlier run's are removed)
STUDY_OUTPUTS = ("results.csv", "curves.csv", "dynamics.csv", "summary.md", "differences.csv",
                 "config.json", "figures", "cartography")
LOCK_NAME = ".sksoft-study.lock"
STAGING_NAME = ".sksoft-staging"

try:  # POSIX: a lock that the system releases when its holder dies
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


class OutputFolder:
    """One run's hold on an output folder: ``open()`` (lock, fresh staging folder; returns
    it), ``commit()`` (the staged files replace the earlier run's), ``close()`` (release the
    lock; a run that did not commit leaves ``out`` untouched). Also a context manager (open on
    enter, close on exit).

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "study"
    >>> run = OutputFolder(out)
    >>> staging = run.open()
    >>> _ = (staging / "results.csv").write_text("a,b\\n")
    >>> OutputFolder(out).open()
    Traceback (most recent call last):
    ...
    ValueError: out: ... is in use by another sksoft study (pid ...); wait for it to finish or choose another --out.
    >>> _ = run.commit()
    >>> run.close()
    True
    >>> sorted(p.name for p in out.iterdir())
    ['results.csv']
    """

    def __init__(self, out, outputs=STUDY_OUTPUTS):
        self.out = Path(out).expanduser()
        self.outputs = tuple(outputs)
        self.staging = self.out / STAGING_NAME
        self.committed = False
        self._fd = None
        self._exclusive = False

    # ------------------------------------------------------------------ the lock
    def open(self):
        """Create ``out`` if needed, take its lock (``ValueError`` if another run holds it) and
        return a fresh, empty staging folder."""
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"out: {self.out} exists and is not a folder.")
        self.out.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            if self.staging.exists():  # a killed or failed run's leftovers
                shutil.rmtree(self.staging)
            self.staging.mkdir()
        except BaseException:
            self.close()
            raise
        return self.staging

    def _lock(self):
        path = self.out / LOCK_NAME
        for _ in range(100):
            if fcntl is None:  # pragma: no cover - Windows: an exclusive create
                try:
                    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR)
                except FileExistsError:
                    raise self._busy(path) from None
                self._exclusive = True
            else:
                fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    raise self._busy(path) from None
                # the holder before us may have removed the file after we opened it: then our
                # lock is on a file nobody else sees; take the one at the path
                try:
                    same = os.stat(path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
                if not same:
                    os.close(fd)
                    continue
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                     "started": time.strftime("%Y-%m-%dT%H:%M:%S")}).encode())
            self._fd = fd
            return
        raise ValueError(f"out: could not lock {self.out}.")  # pragma: no cover

    def _busy(self, path):
        try:
            holder = json.loads(path.read_text())
            who = (f"pid {holder['pid']} on {holder['host']}, started {holder['started']}")
        except (OSError, ValueError, KeyError, TypeError):
            who = "holder unknown"
        hint = "" if fcntl is not None else \
            f" If no study is running there, remove {path}."  # pragma: no cover
        return ValueError(f"out: {self.out} is in use by another sksoft study ({who}); wait "
                          f"for it to finish or choose another --out.{hint}")

    def close(self):
        """Release the lock (idempotent). Returns whether the run was committed."""
        if self._fd is not None:
            path = self.out / LOCK_NAME
            try:
                os.unlink(path)  # (before the unlock: a waiter re-checks the inode)
            except FileNotFoundError:  # pragma: no cover
                pass
            os.close(self._fd)
            self._fd = None
        return self.committed

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()
        return False

    # ------------------------------------------------------------------ the commit
    def commit(self):
        """Replace the earlier run's outputs in ``out`` by the staged files; returns ``out``."""
        if self._fd is None:
            raise RuntimeError("commit() of an output folder that is not open")
        for name in self.outputs:
            _remove(self.out / name)
        for entry in sorted(self.staging.iterdir()):
            os.replace(entry, self.out / entry.name)
        self.staging.rmdir()
        self.committed = True
        return self.out



def _remove(path):
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
