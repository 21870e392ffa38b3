"""Images in any file, pointed at by a comment on the line before: `# tagbot: image` (also
`// tagbot: image`, `<!-- tagbot: image -->`, `-- `, `; `) makes the next line's image
reference an update target (`ENV BASE=node:20.10.0`, `IMAGE ?= postgres:16.4` in a Makefile,
a snippet in a README); `# tagbot: image=postgres` names the repository when the line holds
only its tag (`PG_VERSION=16.4`). The span is the tag and digest, nothing else on the line.

An annotation whose next line holds no reference is reported as invalid, so a typo is seen.
"""

from __future__ import annotations

import re

from tagbot.errors import InvalidReference
from tagbot.refs import parse_ref
from tagbot.scan.model import Found, Piece, composed_found, image_found, no_platforms, skipped

KIND = "annotated"
MARKER = "tagbot:"  # what a file must hold to be read for annotations at all

_ANNOTATION = re.compile(
    r"^[ \t]*(?:\#|//|<!--|--|;|/\*|\*)[ \t]*tagbot:[ \t]*image(?:[ \t]*=[ \t]*(?P<name>[^\s>*]+))?"
    r"[ \t]*(?:-->|\*/)?[ \t]*\r?$",
    re.MULTILINE,
)
# Words of a line that may be a reference: what stands between spaces, quotes, `=`, brackets.
_WORD = re.compile(r"""(?:\$\{[^}\s]*\}|\$\([^)\s]*\)|[^\s=,'"`()\[\]{}<>;|])+""")
# The last value on a line (`PG_VERSION=16.4`, `ENV PG 16.4`, `pg: "16.4"  # note`): the tag.
_LAST_VALUE = re.compile(
    r"""(?:^|[=:\s])[ \t]*["']?(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})(?:@(?P<digest>sha256:[0-9a-f]{64}))?["']?"""
    r"""[ \t]*;?[ \t]*(?:(?:\#|//)[^\n]*)?\r?$""")
_PREFIXES = ("docker://", "docker-image://", "oci://")

declared_platforms = no_platforms


def matches(path: str) -> bool:
    return False  # no file is annotated by its name: any file may hold annotations


def extract(text: str) -> list[Found]:
    if MARKER not in text:
        return []
    found = []
    for annotation in _ANNOTATION.finditer(text):
        start = text.find("\n", annotation.end())
        if start < 0:
            found.append(_nothing_after(annotation))
            continue
        start += 1
        end = text.find("\n", start)
        line = text[start:end if end >= 0 else len(text)].rstrip("\r")
        named = annotation.group("name")
        reference = _tag_of(named, line, start) if named else _reference_in(line, start)
        found.append(reference or _nothing_after(annotation))
    return found


def _reference_in(line: str, start: int) -> Found | None:
    """The first word of the line that is a reference with a tag or digest."""
    for word in _WORD.finditer(line):
        text, offset = word.group().rstrip("."), start + word.start()
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                text, offset = text[len(prefix):], offset + len(prefix)
        if "://" in text or ":" not in text and "@" not in text:
            continue
        written = (Piece(offset, text),)
        if "$" in text or "{{" in text:
            return skipped(written, "variable", "a variable sets it")
        try:
            image = parse_ref(text)
        except InvalidReference:
            continue
        if (image.tag or image.digest) and not image.repository.rsplit("/", 1)[-1].isdigit():  # `8080:80` is a port
            return image_found(written, written)
    return None


def _tag_of(name: str, line: str, start: int) -> Found | None:
    """`image=postgres`: the line's last value is its tag (and digest)."""
    value = _LAST_VALUE.search(line)
    if value is None:
        return None
    parts: list[tuple[Piece, ...] | str] = [name, ":", (Piece(start + value.start("tag"), value.group("tag")),)]
    if value.group("digest"):
        parts += ["@", (Piece(start + value.start("digest"), value.group("digest")),)]
    return composed_found(parts)


def _nothing_after(annotation: re.Match[str]) -> Found:
    written = (Piece(annotation.start(), annotation.group().strip()),)
    return skipped(written, "invalid", "the line after `tagbot: image` holds no image reference")
