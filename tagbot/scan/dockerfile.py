"""Dockerfiles and Containerfiles: `FROM`, `COPY --from`, `RUN --mount=from=` and `# syntax=`.

Reads the file the way BuildKit does where it matters for finding images: parser directives
only in the leading comment lines, line continuations with the escape character, comments and
blank lines inside continued instructions, heredoc bodies skipped, and ARG defaults (global for
FROM, per stage for the rest) resolved through the variables module.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tagbot.scan.model import Found, Piece, Pieces, image_found, joined, merged, sliced, skipped
from tagbot.scan.variables import Scope, Unresolved, expand

KIND = "dockerfile"

_NAME = re.compile(r"(?i)((docker|container)file(\.[^/]+)?|[^/]+\.(docker|container)file)")
# `Dockerfile.dev` is a Dockerfile; `dockerfile.py`, `Dockerfile.md` or `Dockerfile.orig` are not.
NOT_DOCKERFILE_SUFFIXES = ("dockerignore", "py", "pyc", "go", "rs", "js", "ts", "java", "rb", "php", "sh", "md",
                           "rst", "txt", "json", "yaml", "yml", "toml", "lock", "orig", "rej", "bak", "swp")
_DIRECTIVE = re.compile(r"#\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(\S.*?)\s*$")
_HEREDOC = re.compile(r"\d*<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_ARG = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:=(?:\"([^\"]*)\"|'([^']*)'|(\S*)))?")
_TOKEN = re.compile(r"\S+")
_HEREDOC_INSTRUCTIONS = frozenset({"RUN", "COPY", "ADD"})
_INSTRUCTIONS = _HEREDOC_INSTRUCTIONS | {"ARG", "FROM"}
_KEYWORD = re.compile(r"\s*([A-Za-z]+)")
_DIRECTIVES = frozenset({"syntax", "escape", "check"})


def matches(path: str) -> bool:
    """Dockerfile, Containerfile, Dockerfile.*, *.Dockerfile (any case), but not *.dockerignore
    nor a source, text or backup file named after one."""
    filename = path.rsplit("/", 1)[-1]
    return bool(_NAME.fullmatch(filename)) and filename.rsplit(".", 1)[-1].lower() not in NOT_DOCKERFILE_SUFFIXES


def declared_platforms(text: str, found: list[Found]) -> list[tuple[int, str]]:
    """`FROM --platform=linux/arm64` with a value known in the file says what the build targets;
    `$BUILDPLATFORM` and kin are known only at build time and say nothing."""
    return [(f.anchor, f.platform) for f in found if f.platform is not None]


@dataclass
class _Line:
    start: int  # offset of the line's first character in the file
    text: str  # without the line ending


@dataclass
class _State:
    global_args: dict[str, Pieces | None] = field(default_factory=dict)
    stage_args: dict[str, Pieces | None] = field(default_factory=dict)
    stages: set[str] = field(default_factory=set)
    in_stage: bool = False


def extract(text: str) -> list[Found]:
    lines = _split_lines(text)
    escape, found = _read_directives(lines)
    state = _State()
    for instruction, args in _instructions(lines, escape):
        if instruction == "ARG":
            _declare_args(args, state)
        elif instruction == "FROM":
            found.extend(_from(args, state))
        elif instruction == "COPY":
            found.extend(_copy_from(args, state))
        elif instruction == "RUN":
            found.extend(_mount_from(args, state))
    return found


def _split_lines(text: str) -> list[_Line]:
    lines = []
    start = 0
    for raw in text.split("\n"):
        lines.append(_Line(start, raw[:-1] if raw.endswith("\r") else raw))
        start += len(raw) + 1
    if lines[0].text.startswith("\ufeff"):
        lines[0] = _Line(1, lines[0].text[1:])
    return lines


def _read_directives(lines: list[_Line]) -> tuple[str, list[Found]]:
    """The escape character and the `# syntax=` image, from the leading directive lines only."""
    escape = "\\"
    found: list[Found] = []
    for line in lines:
        match = _DIRECTIVE.fullmatch(line.text)
        if match is None:
            break
        key, value = match.group(1).lower(), match.group(2)
        if key not in _DIRECTIVES:
            break  # BuildKit reads a comment such as `# maintainer=me` as the end of the directives
        if key == "escape" and value in ("\\", "`"):
            escape = value
        elif key == "syntax":
            pieces = (Piece(line.start + match.start(2), value),)
            found.append(image_found(pieces, pieces))
    return escape, found


def _instructions(lines: list[_Line], escape: str) -> Iterator[tuple[str, Pieces]]:
    """(INSTRUCTION, its arguments as pieces) for the instructions that can name an image."""
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    index = 0
    while index < len(lines):
        line = lines[index]
        if _is_comment_or_blank(line.text):
            index += 1
            continue
        pieces, index = _logical_line(lines, index, continuation)
        logical = merged(pieces)
        text = joined(logical)
        keyword = _KEYWORD.match(text)
        if keyword is None or keyword.group(1).upper() not in _INSTRUCTIONS:
            continue
        instruction = keyword.group(1).upper()
        if instruction in _HEREDOC_INSTRUCTIONS:
            if "<<" in text:
                index = _skip_heredocs(text, lines, index)
            if "--" not in text:
                continue  # no --from, no --mount: nothing here names an image
        args = sliced(logical, keyword.end(), len(text))
        yield instruction, args


def _logical_line(lines: list[_Line], index: int, continuation: re.Pattern[str]) -> tuple[Pieces, int]:
    """The pieces of the instruction starting at `index`, joined across continuations, and the
    index of the line after it."""
    pieces: list[Piece] = []
    while index < len(lines):
        line = lines[index]
        index += 1
        if pieces and _is_comment_or_blank(line.text):
            continue  # comments and blank lines inside a continued instruction
        match = continuation.search(line.text)
        if match is None:
            pieces.append(Piece(line.start, line.text))
            break
        pieces.append(Piece(line.start, line.text[: match.start()]))
    return tuple(pieces), index


def _is_comment_or_blank(text: str) -> bool:
    stripped = text.lstrip()
    return not stripped or stripped.startswith("#")


def _skip_heredocs(text: str, lines: list[_Line], index: int) -> int:
    for word in text.split():
        match = _HEREDOC.fullmatch(word)
        if match is None:
            continue
        strip_tabs, delimiter = match.group(1) == "-", match.group(3)
        while index < len(lines):
            body_line = lines[index].text
            index += 1
            if (body_line.lstrip("\t") if strip_tabs else body_line) == delimiter:
                break
    return index


def _flags(args: Pieces) -> tuple[list[tuple[str, Pieces]], int]:
    """The leading `--name=value` flags (names lowercased, values as pieces, in order), and
    where the words after them start. Only flags are cut out: this runs on every RUN line."""
    text = joined(args)
    flags: list[tuple[str, Pieces]] = []
    for match in _TOKEN.finditer(text):
        token = match.group()
        if not token.startswith("--"):
            return flags, match.start()
        name = token[2:].partition("=")[0]
        flags.append((name.lower(), sliced(args, match.start() + len(name) + 3, match.end())))
    return flags, len(text)


def _flag(flags: list[tuple[str, Pieces]], name: str) -> Pieces | None:
    values = [value for flag, value in flags if flag == name]
    return values[-1] if values else None


def _declare_args(args: Pieces, state: _State) -> None:
    scope = state.stage_args if state.in_stage else state.global_args
    text = joined(args)
    for match in _ARG.finditer(text):
        if match.start() > 0 and not text[match.start() - 1].isspace():
            continue
        name = match.group(1)
        value_group = next((g for g in (2, 3, 4) if match.group(g) is not None), None)
        if value_group is None:
            # A bare `ARG NAME` in a stage brings the global default into the stage.
            scope[name] = state.global_args.get(name) if state.in_stage else None
            continue
        value = sliced(args, match.start(value_group), match.end(value_group))
        if value_group == 3:  # single quotes: taken literally
            scope[name] = value
            continue
        try:
            scope[name] = expand(value, scope)
        except Unresolved:
            scope[name] = None


def _from(args: Pieces, state: _State) -> list[Found]:
    flags, words_start = _flags(args)
    rest = [sliced(args, m.start(), m.end()) for m in itertools.islice(_TOKEN.finditer(joined(args), words_start), 3)]
    state.in_stage = True
    state.stage_args = {}
    if not rest:
        return []
    image = rest[0]
    platform = _platform(_flag(flags, "platform"), state.global_args)
    found = _resolve(image, state.global_args, state.stages, platform)
    if len(rest) >= 3 and joined(rest[1]).upper() == "AS":
        state.stages.add(joined(rest[2]).lower())
    return [found]


def _copy_from(args: Pieces, state: _State) -> list[Found]:
    if "--" not in joined(args):
        return []
    flags, _ = _flags(args)
    source = _flag(flags, "from")
    return [_resolve(source, state.stage_args, state.stages, None)] if source else []


def _mount_from(args: Pieces, state: _State) -> list[Found]:
    if "--" not in joined(args):
        return []
    flags, _ = _flags(args)
    found = []
    for name, mount in flags:
        source = _mount_source(mount) if name == "mount" else None
        if source:
            found.append(_resolve(source, state.stage_args, state.stages, None))
    return found


def _mount_source(mount: Pieces) -> Pieces | None:
    """The `from=` value of a `--mount=type=...,from=...` flag."""
    position = 0
    for option in joined(mount).split(","):
        key, equals, _ = option.partition("=")
        if equals and key.strip().lower() == "from":
            return sliced(mount, position + len(key) + 1, position + len(option))
        position += len(option) + 1
    return None


def _platform(flag: Pieces | None, scope: Scope) -> str | None:
    if flag is None:
        return None
    try:
        return joined(expand(flag, scope)) or None
    except Unresolved:
        return None  # $BUILDPLATFORM and kin are known only at build time


def _resolve(written: Pieces, scope: Scope, stages: set[str], platform: str | None) -> Found:
    written_text = joined(written)
    if written_text.isdigit() or written_text.lower() in stages:
        return skipped(written, "stage", f"refers to the build stage {written_text!r}")
    try:
        pieces = expand(written, scope)
    except Unresolved as e:
        return skipped(written, "variable", f"{e.expression} {e.problem}")
    text = joined(pieces)
    if text.lower() in stages:
        return skipped(written, "stage", f"refers to the build stage {text!r}")
    if text == "scratch":
        return skipped(pieces, "scratch", "scratch is the empty image")
    return image_found(pieces, written, platform)
