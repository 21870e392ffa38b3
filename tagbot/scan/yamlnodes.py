"""What every YAML scanner shares: parsing to nodes with exact character offsets, finding keys
(through merge keys), and turning a scalar node into a `Found` whose pieces are exactly the
characters written in the file.

libyaml is ten times faster than the pure-Python parser; both give character offsets. The base
loaders skip resolving scalar types: only the structure and the strings as written matter, so
`tag: 1.10` stays `1.10`, never the float 1.1.
"""

from __future__ import annotations

import bisect
import gc
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import yaml

from tagbot.errors import ScanError
from tagbot.scan.model import NOWHERE, Found, Piece, Pieces, image_found, joined, skipped, sliced
from tagbot.scan.variables import Scope, Unresolved, expand

LOADER: type = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
MERGE = "<<"
_QUOTES = ("'", '"')
_MAX_DEPTH = 500
_TOO_DEEP = f"YAML nested more than {_MAX_DEPTH} levels deep"
# A line that is all template (`{{- if .Values.x }}`, `{% for %}`, `{# note #}`): the file
# around it is YAML, the line itself is not.
_TEMPLATE_LINE = re.compile(r"^[ \t]*(\{\{.*\}\}|\{%.*%\}|\{#.*#\})[ \t]*\r?$", re.MULTILINE)
TEMPLATE = "{{"


@dataclass(frozen=True)
class Parsed:
    documents: list[yaml.Node]
    text: str  # what was parsed: the file with template lines made comments, offsets unchanged
    shift: int  # libyaml drops a leading BOM from its offsets; add this to every offset


def parse(text: str, *, templates: bool = False) -> Parsed:
    """Every document of `text`; with `templates`, lines that are all template are read as comments.
    Raise `ScanError` (line set, file name not) for text that is not YAML."""
    if templates and ("{{" in text or "{%" in text or "{#" in text):
        text = without_template_lines(text)
    shift = 1 if text.startswith("\ufeff") and LOADER is not yaml.BaseLoader else 0
    try:
        _refuse_deep_nesting(text)
        with _collector_paused():
            try:
                documents = [d for d in yaml.compose_all(text, Loader=LOADER) if d is not None]
            except yaml.composer.ComposerError as e:
                if "duplicate anchor" not in str(e.context):
                    raise
                # YAML lets an anchor be set again (CircleCI configs do): aliases after it mean
                # the new node. libyaml refuses; the pure-Python reader, told so, does not.
                documents = [d for d in yaml.compose_all(text, Loader=_RedefiningLoader) if d is not None]
                shift = 0  # the Python reader counts a BOM in its offsets
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark is not None else None
        raise ScanError("", line, f"invalid YAML: {e.problem or e.context}") from e
    except yaml.YAMLError as e:
        raise ScanError("", None, f"invalid YAML: {e}") from e
    except RecursionError as e:
        raise ScanError("", None, _TOO_DEEP) from e
    return Parsed(documents, text, shift)


