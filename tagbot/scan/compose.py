"""Compose files: `services.*.image` and `image` in top-level `x-*` extension blocks.

Spans come from the YAML node marks, so quoting, comments, flow style and anchors all keep
their exact place. An image reached through an alias or a merge key (`<<: *default`) is the
anchored node itself: it is reported once, where it is written.
"""

from __future__ import annotations

import re

import yaml

from tagbot.errors import ScanError
from tagbot.scan.model import Found, Piece, Pieces, image_found, skipped
from tagbot.scan.variables import Unresolved, expand

KIND = "compose"

_NAME = re.compile(r"(docker-)?compose([.-][^/]*)?\.ya?ml")
# libyaml is ten times faster than the pure-Python parser; both give character offsets. The
# base loaders skip resolving scalar types: only the structure and the strings matter here.
_LOADER: type = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_MERGE = "<<"
_QUOTES = ("'", '"')
_MAX_DEPTH = 500
_TOO_DEEP = f"YAML nested more than {_MAX_DEPTH} levels deep"


def matches(path: str) -> bool:
    """compose.yaml, compose.yml, docker-compose*.yml/yaml and override files such as compose.prod.yaml."""
    return bool(_NAME.fullmatch(path.rsplit("/", 1)[-1]))


def declared_platforms(text: str, found: list[Found]) -> list[tuple[int, str]]:
    """None: a service's `platform:` is that reference's own, not what the repository builds for."""
    return []


def extract(text: str) -> list[Found]:
    # libyaml drops a leading BOM from its offsets; the pure-Python parser keeps it.
    shift = 1 if text.startswith("\ufeff") and _LOADER is not yaml.BaseLoader else 0
    try:
        _refuse_deep_nesting(text)
        documents = list(yaml.compose_all(text, Loader=_LOADER))
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark is not None else None
        raise ScanError("", line, f"invalid YAML: {e.problem or e.context}") from e
    except yaml.YAMLError as e:
        raise ScanError("", None, f"invalid YAML: {e}") from e
    except RecursionError as e:
        raise ScanError("", None, _TOO_DEEP) from e

    found: dict[int, Found] = {}  # by the image node's offset: an anchored image counts once
    memo: _Memo = {}
    for document in documents:
        for owner in _image_owners(document):
            image = _lookup(owner, "image", memo)
            if isinstance(image, yaml.ScalarNode) and image.start_mark.index + shift not in found:
                has_build = _lookup(owner, "build", memo) is not None
                platform = _lookup(owner, "platform", memo)
                platform_text = platform.value if isinstance(platform, yaml.ScalarNode) else None
                found[image.start_mark.index + shift] = _reference(text, image, shift, has_build, platform_text)
    return sorted(found.values(), key=lambda f: f.anchor)


def _refuse_deep_nesting(text: str) -> None:
    """Both YAML composers recurse per level (libyaml's overflows the C stack and kills the
    process), so a file nested deeper than any compose file is refused from the flat event stream.
    Only files with many brackets or lines can be that deep, so most files skip the extra pass."""
    if text.count("[") + text.count("{") + text.count("\n") < _MAX_DEPTH:
        return
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > _MAX_DEPTH:
                raise ScanError("", event.start_mark.line + 1 if event.start_mark else None, _TOO_DEEP)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _image_owners(document: yaml.Node | None) -> list[yaml.MappingNode]:
    """Every service mapping, and every top-level `x-*` mapping."""
    if not isinstance(document, yaml.MappingNode):
        return []
    owners: list[yaml.MappingNode] = []
    for key, value in document.value:
        if not isinstance(value, yaml.MappingNode):
            continue
        if key.value == "services":
            owners.extend(v for _, v in value.value if isinstance(v, yaml.MappingNode))
        elif isinstance(key.value, str) and key.value.startswith("x-"):
            owners.append(value)
    return owners


_Memo = dict[tuple[int, str], "yaml.Node | None"]


def _lookup(mapping: yaml.MappingNode, name: str, memo: _Memo | None = None) -> yaml.Node | None:
    """The value of `name` in `mapping`, its own key first, then its merge keys in order.

    Each mapping is searched once per name (`memo`): merge keys can share one anchor many times
    (`<<: [*a, *a]`) or loop back on themselves, and a file must not make that exponential."""
    memo = {} if memo is None else memo
    key_of = (id(mapping), name)
    if key_of in memo:
        return memo[key_of]
    memo[key_of] = None  # while searching: a cycle back here finds nothing
    merged: list[yaml.Node] = []
    pairs: list[tuple[yaml.Node, yaml.Node]] = mapping.value
    found: yaml.Node | None = None
    for key, value in pairs:
        if key.value == name:
            found = value
            break
        if key.value == _MERGE:
            merged.extend(value.value if isinstance(value, yaml.SequenceNode) else [value])
    else:
        for source in merged:
            if isinstance(source, yaml.MappingNode):
                found = _lookup(source, name, memo)
                if found is not None:
                    break
    memo[key_of] = found
    return found


def _reference(text: str, node: yaml.ScalarNode, shift: int, has_build: bool, platform: str | None) -> Found:
    # Measured back from the end: the start mark also covers any `&anchor` or `!!tag` before it.
    end = node.end_mark.index + shift - (1 if node.style in _QUOTES else 0)
    start = end - len(node.value)
    written: Pieces = (Piece(start, text[start:end]),)
    quoted_right = node.style not in _QUOTES or text[start - 1 : start] == node.style
    if node.style in ("|", ">") or text[start:end] != node.value or not quoted_right:
        raw_start, raw_end = node.start_mark.index + shift, node.end_mark.index + shift
        where = (Piece(raw_start, text[raw_start:raw_end]),)
        return skipped(where, "unsupported", "block, folded or escaped scalars are not rewritten")
    if has_build:
        return skipped(written, "build", "the service builds this image; image names the result")
    try:
        pieces = expand(written, {})
    except Unresolved as e:
        return skipped(written, "variable", f"{e.expression} {e.problem}")
    return image_found(pieces, written, platform)
