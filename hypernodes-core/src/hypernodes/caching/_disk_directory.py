"""The directory side of ``DiskCache``: private value files, reading an index this process
cannot write, and moving a corrupt index aside. Everything here imports diskcache and
sqlite3 on first use only."""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "INDEX",
    "SQLITE_CORRUPT",
    "SQLITE_NOT_WRITABLE",
    "ReadOnlyIndex",
    "file_id",
    "move_aside",
    "not_writable",
    "private_disk",
    "sqlite_code",
]

INDEX = "cache.db"
INDEX_FILES = (INDEX, f"{INDEX}-wal", f"{INDEX}-shm")
# SQLite primary result codes (the low byte of sqlite_errorcode).
SQLITE_CORRUPT = (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
SQLITE_NOT_WRITABLE = (3, 8, 14, 23)  # SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN, AUTH


def sqlite_code(exc: BaseException) -> int:
    """The SQLite primary result code of an ``sqlite3`` error (-1's low byte otherwise)."""
    return int(getattr(exc, "sqlite_errorcode", -1)) & 0xFF


def not_writable(exc: BaseException) -> bool:
    """Whether ``exc`` says this process may not write there (not a passing fault)."""
    import errno
    import sqlite3

    if isinstance(exc, sqlite3.DatabaseError):
        return sqlite_code(exc) in SQLITE_NOT_WRITABLE
    return isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)


def file_id(path: Path) -> tuple[int, int] | None:
    """Which file is at ``path`` now (device, inode), to tell a replaced index apart."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def move_aside(path: Path) -> tuple[Path, int]:
    """Move the index and the value folders into ``corrupt-<time>-<pid>/``; count the files."""
    import string

    aside = path / f"corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    aside.mkdir(mode=0o700)
    for name in INDEX_FILES:
        try:
            os.replace(path / name, aside / name)
        except FileNotFoundError:
            pass
    files = 0
    for child in path.iterdir():  # value files live in two-hex-digit folders
        if len(child.name) == 2 and set(child.name) <= set(string.hexdigits) and child.is_dir():
            os.replace(child, aside / child.name)
            files += sum(len(names) for _, _, names in os.walk(aside / child.name))
    return aside, files


_disk_class: Any = None


def private_disk() -> Any:
    """A ``diskcache.Disk`` that writes value files and their folders private to this user.

    Built on first use so that ``import hypernodes`` does not import diskcache.
    """
    global _disk_class
    if _disk_class is not None:
        return _disk_class
    import diskcache
    from diskcache.core import MODE_BINARY, UNKNOWN

    class PrivateDisk(diskcache.Disk):  # type: ignore[misc]
        """Value files ``0600`` in folders ``0700``; only bytes are stored (DiskCache pickles)."""

        def store(self, value: Any, read: bool, key: Any = UNKNOWN) -> Any:
            if type(value) is not bytes or len(value) < self.min_file_size:
                return super().store(value, read, key)
            filename, full_path = self.filename(key, value)
            folder = os.path.dirname(full_path)
            os.makedirs(os.path.dirname(folder), mode=0o700, exist_ok=True)
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd = os.open(full_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as file:
                file.write(value)
            return len(value), MODE_BINARY, filename, None

    _disk_class = PrivateDisk
    return _disk_class


class ReadOnlyIndex:
    """Reads entries of a diskcache directory this process cannot write.

    SQLite cannot open a write-ahead-log database read-only when its ``-shm``
    file is missing and cannot be created; then the index is opened as
    immutable (it cannot change under us: nobody here can write it).
    """

    def __init__(self, path: Path) -> None:
        import sqlite3

        import diskcache

        index = path / INDEX
        if not index.is_file():
            msg = f"there is no {INDEX} in it"
            raise FileNotFoundError(2, msg)
        uri = index.resolve().as_uri()
        try:
            self._db = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False)
            self._db.execute("SELECT 1 FROM Cache LIMIT 1").fetchall()
        except sqlite3.OperationalError:
            self._db = sqlite3.connect(f"{uri}?immutable=1", uri=True, check_same_thread=False)
            self._db.execute("SELECT 1 FROM Cache LIMIT 1").fetchall()
        self._disk = diskcache.Disk(str(path))
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        db_key, raw = self._disk.put(key)
        with self._lock:
            row = self._db.execute(
                "SELECT mode, filename, value FROM Cache WHERE key = ? AND raw = ? "
                "AND (expire_time IS NULL OR expire_time > ?)",
                (db_key, raw, time.time()),
            ).fetchone()
        if row is None:
            return None
        data: bytes = self._disk.fetch(row[0], row[1], row[2], False)
        return data

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM Cache").fetchone()
        return int(count)

    def close(self) -> None:
        self._db.close()
