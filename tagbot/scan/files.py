"""Which files to scan: a walk of the given paths that honours .gitignore and stays in its repository."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tagbot.globs import PathGlobs

# Never our business, and often huge.
SKIP_DIRS = frozenset({".git", "node_modules", "vendor"})


@dataclass(frozen=True)
class FileToScan:
    path: Path
    name: str  # relative to the base, `/`-separated: what reports show
    kind: str


@dataclass(frozen=True)
class FoundFiles:
    files: list[FileToScan]
    unreadable: list[tuple[str, str]]  # (folder or file, why): reported, never passed over in silence


def find_files(
    paths: Sequence[Path],
    *,
    base: Path,
    kind_of: Callable[[str], str | None],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> FoundFiles:
    """Regular files of a known kind below `paths`, in name order, each once, and the folders
    that could not be read (a rule broken in there would otherwise pass unseen)."""
    base_prefix = os.path.join(os.path.abspath(base), "")
    included, excluded = PathGlobs(include), PathGlobs(exclude)
    chosen: dict[str, FileToScan] = {}
    by_repository: dict[Path, list[str]] = {}
    unreadable: list[tuple[str, str]] = []
    for root in paths:
        root_path = os.path.abspath(root)
        toplevel = _git_toplevel(root_path if os.path.isdir(root_path) else os.path.dirname(root_path))
        # A link is followed when it stays in the repository (or, outside git, the folder worked
        # on), though it may leave the path named: `app/Dockerfile -> ../real/Dockerfile`.
        repository = os.path.join(os.path.realpath(toplevel or base), "")
        for path in _walk(root_path, unreadable):
            if path in chosen:
                continue
            name = path.removeprefix(base_prefix).replace(os.sep, "/")
            kind = kind_of(name)
            if kind is None:
                continue
            if not _selected(name, included, excluded):
                continue
            if os.path.islink(path) and not os.path.realpath(path).startswith(repository):
                unreadable.append((path, "skipped: a link to a file outside the repository"))
                continue
            chosen[path] = FileToScan(Path(path), name, kind)
            if toplevel is not None:
                by_repository.setdefault(toplevel, []).append(path)
    ignored = {p for top, members in by_repository.items() for p in _check_ignore(top, members)}
    # Two roots, or a root through a linked folder, may reach one file by two names too.
    roots_overlap = len(paths) > 1 or any(os.path.realpath(p) != os.path.abspath(p) for p in paths)
    files = _one_name_per_file(sorted((f for p, f in chosen.items() if p not in ignored), key=lambda f: f.name),
                               roots_overlap=roots_overlap)
    shown = [(folder.removeprefix(base_prefix).replace(os.sep, "/") or ".", why) for folder, why in unreadable]
    return FoundFiles(files, shown)


def _walk(root: str, unreadable: list[tuple[str, str]]) -> Iterator[str]:
    """Every file below `root` (or `root` itself, named on the command line), vendored trees and
    linked directories left out, linked files with them (the caller says which it follows).
    Pipes and devices are listed too: the reader refuses them without blocking, and says so."""
    if not os.path.isdir(root):
        if os.path.exists(root):
            yield root
        return
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name, reverse=True)
        except OSError as e:
            unreadable.append((folder, f"cannot read the folder: {e.strerror}"))
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    folders.append(entry.path)
            elif not entry.is_symlink():
                yield entry.path  # a pipe or device too: reading it says it is none of ours, without blocking
            elif os.path.isfile(entry.path):
                yield entry.path


def _one_name_per_file(files: list[FileToScan], *, roots_overlap: bool = True) -> list[FileToScan]:
    """A file reached by its own name and through a link is read once, by its own name: two
    names would plan two rewrites of one file, and the second would find it changed."""
    links = {f.path for f in files if f.path.is_symlink()}
    if not links and not roots_overlap:
        return files  # linked folders are not followed: one root without linked files names each file once
    real = {os.path.realpath(f.path): f for f in files if f.path not in links}
    kept: list[FileToScan] = []
    for file in files:
        if file.path in links:
            target = os.path.realpath(file.path)
            if target in real:
                continue
            real[target] = file
        kept.append(file)
    return kept


def _selected(name: str, include: PathGlobs, exclude: PathGlobs) -> bool:
    if include and not include.match(name):
        return False
    return not exclude.match(name)


def _git_toplevel(directory: str) -> Path | None:
    """The work tree `directory` is in, or None outside git (or without git installed)."""
    try:
        result = subprocess.run(
            ["git", "-C", directory, "rev-parse", "--show-toplevel"],
            capture_output=True, text=True, check=False,
        )
    except OSError:
        return None
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def _check_ignore(toplevel: Path, paths: list[str]) -> set[str]:
    # Tracked files are never reported ignored (no --no-index), as git itself treats them.
    result = subprocess.run(
        ["git", "-C", str(toplevel), "check-ignore", "-z", "--stdin"],
        input="\0".join(paths) + "\0", capture_output=True, text=True, check=False,
    )
    if result.returncode not in (0, 1):
        return set()
    return set(result.stdout.split("\0")) - {""}

