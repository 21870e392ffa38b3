"""Finding image references in files: one module per file kind, listed in `SCANNERS`.

A scanner is a path pattern (`matches`), `extract(text) -> list[Found]` and
`declared_platforms(text, found)`: what the file says the repository builds for. It knows
nothing of lookups or rewrites. This module reads files and places what scanners find.
"""

from __future__ import annotations

import bisect
import gc
import os
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tagbot.errors import ScanError
from tagbot.scan import (
    annotated, ansible, azure, bake, bitbucket, buildkite, circleci, cloudbuild, compose, devcontainer, dockerfile, drone,
    gitlab, helm, jenkinsfile, kubernetes, kustomize, nomad, patterns, quadlet, terraform, workflows,
)
from tagbot.atomic import MAX_FILE, file_digest, read_regular_file
from tagbot.scan import yamlnodes
from tagbot.scan.files import FileToScan, find_files
from tagbot.scan.model import NOWHERE, DeclaredPlatform, Found, Reference
from tagbot.scan.patterns import KIND as PATTERN, Pattern
from tagbot.scan.yamlnodes import Parsed


class Scanner(Protocol):
    KIND: str

    def matches(self, path: str) -> bool: ...

    def extract(self, text: str) -> list[Found]: ...

    def declared_platforms(self, text: str, found: list[Found]) -> list[tuple[int, str]]:
        """(offset, platform as written) of each platform the file says the repository builds for."""


# The first that claims a file's name reads it; Kubernetes, last, takes any other YAML file and
# finds out from its content whether it is a manifest.
SCANNERS: dict[str, Scanner] = {
    dockerfile.KIND: dockerfile,
    compose.KIND: compose,
    workflows.KIND: workflows,
    bake.KIND: bake,
    helm.KIND: helm,
    kustomize.KIND: kustomize,
    gitlab.KIND: gitlab,
    devcontainer.KIND: devcontainer,
    circleci.KIND: circleci,
    bitbucket.KIND: bitbucket,
    azure.KIND: azure,
    drone.KIND: drone,
    cloudbuild.KIND: cloudbuild,
    jenkinsfile.KIND: jenkinsfile,
    buildkite.KIND: buildkite,
    quadlet.KIND: quadlet,
    terraform.KIND: terraform,
    nomad.KIND: nomad,
    ansible.KIND: ansible,
    kubernetes.KIND: kubernetes,
    # No file is theirs by name: they read files no other kind claims, and find more in those that are.
    annotated.KIND: annotated,
    patterns.KIND: patterns,
}


@dataclass(frozen=True)
class ScanResult:
    references: tuple[Reference, ...]
    errors: tuple[ScanError, ...]
    files: int
    platforms: tuple[DeclaredPlatform, ...] = ()
    digests: Mapping[str, str] = field(default_factory=dict)  # file name -> digest of what was read


@dataclass(frozen=True)
class ScannedFile:
    references: list[Reference]
    platforms: list[DeclaredPlatform]
    digest: str  # of the bytes read: a rewrite checks the file is still exactly these

def kind_of(path: str) -> str | None:
    """The kind of file at `path` (relative, `/`-separated), or None for one no scanner reads."""
    return next((kind for kind, scanner in SCANNERS.items() if scanner.matches(path)), None)


@dataclass(frozen=True)
class Pointers:
    """What points at images in files of any kind: annotations (`# tagbot: image`) and the
    config's `patterns:`."""

    annotations: bool = True
    patterns: tuple[Pattern, ...] = ()

    def kind_of(self, path: str) -> str | None:
        """The file's kind; one of no kind is read for the patterns naming it, or for annotations."""
        kind = kind_of(path)
        if kind is not None:
            return kind
        if any(pattern.files.match(path) for pattern in self.patterns):
            return patterns.KIND
        return annotated.KIND if self.annotations else None

    def found_in(self, name: str, kind: str, text: str) -> list[tuple[str, Found]]:
        """(kind, reference) of what the annotations and patterns find in the file (its own
        kind's scanner has read annotations already, when that kind is `annotated`)."""
        found: list[tuple[str, Found]] = []
        if self.annotations and kind != annotated.KIND:
            found += [(annotated.KIND, f) for f in annotated.extract(text)]
        for pattern in self.patterns:
            if pattern.files.match(name):
                found += [(patterns.KIND, f) for f in patterns.found_by(pattern, text, name)]
        return found


