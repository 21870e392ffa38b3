"""What scanners hand on: references found in a file, and where each of their characters lies.

A reference is often not one run of text: `FROM node:${NODE}-alpine` takes `20` from an `ARG`
line. `Piece`s record every contiguous run the reference is made of, so a rewrite edits the
place the value really lives, and touches nothing else.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from tagbot.errors import InvalidReference
from tagbot.refs import ImageRef, parse_ref


class Piece(NamedTuple):
    """`text` stands in the file at character offset `start`.

    A named tuple, not a dataclass: scanning makes hundreds of thousands and a frozen dataclass
    costs three times as much to build."""

    start: int
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


Pieces = tuple[Piece, ...]
SkipReason = Literal["variable", "stage", "scratch", "build", "invalid", "unsupported", "default", "placeholder",
                     "composed"]
# Where a piece that is not in the file stands: the `:` between a Helm chart's `repository:` and
# `tag:` values, say. Such a piece is part of the reference, never a place to edit.
NOWHERE = -1


def between(text: str) -> Piece:
    return Piece(NOWHERE, text)


def joined(pieces: Pieces) -> str:
    if len(pieces) == 1:  # the common case, and a hot path
        return pieces[0].text
    return "".join(piece.text for piece in pieces)


def merged(pieces: Pieces) -> Pieces:
    """The same text with empty pieces dropped and adjacent runs joined."""
    if len(pieces) == 1 and pieces[0].text:  # the common case, and a hot path
        return pieces
    out: list[Piece] = []
    for piece in pieces:
        if not piece.text:
            continue
        if out and out[-1].end == piece.start:
            out[-1] = Piece(out[-1].start, out[-1].text + piece.text)
        else:
            out.append(piece)
    return tuple(out)


def sliced(pieces: Pieces, start: int, end: int) -> Pieces:
    """The pieces covering characters start..end of `joined(pieces)`."""
    if len(pieces) == 1:  # the common case, and a hot path
        piece = pieces[0]
        return (Piece(_moved(piece.start, start), piece.text[start:end]),) if start < end else ()
    offsets = _offsets(pieces)
    out: list[Piece] = []
    # From the piece holding `start`, found by bisection: an instruction continued over
    # thousands of lines is sliced many times, and must not cost thousands each time.
    for index in range(max(0, bisect.bisect_right(offsets, start) - 1), len(pieces)):
        offset = offsets[index]
        if offset >= end:
            break
        piece = pieces[index]
        low, high = max(start, offset), min(end, offset + len(piece.text))
        if low < high:
            out.append(Piece(_moved(piece.start, low - offset), piece.text[low - offset : high - offset]))
    return tuple(out)


def _moved(start: int, by: int) -> int:
    """Where a piece's text from character `by` on stands: a piece that stands nowhere (a
    separator between values written apart) stands nowhere however it is cut."""
    return start if start == NOWHERE else start + by


_last_offsets: tuple[Pieces, list[int]] | None = None


def _offsets(pieces: Pieces) -> list[int]:
    """Where each piece starts in `joined(pieces)`; the last answer is kept, as one line's pieces
    are sliced many times in a row."""
    global _last_offsets
    cached = _last_offsets
    if cached is not None and cached[0] is pieces:
        return cached[1]
    offsets = list(itertools.accumulate((len(piece.text) for piece in pieces), initial=0))
    _last_offsets = (pieces, offsets)
    return offsets


@dataclass(frozen=True)
class Found:
    """One reference a scanner found; `text` is the reference with variables resolved.

    Skipped references (`skip_reason` set: "variable", "stage", "scratch", "build", "invalid",
    "unsupported", "default", "placeholder", "composed") keep the text as written so they can still be shown. `detail` says why in
    words. `anchor` is the offset that line and column point at: the start of the image text,
    or of the value inside an ARG line when the tag lives there. `end` is where the reference
    ends where it is written.
    """

    text: str
    pieces: Pieces
    image: ImageRef | None
    anchor: int
    end: int  # where the reference ends as written (after `${TAG}`, say): a pin goes there
    platform: str | None = None
    skip_reason: SkipReason | None = None
    detail: str | None = None
    artifact: bool = False  # an OCI artifact (a devcontainer feature), not an image: no platforms
    digest_slot: int | None = None  # a composed reference's empty digest value, where a pin goes
    in_block: bool = False  # found in a literal block of YAML inside the file (`config.yaml: |`)

    @property
    def from_variables(self) -> bool:
        """Whether part of the reference comes from a variable (`${IMG:-redis:8}`, `node:${V}`),
        which a build or deploy may set to something else than the file's default."""
        return len(self.pieces) != 1 or self.pieces[0].end != self.end

    @property
    def composed(self) -> bool:
        """Whether the reference is put together from several values (a Helm chart's
        `repository:` and `tag:`), so there is no one place where it ends."""
        return any(piece.start == NOWHERE for piece in self.pieces)


@dataclass(frozen=True)
class Reference:
    """A `Found` placed in a file: `file` relative and `/`-separated, line and column 1-based."""

    file: str
    kind: str
    line: int
    column: int
    found: Found

    @property
    def skipped(self) -> bool:
        return self.found.skip_reason is not None


@dataclass(frozen=True)
class DeclaredPlatform:
    """A platform the repository says it builds for, and where it says so."""

    file: str
    line: int
    platform: str  # as written: `linux/arm64`

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def no_platforms(text: str, found: list[Found]) -> list[tuple[int, str]]:
    """`declared_platforms` of a kind that names images to run, not platforms to build for."""
    return []


def file_named(pattern: str) -> Callable[[str], bool]:
    """`matches` for a kind known by its file name alone (the last part of the path)."""
    name = re.compile(pattern)
    return lambda path: bool(name.fullmatch(path.rsplit("/", 1)[-1]))


def skipped(pieces: Pieces, reason: SkipReason, detail: str) -> Found:
    start, end = pieces[0].start, pieces[-1].end
    return Found(joined(pieces), pieces, None, anchor=start, end=end, skip_reason=reason, detail=detail)


def image_found(pieces: Pieces, written: Pieces, platform: str | None = None) -> Found:
    """A reference made of `pieces` (variables already expanded from `written`), or a skip."""
    if not pieces:
        return skipped(written, "variable", f"{joined(written)} expands to nothing")
    text = joined(pieces)
    try:
        image = parse_ref(text)
    except InvalidReference as e:
        return skipped(pieces, "invalid", e.problem)
    anchor = _anchor(pieces, image.tag_span)
    return Found(text, pieces, image, anchor=anchor, end=written[-1].end, platform=platform)


def composed_found(parts: Sequence[Pieces | str]) -> Found:
    """A reference put together from values written apart (a chart's `repository:` and `tag:`),
    with the separators (the `str` parts) between them, which stand nowhere in the file."""
    pieces = tuple(piece for part in parts for piece in ((between(part),) if isinstance(part, str) else part))
    written = tuple(piece for piece in pieces if piece.start != NOWHERE)
    if any("{{" in piece.text or "$" in piece.text for piece in written):
        return skipped(pieces, "variable", "a template expression or variable sets it")
    return image_found(pieces, written)


def _anchor(pieces: Pieces, tag_span: tuple[int, int] | None) -> int:
    """The start of the image text, or of the piece holding the tag when that lies elsewhere."""
    if tag_span is None or len(pieces) == 1:
        return pieces[0].start
    tag_start = sliced(pieces, *tag_span)[0].start
    return next(piece.start for piece in pieces if piece.start != NOWHERE and piece.start <= tag_start < piece.end)
