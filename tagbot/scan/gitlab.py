"""GitLab CI (`.gitlab-ci.yml`, and the files it pulls in with `include: local:`).

Images: `image` and `services` (a string or `{name: ...}`) at the top level, in `default:` and
in every job, hidden ones (`.base`) too. `$VAR` and `${VAR}` are resolved from literal
`variables:`: the top level's of every file of the pipeline (included files first, the root
file last, as GitLab merges them), then those of the jobs a job `extends:`, then its own; a
variable set elsewhere (the project's settings, a remote include) is skipped as one.

A reference is reported in the file where its tag is written: `golang:$GO` in `ci/test.yml`
with `GO: "1.26"` in `ci/common.yml` is `ci/common.yml`'s, as that is the line an update edits;
the parts written in other files are part of it, never places to edit.

The dependency proxy's prefixes (`$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/node:22`) mean Docker
Hub: what follows is looked up, and the prefix stays as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import yaml

from tagbot.scan import yamlnodes
from tagbot.scan.model import Found, Piece, Pieces, between, image_found, no_platforms, sliced
from tagbot.scan.variables import Scope
from tagbot.scan.yamlnodes import Parsed, literal_scope, scalar, value

KIND = "gitlab"

_NAME = re.compile(r"(^|.*/)\.gitlab-ci\.ya?ml")
# Top-level keys that are settings, not jobs.
_GLOBAL = frozenset({"default", "include", "stages", "variables", "workflow", "image", "services", "cache",
                     "before_script", "after_script", "spec"})
_PROXY_PREFIXES = tuple(
    f"{form}/"
    for name in ("CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX", "CI_DEPENDENCY_PROXY_DIRECT_GROUP_IMAGE_PREFIX")
    for form in (f"${name}", f"${{{name}}}")
)
_REMOTE = re.compile(r"[a-z]+://")
_MAX_EXTENDS = 11  # GitLab's own limit on an extends chain
# Pieces of the pipeline's files are told apart by offset: file k's start at k * _FILE_SPAN.
_FILE_SPAN = 1 << 40


def matches(path: str) -> bool:
    return bool(_NAME.fullmatch(path))


declared_platforms = no_platforms


def extract(text: str) -> list[Found]:
    """The references of one file read alone."""
    return extract_pipeline([("", yamlnodes.parse(text))])[""]


@dataclass(frozen=True)
class _Job:
    node: yaml.MappingNode
    parsed: Parsed
    offset: int


def extract_pipeline(files: Sequence[tuple[str, Parsed]]) -> dict[str, list[Found]]:
    """The references of a pipeline's parsed files (name, documents), the root file first, by the
    file each is reported in."""
    parsed = {index: documents for index, (_, documents) in enumerate(files)}
    scope: Scope = {}
    jobs: dict[str, _Job] = {}
    for index in [*range(1, len(files)), 0]:  # included files first: the root file's settings win
        if index in parsed:
            offset = index * _FILE_SPAN
            for document in parsed[index].documents:
                scope = literal_scope(value(document, "variables"), parsed[index], scope, offset=offset)
                jobs.update((key, _Job(job, parsed[index], offset)) for key, job in yamlnodes.items(document)
                            if key not in _GLOBAL and isinstance(job, yaml.MappingNode))
    # By where each is anchored and what it reads: `golang:$GO` in two jobs is one reference.
    found: dict[str, dict[tuple[int, str], Found]] = {name: {} for name, _ in files}
    known: dict[str, tuple[_Job, ...]] = {}  # each job's layers, worked out once for the pipeline
    names = [name for name, _ in files]
    for index, current in parsed.items():
        for document in current.documents:
            holders: list[tuple[yaml.Node | None, Scope]] = [(document, scope), (value(document, "default"), scope)]
            holders += [(job, _job_scope(key, jobs, scope, known)) for key, job in yamlnodes.items(document)
                        if key not in _GLOBAL and isinstance(job, yaml.MappingNode)]
            for holder, job_scope in holders:
                for node in _image_nodes(holder):
                    home, reference = _reference(current, node, job_scope, index)
                    found[names[home]].setdefault((reference.anchor, reference.text), reference)
    return {name: sorted(by_place.values(), key=lambda f: f.anchor) for name, by_place in found.items()}


def local_includes(parsed: Parsed) -> list[str]:
    """The repository paths (globs allowed, from the repository's root) this file includes."""
    paths = []
    for document in parsed.documents:
        include = value(document, "include")
        entries = include.value if isinstance(include, yaml.SequenceNode) else [include]
        for entry in entries:
            local = scalar(entry) if isinstance(entry, yaml.ScalarNode) else scalar(value(entry, "local"))
            if local and not _REMOTE.match(local):
                paths.append(local.lstrip("/"))
    return paths


def included(pattern: str, name: str) -> bool:
    """Whether the repository path `name` is what `pattern` (GitLab's glob) names: `**` crosses
    folders, `*` does not. Matched as an automaton, one step a character, so no pattern can make
    it backtrack (`**x**x**x…` against a long name took minutes as a regular expression)."""
    if "*" not in pattern:
        return name == pattern
    tokens = [token for part in re.split(r"(\*\*|\*)", pattern.replace("**/", "**"))
              for token in ([part] if part in ("*", "**") else list(part))]
    states = _past_stars({0}, tokens)
    for char in name:
        states = _past_stars({i + (tokens[i] not in ("*", "**")) for i in states if i < len(tokens)
                              and (tokens[i] == "**" or (tokens[i] == "*" and char != "/") or tokens[i] == char)}, tokens)
        if not states:
            return False
    return len(tokens) in states


def _past_stars(states: set[int], tokens: list[str]) -> set[int]:
    """The states, and those after any stars that follow them (a star may match nothing)."""
    out = set(states)
    for i in states:
        while i < len(tokens) and tokens[i] in ("*", "**"):
            i += 1
            out.add(i)
    return out


def _job_scope(name: str, jobs: dict[str, _Job], top: Scope, known: dict[str, tuple[_Job, ...]]) -> Scope:
    """The variables a job sees: the top level's, then those of what it extends (in order, each
    after its own parents), then its own."""
    scope = dict(top)
    for job in _layers(name, jobs, (), known):
        scope = literal_scope(value(job.node, "variables"), job.parsed, scope, offset=job.offset)
    return scope


def _layers(name: str, jobs: dict[str, _Job], path: tuple[str, ...], known: dict[str, tuple[_Job, ...]]) -> tuple[_Job, ...]:
    """The jobs `name` is made of, the furthest parent first and the job itself last; each job
    once, where it last applies (applying it again changes nothing after it), and each job's
    layers worked out once (`known`), so parents named again and again cost nothing more."""
    if name in known:
        return known[name]
    if name not in jobs or name in path or len(path) >= _MAX_EXTENDS:
        return ()  # GitLab refuses cycles and chains past 11: any bounded answer will do
    parents = value(jobs[name].node, "extends")
    names = [scalar(p) for p in parents.value] if isinstance(parents, yaml.SequenceNode) else [scalar(parents)]
    layers = [layer for parent in dict.fromkeys(n for n in names if n) for layer in _layers(parent, jobs, (*path, name), known)]
    last_of_each = list(reversed(list({id(job): job for job in reversed([*layers, jobs[name]])}.values())))
    known[name] = tuple(last_of_each)
    return known[name]


def _image_nodes(holder: yaml.Node | None) -> Iterator[yaml.ScalarNode]:
    yield from _named(value(holder, "image"))
    services = value(holder, "services")
    for service in services.value if isinstance(services, yaml.SequenceNode) else []:
        yield from _named(service)


def _named(node: yaml.Node | None) -> Iterator[yaml.ScalarNode]:
    """`image: ruby:3.3` or `image: {name: ruby:3.3, entrypoint: [""]}`."""
    name = value(node, "name") if isinstance(node, yaml.MappingNode) else node
    if isinstance(name, yaml.ScalarNode) and name.value:
        yield name


def _reference(parsed: Parsed, node: yaml.ScalarNode, scope: Scope, index: int) -> tuple[int, Found]:
    """(index of the file the reference is reported in, the reference with offsets in that file)."""
    prefix = next((p for p in _PROXY_PREFIXES if node.value.startswith(p)), "")
    pieces = yamlnodes.expanded(parsed, node, scope=scope, prefix=prefix, offset=index * _FILE_SPAN)
    if isinstance(pieces, Found):
        return index, pieces
    written, expanded = pieces
    home = _home(expanded)
    local = _localised(expanded, home)
    if home == index and len(local) == len(expanded):  # all written in this file: the usual case
        return index, image_found(local, written)
    return home, image_found(local, tuple(piece for piece in local if piece.start >= 0))


def _home(pieces: Pieces) -> int:
    """The file the tag is written in (or, without a tag, the image's first part)."""
    found = image_found(pieces, pieces)
    tag_span = found.image.tag_span if found.image is not None else None
    first = sliced(pieces, *tag_span)[0] if tag_span else pieces[0]
    return first.start // _FILE_SPAN


def _localised(pieces: Pieces, home: int) -> Pieces:
    """The pieces with offsets in file `home`; a piece written in another file stands nowhere here."""
    return tuple(Piece(piece.start - home * _FILE_SPAN, piece.text) if piece.start // _FILE_SPAN == home
                 else between(piece.text) for piece in pieces)