NO_POINTERS = Pointers(annotations=False)


def scan_paths(
    paths: Sequence[Path],
    *,
    base: Path,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    kinds: Collection[str] | None = None,
    patterns: Sequence[Pattern] = (),
) -> ScanResult:
    """Every reference in the files below `paths`, with file names relative to `base`, in files
    of `kinds` (None: every kind), and those annotations and `patterns` point at."""
    references: list[Reference] = []
    platforms: list[DeclaredPlatform] = []
    digests: dict[str, str] = {}
    errors: list[ScanError] = []
    pointers = Pointers(annotations=kinds is None or annotated.KIND in kinds, patterns=tuple(patterns))
    found = find_files(paths, base=base, kind_of=pointers.kind_of, include=include, exclude=exclude)
    errors.extend(ScanError(name, None, why) for name, why in found.unreadable)
    files, pipelines = _with_gitlab_includes(found.files)
    errors.extend(pipelines.capped)
    if kinds is not None:  # after the includes: a pipeline's files are GitLab's, whatever else is off
        files = [file for file in files if file.kind in kinds or file.kind == PATTERN]
    passed_over = 0  # files of no kind that nothing pointed into: not counted as read
    charts: dict[Path, list[str]] = {}  # a chart's templates, read once for all its values files
    with _fewer_collections():
        for file in files:
            try:
                if file.name in pipelines.errors:
                    error = pipelines.errors[file.name]
                    raise ScanError(file.name, error.line, error.problem)
                if file.kind == helm.KIND:
                    scanned = _chart_values(file, charts, pointers)
                else:
                    scanned = read_file(file.path, name=file.name, kind=file.kind, data=pipelines.data.get(file.name),
                                        found=pipelines.found.get(file.name), pointers=pointers)
            except ScanError as e:
                errors.append(e)
                continue
            if not scanned.references and file.kind in _POINTED_KINDS:
                passed_over += 1
                continue
            references.extend(scanned.references)
            platforms.extend(scanned.platforms)
            digests[file.name] = scanned.digest
    return ScanResult(tuple(references), tuple(errors), len(files) - passed_over, tuple(platforms), digests)


_POINTED_KINDS = (annotated.KIND, PATTERN)
MAX_POINTED_BYTES = 1 << 20  # a file of no kind larger than this is no file of settings: not read for annotations

MAX_TEMPLATES = 200  # a chart's template files read beside its values; charts hold a few dozen
MAX_TEMPLATE_BYTES = 1 << 20


def _chart_values(file: FileToScan, charts: dict[Path, list[str]], pointers: Pointers) -> ScannedFile:
    """A chart's values, read with the chart's templates beside them (`templates/`, kept in
    `charts` for the chart's other values files), which say what each image map becomes."""
    data = _read_bytes(file.path, file.name)
    chart = file.path.parent
    if chart not in charts:
        charts[chart] = _chart_templates(chart)
    try:
        found = helm.extract(_decoded(data, file.name), templates=charts[chart])
    except ScanError as e:
        raise ScanError(file.name, e.line, e.problem) from e
    return read_file(file.path, name=file.name, kind=file.kind, data=data, found=found, pointers=pointers)


