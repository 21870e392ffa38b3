"""Podman Quadlet units (`*.container`, `*.image`, `*.volume`): the `Image=` of a `[Container]`,
`[Image]` or `[Volume]` section, the image a systemd service runs or pulls.

The files are systemd's INI dialect: `#` and `;` start comments, and a line ending in `\\`
goes on on the next, so an `Image=` on a continued line is part of the setting before it,
not a setting of its own. `Image=db.image` names another Quadlet unit, not an image:
skipped as built here. systemd specifiers (`%i`, `%h`) and `${VAR}` are filled in when the
unit runs: skipped as variables. A file by these names that is not such a unit (a disk image,
say) holds nothing.
"""

from __future__ import annotations

import re

from tagbot.scan.model import Found, Piece, image_found, no_platforms, skipped

KIND = "quadlet"

_SUFFIXES = (".container", ".image", ".volume")
_SECTIONS = ("[Container]", "[Image]", "[Volume]")
_LINE = re.compile(r"[^\n]*(?:\n|$)")
_SETTING = re.compile(r"[ \t]*Image[ \t]*=[ \t]*(?P<value>[^\s\\]+)[ \t]*\r?\n?$")

declared_platforms = no_platforms
GUESSED = True  # the name alone does not say the file is a unit: one that is not is passed over


def matches(path: str) -> bool:
    return path.endswith(_SUFFIXES)


def extract(text: str) -> list[Found]:
    found = []
    section = None
    continued = False
    for line in _LINE.finditer(text):
        content = line.group().rstrip("\r\n")
        if continued:
            continued = content.endswith("\\")
            continue
        continued = content.endswith("\\") and not content.lstrip().startswith(("#", ";"))
        stripped = content.strip().lstrip("\ufeff")
        if stripped.startswith("["):
            section = stripped
        elif section in _SECTIONS and not continued and (setting := _SETTING.match(line.group())):
            found.append(_image(Piece(line.start() + setting.start("value"), setting.group("value"))))
    return found


def _image(piece: Piece) -> Found:
    written = (piece,)
    if piece.text.endswith((".image", ".build")):
        return skipped(written, "build", "another Quadlet unit of this repository builds or pulls it")
    if "%" in piece.text or "$" in piece.text:
        return skipped(written, "variable", "systemd fills it in when the unit runs")
    return image_found(written, written)