class _RedefiningLoader(yaml.BaseLoader):
    """The pure-Python reader, with an anchor set a second time replacing the first."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if not self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor  # type: ignore[no-untyped-call]
            if anchor is not None:
                self.anchors.pop(anchor, None)
        return super().compose_node(parent, index)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Composing builds a node per value and keeps them all, so the cyclic collector's passes
    find nothing and, over a file of 20,000 documents, cost four times the parse itself (they
    grow with what is alive). Files are capped in size, so so is what waits for the next pass."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def without_template_lines(text: str) -> str:
    """`text` with each line that is all template turned into a comment of the same length at
    the same indentation, so every offset stays, and a template line inside a block scalar
    (`config: |`) stays a line of that block rather than a blank line that breaks its indentation."""
    return _TEMPLATE_LINE.sub(_as_comment, text)


def _as_comment(match: re.Match[str]) -> str:
    line = match.group()
    body = line.lstrip(" \t")
    indent = line[: len(line) - len(body)]
    ending = "\r" if body.endswith("\r") else ""
    return indent + "#" + " " * (len(body) - len(ending) - 1) + ending


def _refuse_deep_nesting(text: str) -> None:
    """Both YAML composers recurse per level (libyaml's overflows the C stack and kills the
    process), so a file nested deeper than any real one is refused from the flat event stream.
    A level is a bracket or a step to the right (a block child sits right of its parent), so a
    file whose brackets and longest line together stay under the limit cannot be that deep, and
    skips the extra pass: a 20,000-document manifest is parsed once, not twice."""
    longest_line = max(map(len, text.split("\n")))
    if text.count("[") + text.count("{") + longest_line < _MAX_DEPTH:
        return
    depth = 0
    for event in yaml.parse(text, Loader=LOADER):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > _MAX_DEPTH:
                raise ScanError("", event.start_mark.line + 1 if event.start_mark else None, _TOO_DEEP)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def value(mapping: yaml.Node | None, key: str) -> yaml.Node | None:
    """The value of `key` written in `mapping` itself (merge keys not followed)."""
    if not isinstance(mapping, yaml.MappingNode):
        return None
    return next((v for k, v in mapping.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


def items(mapping: yaml.Node | None) -> Iterator[tuple[str, yaml.Node]]:
    """(key, value) of a mapping's scalar keys; nothing for any other node."""
    if isinstance(mapping, yaml.MappingNode):
        yield from ((k.value, v) for k, v in mapping.value if isinstance(k, yaml.ScalarNode))


def scalar(node: yaml.Node | None) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


Memo = dict[tuple[int, str], "yaml.Node | None"]


def lookup(mapping: yaml.MappingNode, name: str, memo: Memo | None = None) -> yaml.Node | None:
    """The value of `name` in `mapping`, its own key first, then its merge keys in order.

    Each mapping is searched once per name (`memo`): merge keys can share one anchor many times
    (`<<: [*a, *a]`) or loop back on themselves, and a file must not make that exponential."""
    memo = {} if memo is None else memo
    key_of = (id(mapping), name)
    if key_of in memo:
        return memo[key_of]
    memo[key_of] = None  # while searching: a cycle back here finds nothing
    merged: list[yaml.Node] = []
    found: yaml.Node | None = None
    for key, value_node in mapping.value:
        if key.value == name:
            found = value_node
            break
        if key.value == MERGE:
            merged.extend(value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node])
    else:
        for source in merged:
            if isinstance(source, yaml.MappingNode):
                found = lookup(source, name, memo)
                if found is not None:
                    break
    memo[key_of] = found
    return found


def walk(document: yaml.Node) -> Iterator[yaml.Node]:
    """Every node below `document`, each once (an alias is the node it names), without recursion."""
    seen: set[int] = set()
    stack = [document]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, yaml.MappingNode):
            stack.extend(v for _, v in reversed(node.value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))


def written(parsed: Parsed, node: yaml.ScalarNode) -> Pieces | Found:
    """The characters of a scalar as they stand in the file, or a skip when the value is not
    written as itself (a block, folded or escaped scalar: rewriting it would need re-quoting)."""
    text, shift = parsed.text, parsed.shift
    # Measured back from the end: the start mark also covers any `&anchor` or `!!tag` before it.
    end = node.end_mark.index + shift - (1 if node.style in _QUOTES else 0)
    start = end - len(node.value)
    quoted_right = node.style not in _QUOTES or text[start - 1 : start] == node.style
    if node.style in ("|", ">") or text[start:end] != node.value or not quoted_right or start < 0:
        raw_start, raw_end = node.start_mark.index + shift, node.end_mark.index + shift
        where = (Piece(raw_start, text[raw_start:raw_end]),)
        return skipped(where, "unsupported", "block, folded or escaped scalars are not rewritten")
    return (Piece(start, node.value),)


def scalar_found(
    parsed: Parsed, node: yaml.ScalarNode, *, scope: Scope | None = None, platform: str | None = None,
    prefix: str = "",
) -> Found:
    """The reference a scalar holds, after `prefix` (`docker://`): `$VAR`s expanded from `scope`
    (compose's `${VAR:-default}` from the text itself), template and workflow expressions
    skipped as variables."""
    pieces = expanded(parsed, node, scope=scope, prefix=prefix)
    return pieces if isinstance(pieces, Found) else image_found(pieces[1], pieces[0], platform)