def _chart_templates(chart: Path) -> list[str]:
    """The texts of the chart's templates (`*.yaml`, `*.yml`, `*.tpl`, in sub-folders too), as many as are sensible
    to read; one that cannot be read (a link, a pipe, not UTF-8) is passed over."""
    folder = chart / "templates"
    if not folder.is_dir() or folder.is_symlink():
        return []
    texts = []
    names = sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml", ".tpl"))[:MAX_TEMPLATES]
    for path in names:
        try:
            data = read_regular_file(path)
            if len(data) <= MAX_TEMPLATE_BYTES:
                texts.append(data.decode("utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    return texts


MAX_INCLUDED = 1000  # files one pipeline may include (GitLab itself allows 150)


@dataclass
class _Pipelines:
    """What the GitLab CI files said, read as the pipelines they make up."""

    data: dict[str, bytes] = field(default_factory=dict)  # bytes read, so no file is opened twice
    found: dict[str, list[Found]] = field(default_factory=dict)
    errors: dict[str, ScanError] = field(default_factory=dict)
    capped: list[ScanError] = field(default_factory=list)  # pipelines that include more than MAX_INCLUDED


def _with_gitlab_includes(files: list[FileToScan]) -> tuple[list[FileToScan], _Pipelines]:
    """The files, those a `.gitlab-ci.yml` includes (`include: local:`, from the folder it is
    in, and on through theirs) read as GitLab CI, though by name they would be any YAML file;
    and each pipeline's references, read together, since a variable set in one file is used in
    another."""
    by_name = {file.name: file for file in files}
    pipelines = _Pipelines()
    for root in [file for file in files if file.kind == gitlab.KIND]:
        if root.name in pipelines.found or root.name in pipelines.errors:
            continue  # included by another pipeline, and read with it
        members = _pipeline(root, by_name, pipelines)
        found = gitlab.extract_pipeline([(member.name, parsed) for member, parsed in members])
        for name, references in found.items():
            pipelines.found.setdefault(name, references)
    return list(by_name.values()), pipelines


def _pipeline(root: FileToScan, by_name: dict[str, FileToScan], pipelines: _Pipelines) -> list[tuple[FileToScan, Parsed]]:
    """The root file and every file it includes, in the order they are included, each parsed once;
    one that is not YAML is an error of its own, and the rest of the pipeline is still read."""
    folder = root.name.rpartition("/")[0]
    members: list[tuple[FileToScan, Parsed]] = []
    queue, seen = [root], {root.name}
    while queue:
        including = queue.pop(0)
        try:
            pipelines.data[including.name] = _read_bytes(including.path, including.name)
            parsed = yamlnodes.parse(_decoded(pipelines.data[including.name], including.name))
        except ScanError as e:
            pipelines.errors[including.name] = e
            continue
        members.append((including, parsed))
        for pattern in gitlab.local_includes(parsed):
            wanted = f"{folder}/{pattern}" if folder else pattern
            for name in _named_by(wanted, by_name):
                file = by_name[name]
                if name not in seen and gitlab.included(wanted, name):
                    if len(seen) > MAX_INCLUDED:
                        pipelines.capped.append(ScanError(root.name, None, f"includes more than {MAX_INCLUDED:,} files; "
                                                                           "those past them are not read"))
                        return members
                    seen.add(name)
                    by_name[name] = FileToScan(file.path, name, gitlab.KIND)
                    queue.append(by_name[name])
    return members


def _named_by(pattern: str, by_name: Mapping[str, FileToScan]) -> list[str]:
    """The names an include pattern may name: a plain path is looked up, a glob tried on each."""
    if "*" in pattern:
        return list(by_name)
    return [pattern] if pattern in by_name else []


def declared_at_root(root: Path, *, base: Path) -> tuple[DeclaredPlatform, ...]:
    """What the repository at `root` says it builds for in the usual places, its workflows and
    bake files at the top, so a run over a few files (a pre-commit hook's) decides as a run over
    the whole repository would."""
    candidates = [*root.glob(".github/workflows/*.y*ml"), *root.glob("docker-bake*.hcl"), *root.glob("docker-bake*.json")]
    declared: list[DeclaredPlatform] = []
    for path in sorted(candidates):
        name = os.path.relpath(path, base).replace(os.sep, "/")
        kind = kind_of(name)
        if kind is None or not path.is_file():
            continue
        try:
            declared.extend(read_file(path, name=name, kind=kind).platforms)
        except ScanError:
            continue  # a full scan reports it; here it only declares nothing
    return tuple(declared)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """A scan builds many small objects that all stay alive, so the cyclic collector's passes
    find nothing; running it less often saves a sixth of a large scan (as mypy does)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def scan_file(path: Path, *, name: str, kind: str) -> list[Reference]:
    """The references in one file; `name` is how reports show it. Raise `ScanError` naming it."""
    return read_file(path, name=name, kind=kind).references


def read_file(path: Path, *, name: str, kind: str, data: bytes | None = None,
              found: list[Found] | None = None, pointers: Pointers = NO_POINTERS) -> ScannedFile:
    """The references and declared platforms of one file (whose bytes are `data`, and whose
    references are `found`, when already known), and those `pointers` point at; raise
    `ScanError` naming it."""
    scanner = SCANNERS[kind]
    try:
        if kind == annotated.KIND:  # a file of no kind: most are source code, or not text at all
            data = _read_bytes(path, name, limit=MAX_POINTED_BYTES) if data is None else data
            if annotated.MARKER.encode() not in data:
                return ScannedFile([], [], "")
        data = _read_bytes(path, name) if data is None else data
        text = _decoded(data, name)
    except ScanError:
        if getattr(scanner, "GUESSED", False) or kind == annotated.KIND:
            return ScannedFile([], [], "")  # named like one of ours (or like none), but no text: not ours
        raise
    if hasattr(scanner, "read_as"):  # a file the name gave to one kind whose text says it is another's
        kind = scanner.read_as(text)
        scanner = SCANNERS[kind]
    try:
        found = scanner.extract(text) if found is None else found
        declared = scanner.declared_platforms(text, found)
    except ScanError as e:
        raise ScanError(name, e.line, e.problem) from e
    pointed = _beside(found, pointers.found_in(name, kind, text))
    every = sorted([(kind, f) for f in found] + pointed, key=lambda k: k[1].anchor) if pointed else [(kind, f) for f in found]
    place = _Places(text, many=len(every) + len(declared) > _MANY)
    return ScannedFile(
        [Reference(name, of_kind, *place(f.anchor), f) for of_kind, f in every],
        [DeclaredPlatform(name, place(offset)[0], platform) for offset, platform in declared],
        file_digest(data),
    )


def _beside(found: list[Found], pointed: list[tuple[str, Found]]) -> list[tuple[str, Found]]:
    """What annotations and patterns point at, less what the file's kind found already (an
    annotated `image:` line of a compose file is one reference, not two)."""
    if not pointed:
        return []
    taken = [piece for f in found for piece in f.pieces if piece.start != NOWHERE]

    def overlaps(f: Found) -> bool:
        return any(a.start < b.end and b.start < a.end for a in f.pieces if a.start != NOWHERE for b in taken)

    return [(kind, f) for kind, f in pointed if not overlaps(f)]


def _read_bytes(path: Path, name: str, limit: int = MAX_FILE) -> bytes:
    try:
        return read_regular_file(path, limit)
    except OSError as e:
        raise ScanError(name, None, f"cannot read: {e.strerror}") from e


def _decoded(data: bytes, name: str) -> str:
    """The file decoded as UTF-8 with line endings and any BOM kept, so offsets are exact."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ScanError(name, line, "not UTF-8 text") from e


_MANY = 64  # references in one file past which line numbers come from an index of line starts


class _Places:
    """1-based (line, column) of character offsets; the BOM is not a column anyone sees. For a
    file with many references, lines are found by bisection in the line starts, so 40,000
    services cost one pass over the text, not one per service."""

    def __init__(self, text: str, *, many: bool) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in re.finditer("\n", text))] if many else None

    def __call__(self, offset: int) -> tuple[int, int]:
        if self.starts is not None:
            line = bisect.bisect_right(self.starts, offset)
            line_start = self.starts[line - 1]
        else:
            line = self.text.count("\n", 0, offset) + 1
            line_start = self.text.rfind("\n", 0, offset) + 1
        column = offset - line_start + 1
        if line_start == 0 and self.text.startswith("\ufeff"):
            column -= 1
        return line, column
