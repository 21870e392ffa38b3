"""Images in files no kind reads, found by regular expressions the config gives (`patterns:`,
Renovate's custom managers made simple):

    patterns:
      - files: ["**/*.sh", "Makefile"]
        match: '(?P<image>[\\w./-]+):(?P<tag>[\\w.-]+)\\s+# image'

Named groups `image`, `tag` and `digest` say where each part stands (or `image:` in the entry
names the repository, and the match holds only a tag). Only the groups' characters are edited.
The expressions are the repository's, so each runs with a time limit per file (the `regex`
module's: the standard library's cannot be stopped), and one that takes longer is an error
naming the file, not a stuck run.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from tagbot.errors import InvalidReference, ScanError
from tagbot.globs import PathGlobs
from tagbot.refs import parse_ref
from tagbot.scan.model import Found, Piece, composed_found, image_found, no_platforms, skipped

KIND = "pattern"
TIME_LIMIT = 2.0  # seconds one expression may spend on one file; a sane one takes milliseconds
MAX_MATCHES = 10_000  # in one file: more is an expression that matches everything
MAX_LENGTH = 4096  # characters of an expression

declared_platforms = no_platforms


@dataclass(frozen=True)
class Pattern:
    where: str  # `patterns[0]`, for messages
    files: PathGlobs
    match: regex.Pattern[str]
    image: str | None = None  # the repository, when the expression finds only tags


def matches(path: str) -> bool:
    return False  # a pattern's own `files:` say which files it reads


def extract(text: str) -> list[Found]:
    return []  # what a file holds by the config's patterns is `found_by`'s


def compiled(where: str, files: list[str], match: str, image: str | None) -> Pattern:
    """A checked pattern; ValueError (naming the part, `match`, `image`) for one that cannot work."""
    if len(match) > MAX_LENGTH:
        raise ValueError(f"match: longer than {MAX_LENGTH} characters")
    try:
        expression = regex.compile(match, regex.MULTILINE | regex.VERSION0)
    except regex.error as e:
        raise ValueError(f"match: not a regular expression: {e}") from None
    groups = set(expression.groupindex)
    if "tag" not in groups and "digest" not in groups:
        raise ValueError("match: needs a (?P<tag>...) group (or (?P<digest>...)) saying what to update")
    if ("image" in groups) == (image is not None):
        raise ValueError("match: needs an (?P<image>...) group, or image: in the entry, one of the two")
    if image is not None:
        try:
            named = parse_ref(image)
        except InvalidReference as e:
            raise ValueError(f"image: {e.problem}") from None
        if named.tag or named.digest:
            raise ValueError(f"image: {image} names a tag or digest; give the repository alone")
    return Pattern(where, PathGlobs(files), expression, image)


def found_by(pattern: Pattern, text: str, name: str) -> list[Found]:
    """The references `pattern` finds in the text of the file `name`."""
    matched = []
    try:  # the time limit counts from the first match on: only matching happens inside it
        for match in pattern.match.finditer(text, timeout=TIME_LIMIT):
            matched.append(match)
            if len(matched) > MAX_MATCHES:
                raise ScanError(name, None, f"{pattern.where}.match matches more than {MAX_MATCHES:,} times")
    except TimeoutError:
        raise ScanError(name, None, f"{pattern.where}.match took more than {TIME_LIMIT:g} s on this file; "
                                    "nothing it found here is used") from None
    return [reference for match in matched if (reference := _reference(pattern, match)) is not None]


def _reference(pattern: Pattern, match: regex.Match[str]) -> Found | None:
    spans = {group: match.span(group) for group in ("image", "tag", "digest") if group in pattern.match.groupindex}
    written = {group: Piece(start, match.string[start:end]) for group, (start, end) in spans.items() if end > start}
    if "tag" not in written and "digest" not in written:
        return None
    if any("$" in piece.text or "{{" in piece.text for piece in written.values()):
        return skipped(tuple(sorted(written.values())), "variable", "a variable sets it")
    image, tag, digest = written.get("image"), written.get("tag"), written.get("digest")
    if image is not None and _written_whole(image, tag, digest):
        end = (digest or tag or image).end
        whole = (Piece(image.start, match.string[image.start:end]),)
        return image_found(whole, whole)
    parts: list[tuple[Piece, ...] | str] = [(image,) if image is not None else str(pattern.image)]
    if tag is not None:
        parts += [":", (tag,)]
    if digest is not None:
        parts += ["@", (digest,)]
    return composed_found(parts)


def _written_whole(image: Piece, tag: Piece | None, digest: Piece | None) -> bool:
    """Whether the groups stand together as one reference, `image:tag@digest`, in the file."""
    position = image.end
    for separator, piece in ((":", tag), ("@", digest)):
        if piece is not None:
            if piece.start != position + 1:
                return False
            position = piece.end
    return True