def expanded(parsed: Parsed, node: yaml.ScalarNode, *, scope: Scope | None = None, prefix: str = "",
             offset: int = 0) -> tuple[Pieces, Pieces] | Found:
    """(the pieces as written after `prefix`, the same with variables expanded from `scope`), or
    the skip that says why there is no reference. Written pieces are moved by `offset` before
    expanding, for a caller that tells several files apart by it."""
    pieces = written(parsed, node)
    if isinstance(pieces, Found):
        return pieces
    if prefix and node.value.startswith(prefix):
        if node.value == prefix:
            return skipped(pieces, "invalid", f"no image after {prefix}")
        pieces = sliced(pieces, len(prefix), len(node.value))
    if "${{" in node.value:
        return skipped(pieces, "variable", "a workflow expression sets it when the workflow runs")
    if TEMPLATE in node.value:
        return skipped(pieces, "variable", "a template expression sets it")
    try:
        result = expand(shifted(pieces, offset), scope or {})
    except Unresolved as e:
        return skipped(pieces, "variable", f"{e.expression} {e.problem}")
    if not result:
        return skipped(pieces, "variable", f"{joined(pieces)} expands to nothing")
    return pieces, result


def literal_scope(variables: yaml.Node | None, parsed: Parsed, base: Scope | None = None, *,
                  offset: int = 0) -> dict[str, Pieces | None]:
    """`base` with the literal values of a `variables:` mapping (GitLab's, say) on top, each
    expanded from those before it; a value given as `{value: ..., description: ...}` counts by
    its `value`, and one that cannot be known is declared without a value. Pieces are moved by
    `offset`, for a caller that tells several files apart by it."""
    scope: dict[str, Pieces | None] = dict(base or {})
    for name, node in items(variables):
        if isinstance(node, yaml.MappingNode):
            node = value(node, "value")  # type: ignore[assignment]
        pieces = written(parsed, node) if isinstance(node, yaml.ScalarNode) else None
        try:
            scope[name] = expand(shifted(pieces, offset), scope) if isinstance(pieces, tuple) else None
        except Unresolved:
            scope[name] = None
    return scope


def shifted(pieces: Pieces, offset: int) -> Pieces:
    return pieces if not offset else tuple(Piece(piece.start + offset, piece.text) for piece in pieces)


ImagesOf = Callable[[yaml.Node], Iterable[tuple[yaml.ScalarNode, str]]]


def references_of(parsed: Parsed, images_of: ImagesOf) -> list[Found]:
    """The reference each scalar `images_of` finds in each document holds (with the prefix
    before the image in it), once per node, in file order: all a kind's `extract` has to say
    once it knows where its images are."""
    found: dict[int, Found] = {}
    for document in parsed.documents:
        for node, prefix in images_of(document):
            if node.start_mark.index not in found:
                found[node.start_mark.index] = scalar_found(parsed, node, prefix=prefix)
    return sorted(found.values(), key=lambda f: f.anchor)


def image_value(node: yaml.Node | None, *keys: str) -> Iterator[tuple[yaml.ScalarNode, str]]:
    """An image written as a string, or as a mapping holding it under one of `keys`
    (`image: {name: acme/app:1.0, username: ...}`)."""
    if isinstance(node, yaml.MappingNode):
        node = next((held for key in keys if (held := value(node, key)) is not None), None)
    if isinstance(node, yaml.ScalarNode) and node.value:
        yield node, ""


def beside_hub(parsed: Parsed, mapping: yaml.Node, held: yaml.ScalarNode) -> Found | None:
    """Istio's layout, `hub:`, `tag:` and `image: proxyv2` side by side: the image is the three
    put together by the chart, so the name alone is no image: skipped as composed. None when
    the value is not such a name."""
    if value(mapping, "hub") is None:
        return None
    reference = scalar_found(parsed, held)
    if reference.image is None or reference.image.tag or reference.image.digest:
        return None
    return replace(reference, image=None, skip_reason="composed",
                   detail="its registry and tag are the hub: and tag: beside it, put together by the chart")


