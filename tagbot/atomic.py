"""Reading and writing files safely: only regular files are read (a pipe named `Dockerfile`
would block forever), and a write replaces the file whole, so nothing is ever half-written.

A replaced file keeps its mode, owner and group. A symbolic link is written through to its
target, when that lies inside the folder being worked on. A file with several hard links is
refused: replacing it would give this name a new file and leave the other names the old text,
and rewriting it in place could leave it half-written; neither is a change a person asked for.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path

MAX_FILE = 32 * 1024 * 1024  # no Dockerfile, compose file or cache entry is larger


class UnsafeWrite(OSError):
    """The file is not one tagbot may replace; `strerror` says why."""


def read_regular_file(path: Path, limit: int = MAX_FILE) -> bytes:
    """The bytes of `path`, which must be a regular file (links followed) of at most `limit`."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(0, "not a regular file", str(path))
        if info.st_size > limit:
            raise OSError(0, f"larger than {limit // (1024 * 1024)} MiB", str(path))
        return handle.read(limit + 1)[:limit]


def file_digest(data: bytes) -> str:
    """What a file's bytes were, to tell later whether it still holds them."""
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes, *, inside: Path | None = None) -> None:
    """Readers see the old file or the new one, never a part. With `inside`, a link is written
    through only to a target below that folder."""
    target = _target(path, inside)
    existing = target.stat() if target.exists() else None
    if existing is not None and existing.st_nlink > 1:
        raise UnsafeWrite(0, f"it has {existing.st_nlink} hard links, which replacing it would split")
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if existing is not None:
            _keep_owner_and_mode(temporary, existing)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _target(path: Path, inside: Path | None) -> Path:
    if not path.is_symlink():
        return path
    real = Path(os.path.realpath(path))
    if inside is not None and not real.is_relative_to(Path(os.path.realpath(inside))):
        raise UnsafeWrite(0, "it is a link to a file outside the folder tagbot works on")
    return real


def _keep_owner_and_mode(temporary: str, existing: os.stat_result) -> None:
    os.chmod(temporary, stat.S_IMODE(existing.st_mode))
    if hasattr(os, "chown") and (existing.st_uid, existing.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(temporary, existing.st_uid, existing.st_gid)
        except PermissionError:
            raise UnsafeWrite(0, "it belongs to another user, and replacing it would change its owner") from None
