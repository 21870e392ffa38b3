"""Edits for every file kind: replace a tag or digest where its characters lie, or insert a
pin where the reference ends, and nothing else. A file whose text changed since the scan, or
whose edits disagree, is refused whole and left untouched."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tagbot.atomic import file_digest, read_regular_file, write_atomic
from tagbot.errors import RewriteError
from tagbot.model import FileChange, Update
from tagbot.scan.model import NOWHERE, Pieces, Reference, joined, sliced


_VALUE_RUN = re.compile(r"[A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class Edit:
    """Replace `expected` at start..end (character offsets) with `replacement`."""

    start: int
    end: int
    expected: str
    replacement: str
    where: str  # file:line, for messages


def edits_for(reference: Reference, update: Update) -> list[Edit]:
    """The edits that turn `reference` into the update's image name (a replacement), tag and digest."""
    found, image = reference.found, reference.found.image
    assert image is not None, "only references that parsed get updates"
    where = f"{reference.file}:{reference.line}"
    edits = []
    if update.to_image is not None:  # a moved image: its name, as written, becomes the successor's
        edits.append(_replace(found.pieces, image.name_span, update.to_image, where))
    if update.to_tag is not None and update.to_tag != image.tag:
        if image.tag_span is None:
            raise RewriteError(f"{where}: {found.text} has no tag to change", place=where)
        edits.append(_replace(found.pieces, image.tag_span, update.to_tag, where))
    if update.to_digest is not None and update.to_digest != image.digest:
        if image.digest_span is not None:
            edits.append(_replace(found.pieces, image.digest_span, update.to_digest, where))
        elif found.digest_slot is not None:  # a chart's empty `digest: ""`
            edits.append(Edit(found.digest_slot, found.digest_slot, "", update.to_digest, where))
        else:
            edits.append(Edit(found.end, found.end, "", f"@{update.to_digest}", where))
    return edits


def _replace(pieces: Pieces, span: tuple[int, int], new: str, where: str) -> Edit:
    """One edit that makes the text at `span` read `new`. When the old value is made of several
    pieces (`${NODE}-alpine${ALPINE}`), all but one must stay as they are."""
    region = sliced(pieces, *span)
    for index, piece in enumerate(region):
        if piece.start == NOWHERE:
            continue  # a separator tagbot put between two values: not in the file
        before, after = joined(region[:index]), joined(region[index + 1 :])
        fits = new.startswith(before) and new.endswith(after) and len(new) >= len(before) + len(after)
        if fits:
            return Edit(piece.start, piece.end, piece.text, new[len(before) : len(new) - len(after)], where)
    raise RewriteError(
        f"{where}: {joined(region)} is built from several values ({', '.join(p.text for p in region)}); "
        f"{new} would change more than one of them", place=where
    )


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """`text` with every edit made; the same edit asked twice (a shared ARG) is made once."""
    by_effect = {(e.start, e.end, e.expected, e.replacement): e for e in edits}
    unique = sorted(by_effect.values(), key=lambda e: (e.start, e.end))
    for first, second in zip(unique, unique[1:]):
        if second.start < first.end or (second.start == first.start and second.end == first.end):
            raise RewriteError(
                f"{second.where}: conflicting updates for the same text "
                f"({first.replacement!r} for {first.where}, {second.replacement!r} here)"
            )
    for edit in unique:
        found = text[edit.start : edit.end]
        # A value always ends where other syntax starts; a value character right after it means
        # the text grew since the scan (1.27.3 is now 1.27.30), and the edit would be wrong.
        run = _VALUE_RUN.match(text, edit.end)
        value_end = run.end() if run else edit.end
        runs_on = edit.end > edit.start and value_end > edit.end
        if found != edit.expected or runs_on:
            seen = text[edit.start : value_end] if runs_on else found
            raise RewriteError(f"{edit.where}: expected {edit.expected!r}, found {seen!r}: the file changed since the scan")
    for edit in reversed(unique):
        text = text[: edit.start] + edit.replacement + text[edit.end :]
    return text


def plan_file(file: str, path: Path, edits: Sequence[Edit], *, scanned: str | None = None) -> FileChange:
    """The file as it would be written; `RewriteError` when any edit cannot be made, or when the
    file is no longer the one scanned (`scanned`, its digest then): edits are planned on the
    text they were found in, or not at all."""
    try:
        data = read_regular_file(path)
    except OSError as e:
        raise RewriteError(f"{file}: cannot read: {e.strerror}") from e
    if scanned is not None and file_digest(data) != scanned:
        raise RewriteError(f"{file}: the file changed since the scan; left as it is")
    try:
        before = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RewriteError(f"{file}: cannot read: not UTF-8 text") from e
    return FileChange(file, path, before, apply_edits(before, edits))


def write_change(change: FileChange, *, inside: Path) -> None:
    """Write the new text, unless the file is no longer the text the edits were planned on: a
    person (or another run) edited it meanwhile, and their edit wins. A link is written through
    to its target only when that lies in the folder `inside`."""
    try:
        if read_regular_file(change.path) != change.before.encode("utf-8"):
            raise RewriteError(f"{change.file}: the file changed since the scan; left as it is")
        write_atomic(change.path, change.after.encode("utf-8"), inside=inside)
    except OSError as e:
        raise RewriteError(f"{change.file}: not written: {e.strerror}") from e
