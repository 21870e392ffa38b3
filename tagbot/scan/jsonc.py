"""JSON with comments and trailing commas (as VS Code and dev containers write it), parsed to
nodes that keep where each string's characters stand in the file."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import NoReturn

from tagbot.errors import ScanError

_MAX_DEPTH = 100  # two frames a level: well inside the interpreter's recursion limit
_SPACE = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_LITERAL = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")


@dataclass
class Node:
    """A JSON value; a string's `start`..`end` are its characters inside the quotes."""

    value: object  # str, a number, bool, None; for objects and arrays see `members`/`items`
    start: int
    end: int
    members: list[tuple[Node, Node]] = field(default_factory=list)  # an object's (key, value)
    items: list[Node] = field(default_factory=list)  # an array's
    kind: str = "scalar"  # "scalar", "string", "object" or "array"

    @property
    def raw(self) -> bool:
        """Whether a string is written as itself (no escapes), so its characters can be edited."""
        return self.kind == "string" and self.end - self.start == len(str(self.value))

    def get(self, key: str) -> Node | None:
        """The value of `key`; of a key written twice, the last, as JSON parsers (and the dev
        containers CLI) read it."""
        return next((v for k, v in reversed(self.members) if k.value == key), None)


def parse(text: str) -> Node:
    """The one value in `text`; raise `ScanError` (line set, file name not) when it is not JSONC."""
    parser = _Parser(text)
    node = parser.value(0)
    parser.skip_space()
    if parser.position != len(text):
        parser.fail("more after the end of the document")
    return node


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 1 if text.startswith("\ufeff") else 0

    def skip_space(self) -> None:
        match = _SPACE.match(self.text, self.position)
        self.position = match.end() if match else self.position
        if self.text.startswith("/*", self.position):
            self.fail("a comment is not closed")

    def fail(self, problem: str) -> NoReturn:
        raise ScanError("", self.text.count("\n", 0, self.position) + 1, f"invalid JSON: {problem}")

    def value(self, depth: int) -> Node:
        if depth > _MAX_DEPTH:
            self.fail(f"nested more than {_MAX_DEPTH} levels deep")
        self.skip_space()
        char = self.text[self.position : self.position + 1]
        if char == "{":
            return self.container(depth, "}", "object")
        if char == "[":
            return self.container(depth, "]", "array")
        if char == '"':
            return self.string()
        match = _LITERAL.match(self.text, self.position)
        if match is None:
            self.fail(f"unexpected {char!r}" if char else "unexpected end of file")
        self.position = match.end()
        try:
            number = json.loads(match.group())
        except ValueError:  # past Python's 4,300-digit limit on int(): no setting is such a number
            self.fail("a number too long to read")
        return Node(number, match.start(), match.end())

    def string(self) -> Node:
        match = _STRING.match(self.text, self.position)
        if match is None:
            self.fail("a string is not closed")
        self.position = match.end()
        try:
            decoded = json.loads(match.group())
        except ValueError:
            self.fail("a string has a bad escape")
        return Node(decoded, match.start() + 1, match.end() - 1, kind="string")

    def container(self, depth: int, closer: str, kind: str) -> Node:
        node = Node(None, self.position, self.position, kind=kind)
        self.position += 1
        while True:
            self.skip_space()
            if self.text.startswith(closer, self.position):
                self.position += 1
                node.end = self.position
                return node
            if kind == "object":
                self.skip_space()
                if not self.text.startswith('"', self.position):
                    self.fail("expected a quoted key")
                key = self.string()
                self.skip_space()
                if not self.text.startswith(":", self.position):
                    self.fail("expected ':' after a key")
                self.position += 1
                node.members.append((key, self.value(depth + 1)))
            else:
                node.items.append(self.value(depth + 1))
            self.skip_space()
            if self.text.startswith(",", self.position):
                self.position += 1
            elif not self.text.startswith(closer, self.position):
                self.fail(f"expected ',' or {closer!r}")
