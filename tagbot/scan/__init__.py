"""Finding image references in files: one module per file kind, listed in `SCANNERS`.

A scanner is a name pattern (`matches`) and `extract(text) -> list[Found]`; it knows nothing of
paths, lookups or rewrites. This module reads files and places what scanners find.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tagbot.errors import ScanError
from tagbot.scan import compose, dockerfile
from tagbot.scan.files import find_files
from tagbot.scan.model import Found, Reference


class Scanner(Protocol):
    KIND: str

    def matches(self, filename: str) -> bool: ...

    def extract(self, text: str) -> list[Found]: ...


SCANNERS: dict[str, Scanner] = {
    dockerfile.KIND: dockerfile,
    compose.KIND: compose,
}


@dataclass(frozen=True)
class ScanResult:
    references: tuple[Reference, ...]
    errors: tuple[ScanError, ...]
    files: int


def kind_of(filename: str) -> str | None:
    return next((kind for kind, scanner in SCANNERS.items() if scanner.matches(filename)), None)


def scan_paths(
    paths: Sequence[Path],
    *,
    base: Path,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> ScanResult:
    """Every reference in the files below `paths`, with file names relative to `base`."""
    references: list[Reference] = []
    errors: list[ScanError] = []
    files = find_files(paths, base=base, kind_of=kind_of, include=include, exclude=exclude)
    with _fewer_collections():
        for file in files:
            try:
                references.extend(scan_file(file.path, name=file.name, kind=file.kind))
            except ScanError as e:
                errors.append(e)
    return ScanResult(tuple(references), tuple(errors), len(files))


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """A scan builds many small objects that all stay alive, so the cyclic collector's passes
    find nothing; running it less often saves a sixth of a large scan (as mypy does)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def scan_file(path: Path, *, name: str, kind: str) -> list[Reference]:
    """The references in one file; `name` is how reports show it. Raise `ScanError` naming it."""
    text = read_text(path, name)
    try:
        found = SCANNERS[kind].extract(text)
    except ScanError as e:
        raise ScanError(name, e.line, e.problem) from e
    return [Reference(name, kind, *_line_column(text, f.anchor), f) for f in found]


def read_text(path: Path, name: str) -> str:
    """The file decoded as UTF-8 with line endings and any BOM kept, so offsets are exact."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ScanError(name, None, f"cannot read: {e.strerror}") from e
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ScanError(name, line, "not UTF-8 text") from e


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset; the BOM is not a column anyone sees."""
    line_start = text.rfind("\n", 0, offset) + 1
    column = offset - line_start + 1
    if line_start == 0 and text.startswith("\ufeff"):
        column -= 1
    return text.count("\n", 0, offset) + 1, column
