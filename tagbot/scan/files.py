"""Which files to scan: a walk of the given paths that honours .gitignore and stays in its root."""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# Never our business, and often huge.
SKIP_DIRS = frozenset({".git", "node_modules", "vendor"})


@dataclass(frozen=True)
class FileToScan:
    path: Path
    name: str  # relative to the base, `/`-separated: what reports show
    kind: str


def find_files(
    paths: Sequence[Path],
    *,
    base: Path,
    kind_of: Callable[[str], str | None],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> list[FileToScan]:
    """Files of a known kind below `paths`, in name order, each once."""
    chosen: dict[Path, FileToScan] = {}
    by_repository: dict[Path, list[Path]] = {}
    for root in paths:
        toplevel = _git_toplevel(root if root.is_dir() else root.parent)
        for path in _walk(root):
            kind = kind_of(path.name)
            name = _display_name(path, base)
            if kind is None or not _selected(name, include, exclude) or path.absolute() in chosen:
                continue
            chosen[path.absolute()] = FileToScan(path, name, kind)
            if toplevel is not None:
                by_repository.setdefault(toplevel, []).append(path.absolute())
    ignored = {p for top, members in by_repository.items() for p in _check_ignore(top, members)}
    return sorted((f for p, f in chosen.items() if p not in ignored), key=lambda f: f.name)


def _walk(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        if root.exists():
            yield root  # named on the command line: taken as given
        return
    real_root = root.resolve()
    for directory, subdirectories, filenames in os.walk(root):
        # os.walk does not enter linked directories; pruning here also skips vendored trees.
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIP_DIRS)
        for filename in filenames:
            path = Path(directory, filename)
            if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                continue
            yield path


def _display_name(path: Path, base: Path) -> str:
    try:
        return path.absolute().relative_to(base.absolute()).as_posix()
    except ValueError:
        return path.as_posix()


def _selected(name: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    if include and not any(_glob_matches(name, glob) for glob in include):
        return False
    return not any(_glob_matches(name, glob) for glob in exclude)


def _glob_matches(name: str, glob: str) -> bool:
    """A glob with a `/` matches the whole relative path; one without, the path or the file name."""
    if fnmatch.fnmatchcase(name, glob):
        return True
    return "/" not in glob and fnmatch.fnmatchcase(name.rsplit("/", 1)[-1], glob)


def _git_toplevel(directory: Path) -> Path | None:
    """The work tree `directory` is in, or None outside git (or without git installed)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, check=False,
        )
    except OSError:
        return None
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def _check_ignore(toplevel: Path, paths: list[Path]) -> set[Path]:
    # Tracked files are never reported ignored (no --no-index), as git itself treats them.
    result = subprocess.run(
        ["git", "-C", str(toplevel), "check-ignore", "-z", "--stdin"],
        input="\0".join(str(p) for p in paths) + "\0", capture_output=True, text=True, check=False,
    )
    if result.returncode not in (0, 1):
        return set()
    return {Path(p) for p in result.stdout.split("\0") if p}

