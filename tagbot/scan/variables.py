"""`$VAR`, `${VAR}`, `${VAR:-word}` and kin, expanded piece by piece.

Dockerfiles and compose files share the syntax. A value keeps the pieces it came from (an ARG
default, a `:-` default in the same line), so an update can edit the default it came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tagbot.scan.model import Piece, Pieces, joined, merged, sliced

# A scope maps a name to its value, or to None when declared with no value (`ARG NODE`).
Scope = Mapping[str, "Pieces | None"]
# No image reference is longer; a value past this is a file doubling itself (`A2=${A1}${A1}`...).
MAX_VALUE = 64 * 1024

_EXPRESSION = re.compile(
    r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-+])(?P<word>[^}$]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class Unresolved(Exception):
    """A variable whose value cannot be known from the file alone (or is absurdly long)."""

    def __init__(self, expression: str, problem: str = "has no default in the file") -> None:
        super().__init__(f"{expression} {problem}")
        self.expression = expression
        self.problem = problem


def expand(value: Pieces, scope: Scope) -> Pieces:
    """`value` with every variable replaced by its pieces; raise `Unresolved` when one has none."""
    text = joined(value)
    if "$" not in text:
        return value
    out: list[Piece] = []
    position = length = 0
    for match in _EXPRESSION.finditer(text):
        if "$" in text[position : match.start()]:
            raise Unresolved(text[position : match.start()])
        substituted = (*sliced(value, position, match.start()), *_substitute(match, value, scope))
        length += sum(len(piece.text) for piece in substituted)
        if length > MAX_VALUE:
            raise Unresolved(match.group(), f"expands to more than {MAX_VALUE // 1024} KiB")
        out.extend(substituted)
        position = match.end()
    if "$" in text[position:]:
        # `$$`, `${VAR:?error}`, nested defaults: nothing the file alone decides.
        raise Unresolved(text[text.index("$", position) :])
    out.extend(sliced(value, position, len(text)))
    return merged(tuple(out))


def _substitute(match: re.Match[str], value: Pieces, scope: Scope) -> Pieces:
    name = match.group("braced") or match.group("bare")
    current = scope.get(name)
    op = match.group("op")
    if op is None:
        if current is None:
            raise Unresolved(match.group())
        return current
    is_set = current is not None and (not op.startswith(":") or joined(current) != "")
    word = sliced(value, match.start("word"), match.end("word"))
    if op.endswith("-"):
        return current if is_set and current is not None else word
    return word if is_set else ()
