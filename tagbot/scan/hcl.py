"""A small reader of HCL (Terraform's and Nomad's language) that finds string attributes: the
blocks they are in, their key, and the exact characters of their value.

Expressions are not evaluated; a string built with `${...}` or `%{...}` is handed on marked as
a template, for the caller to skip. Block nesting and object literals are told apart by what
stands before the brace (`container {` opens a block, `= {` an object), which is all an image
finder needs; a file this cannot follow (an unclosed string, a brace too many) is an error
naming its line, and nothing in it is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from tagbot.errors import ScanError

MAX_DEPTH = 100  # blocks, objects and templates inside one another: real files nest a dozen

Block = tuple[str, ...]  # a block's type and labels (`("resource", "docker_image", "app")`); an object's key


@dataclass(frozen=True)
class StringAttribute:
    blocks: tuple[Block, ...]  # outermost first
    key: str
    start: int  # offset of the value's first character (after the quote, or the heredoc's line)
    text: str  # the value as written: escapes and templates not undone
    heredoc: bool = False

    @property
    def templated(self) -> bool:
        return "${" in self.text or "%{" in self.text

    @property
    def escaped(self) -> bool:
        return not self.heredoc and "\\" in self.text


_TOKEN = re.compile(
    r"""(?P<space>[ \t\r\ufeff]+)|(?P<newline>\n)|(?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)"""
    r"""|(?P<heredoc><<-?(?P<marker>[A-Za-z_][A-Za-z0-9_]*)[ \t]*\r?\n)|(?P<quote>")"""
    r"""|(?P<name>[A-Za-z_][A-Za-z0-9_-]*)|(?P<number>[0-9][0-9.eE+-]*)|(?P<open>[{\[(])|(?P<close>[}\])])"""
    r"""|(?P<punct>\.\.\.|==|!=|<=|>=|&&|\|\||=>|[=:,.?!<>+\-*/%])""",
    re.DOTALL,
)


@dataclass
class _Token:
    kind: str  # name, string, heredoc, open, close, punct, newline, number
    text: str
    start: int


def string_attributes(text: str) -> list[StringAttribute]:
    """Every `key = "value"` (and `key: "value"`, `"key" = ...`, `key = <<EOT`) in the text."""
    found: list[StringAttribute] = []
    stack: list[tuple[str, Block]] = []  # ("block" | "object" | "bracket", name)
    statement: list[_Token] = []  # tokens since the last newline, comma or brace at this level
    for token in _tokens(text):
        if token.kind == "open":
            if len(stack) >= MAX_DEPTH:
                raise ScanError("", _line(text, token.start), f"nested more than {MAX_DEPTH} levels deep")
            stack.append(_opened(token, statement))
            statement = []
        elif token.kind == "close":
            if not stack:
                raise ScanError("", _line(text, token.start), f"{token.text} closes nothing")
            stack.pop()
            statement = []
        elif token.kind in ("newline", "comma"):
            statement = []
        else:
            if token.kind in ("string", "heredoc") and len(statement) == 2 and statement[1].text in ("=", ":"):
                key = statement[0]
                if key.kind in ("name", "string"):
                    blocks = tuple(name for _, name in stack)
                    found.append(StringAttribute(blocks, key.text, token.start, token.text, token.kind == "heredoc"))
            statement.append(token)
    if stack:
        raise ScanError("", None, "a block or bracket is never closed")
    return found


def _opened(token: _Token, statement: list[_Token]) -> tuple[str, Block]:
    """What a brace opens: a block when only a type and labels stand before it, else an object,
    named by the key it is the value of (`tags = {`), or a bracket (`[`, `(`)."""
    if token.text != "{":
        key = statement[0].text if len(statement) >= 2 and statement[1].text in ("=", ":") else ""
        return "bracket", (key,)
    if statement and statement[0].kind == "name" and all(t.kind in ("name", "string") for t in statement):
        return "block", tuple(t.text for t in statement)
    if len(statement) >= 2 and statement[1].text in ("=", ":"):
        return "object", (statement[0].text,)
    return "object", ("",)


def _tokens(text: str) -> Iterator[_Token]:
    position, end = 0, len(text)
    while position < end:
        match = _TOKEN.match(text, position)
        if match is None:
            raise ScanError("", _line(text, position), f"cannot read {text[position]!r} here")
        kind = match.lastgroup  # the outer group: `heredoc`, not its `marker`
        if kind == "quote":
            close = _string_end(text, match.end(), 0, position)
            yield _Token("string", text[match.end():close], match.end())
            position = close + 1
        elif kind == "heredoc":
            body_start = match.end()
            closing = re.compile(rf"^[ \t]*{re.escape(match.group('marker'))}[ \t]*\r?$", re.MULTILINE)
            closed = closing.search(text, body_start)
            if closed is None:
                raise ScanError("", _line(text, position), f"heredoc {match.group('marker')} is never closed")
            yield _Token("heredoc", text[body_start:closed.start()], body_start)
            position = closed.end()
        else:
            position = match.end()
            if kind == "punct" and match.group() == ",":
                kind = "comma"
            if kind not in ("space", "comment"):
                yield _Token(kind or "", match.group(), match.start())


def _string_end(text: str, position: int, depth: int, opened_at: int) -> int:
    """Where the string that starts at `position` closes: its quote, past any templates in it."""
    end = len(text)
    while position < end:
        char = text[position]
        if char == "\\":
            position += 2
        elif char == '"':
            return position
        elif char == "\n":
            break
        elif char in "$%" and text.startswith("{", position + 1):
            position = _template_end(text, position + 2, depth + 1, opened_at)
        else:
            position += 1
    raise ScanError("", _line(text, opened_at), "a string is never closed")


def _template_end(text: str, position: int, depth: int, opened_at: int) -> int:
    """Just past the `}` that closes a `${` whose inside starts at `position` (strings in it,
    and braces of objects in it, skipped whole)."""
    if depth > MAX_DEPTH:
        raise ScanError("", _line(text, opened_at), f"templates nested more than {MAX_DEPTH} levels deep")
    braces = 0
    end = len(text)
    while position < end:
        char = text[position]
        if char == '"':
            position = _string_end(text, position + 1, depth, opened_at) + 1
            continue
        if char == "{":
            braces += 1
        elif char == "}":
            if braces == 0:
                return position + 1
            braces -= 1
        position += 1
    raise ScanError("", _line(text, opened_at), "a ${ in a string is never closed")


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1