# --- YAML inside YAML -----------------------------------------------------------------------

MAX_EMBEDDED = 256 * 1024  # characters of a block scalar read as YAML; a ConfigMap holds 1 MiB at most
_BLOCK_HEADER = re.compile(r"\|[+-]?[ \t]*(?:#[^\n]*)?\r?\n")  # `|`, `|-`, `|+`: no indentation digit


@dataclass(frozen=True)
class Embedded:
    """A literal block scalar (`data: |`) read as YAML: `parsed` holds its text, with offsets
    within it; `found` moves what is found there to the file's own offsets. Each line of the
    block stands at a line of the file, indented by the block's indentation, so a value (never
    more than a line) moves whole, and an edit inside it keeps the block's indentation and
    chomping as they are."""

    parsed: Parsed
    inner_starts: tuple[int, ...]  # where each line starts in the block's text
    outer_starts: tuple[int, ...]  # where the same line's text starts in the file

    def outer(self, offset: int) -> int:
        line = bisect.bisect_right(self.inner_starts, offset) - 1
        return self.outer_starts[line] + offset - self.inner_starts[line]

    def found(self, found: Found) -> Found:
        pieces = tuple(piece if piece.start == NOWHERE else Piece(self.outer(piece.start), piece.text)
                       for piece in found.pieces)
        slot = None if found.digest_slot is None else self.outer(found.digest_slot)
        return replace(found, pieces=pieces, anchor=self.outer(found.anchor), end=self.outer(found.end),
                       digest_slot=slot, in_block=True)


def embedded(parsed: Parsed, node: yaml.Node) -> Embedded | None:
    """A literal block scalar's text as YAML, when it is a mapping or a list (a ConfigMap's
    file, Helm values' `config: |`, a kustomize patch); None for any other scalar, for text
    that is not YAML, and for a block whose lines cannot be placed in the file exactly (tabs,
    an explicit indentation digit): those are left unread rather than guessed at."""
    if not isinstance(node, yaml.ScalarNode) or node.style != "|" or ":" not in node.value:
        return None
    if len(node.value) > MAX_EMBEDDED:
        return None
    text, start = parsed.text, node.start_mark.index + parsed.shift
    header = _BLOCK_HEADER.match(text, start)
    if header is None:
        return None
    placed = _placed_lines(text, header.end(), node.end_mark.index + parsed.shift, node.value)
    if placed is None:
        return None
    try:
        inner = parse(node.value)
    except ScanError:
        return None
    if not inner.documents or not isinstance(inner.documents[0], (yaml.MappingNode, yaml.SequenceNode)):
        return None
    inner_starts, outer_starts = placed
    return Embedded(inner, inner_starts, outer_starts)


def _placed_lines(text: str, begin: int, end: int, value: str) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """Where each line of a block's `value` starts in it and in `text` (the block's lines lie
    from `begin` to `end`), when the lines, less the block's indentation, are exactly `value`."""
    lines = text[begin:end].split("\n")
    first = next((line for line in lines if line.strip(" \r")), None)
    if first is None:
        return None
    indent = len(first) - len(first.lstrip(" "))
    inner_lines: list[str] = []
    inner_starts: list[int] = []
    outer_starts: list[int] = []
    inner_at, outer_at = 0, begin
    for line in lines:
        content = line[:-1] if line.endswith("\r") else line
        if content.strip(" ") and not content.startswith(" " * indent):
            break  # the block ended above this line
        body = content[indent:]
        inner_starts.append(inner_at)
        outer_starts.append(outer_at + min(indent, len(content)))
        inner_lines.append(body)
        inner_at += len(body) + 1
        outer_at += len(line) + 1
    # Blank lines after the block belong to it or not by chomping: they change no line's start.
    if "\t" in value or "\n".join(inner_lines).rstrip("\n ") != value.rstrip("\n "):
        return None
    return tuple(inner_starts), tuple(outer_starts)
