"""GitHub Actions workflows (`.github/workflows/*.yml`) and actions (`action.yml`).

Images: a job's `container` and `services` (a string or `image:`), and steps that run an image
(`uses: docker://alpine:3.20`), in jobs and in a composite action's steps, and a Docker
action's own `runs.image: docker://...`. Expressions (`${{ matrix.db }}`) are known only when the
workflow runs: skipped as variables.

Platforms the repository builds images for: the `platforms:` input of `docker/build-push-action`
steps and of reusable workflows a job calls (`docker/github-builder`, or the repository's own),
and `docker buildx build --platform` (or `docker build --platform`) in `run:` scripts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from tagbot.scan import yamlnodes
from tagbot.scan.model import Found
from tagbot.scan.yamlnodes import Parsed, value

KIND = "workflow"

_PATH = re.compile(r"(^|.*/)\.github/workflows/[^/]+\.ya?ml|(^|.*/)action\.ya?ml")
_DOCKER = "docker://"
# A step's action that builds images, or a reusable workflow (called by a job) of any name:
# one that takes `platforms` builds images for them.
_BUILDER = re.compile(r"docker/build-push-action@|(?:[^@]*/)?\.github/workflows/[^/]+\.ya?ml(?:@|$)")
# `docker buildx build ... --platform linux/amd64,linux/arm64` and `--platform=...`, the
# command's lines joined by `\` continuations.
_BUILD_COMMAND = re.compile(
    r"\bdocker\s+(?:buildx\s+)?build\b(?:[^\n\\]|\\\n|\\)*?--platform(?:=|\s+)(['\"]?)([^\s'\"]+)\1"
)
_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")


def matches(path: str) -> bool:
    return bool(_PATH.fullmatch(path))


def extract(text: str) -> list[Found]:
    parsed = _parse(text)
    return yamlnodes.references_of(parsed, _image_nodes)


def _image_nodes(document: yaml.Node) -> Iterator[tuple[yaml.ScalarNode, str]]:
    """Each scalar that names an image, and the prefix before the image in it."""
    for job in _jobs(document):
        container = value(job, "container")
        yield from yamlnodes.image_value(container, "image")
        for _, service in yamlnodes.items(value(job, "services")):
            yield from yamlnodes.image_value(service, "image")
        for step in _steps(job):
            uses = value(step, "uses")
            if isinstance(uses, yaml.ScalarNode) and uses.value.startswith(_DOCKER):
                yield uses, _DOCKER
    runs = value(document, "runs")
    image = value(runs, "image")
    if yamlnodes.scalar(value(runs, "using")) == "docker" and isinstance(image, yaml.ScalarNode):
        if image.value.startswith(_DOCKER):  # else a Dockerfile in the action's folder
            yield image, _DOCKER


def declared_platforms(text: str, found: list[Found]) -> list[tuple[int, str]]:
    parsed = _parse(text)
    declared: list[tuple[int, str]] = []
    for document in parsed.documents:
        for caller in _callers(document):
            uses, inputs, script = (value(caller, key) for key in ("uses", "with", "run"))
            if isinstance(uses, yaml.ScalarNode) and _BUILDER.match(uses.value) and isinstance(inputs, yaml.MappingNode):
                platforms = value(inputs, "platforms")
                if isinstance(platforms, yaml.ScalarNode):
                    declared.extend((platforms.start_mark.index + parsed.shift, p) for p in _split(platforms.value))
            if isinstance(script, yaml.ScalarNode):
                declared.extend(_from_script(text, script))
    return declared


_last: tuple[str, Parsed] | None = None


def _parse(text: str) -> Parsed:
    """The file's documents; the last file's are kept, as `extract` and `declared_platforms`
    read the same text one after the other."""
    global _last
    if _last is not None and _last[0] is text:
        return _last[1]
    parsed = yamlnodes.parse(text)
    _last = (text, parsed)
    return parsed


def _callers(document: yaml.Node) -> Iterator[yaml.MappingNode]:
    """Every job (a job may call a reusable workflow) and every step of every job, and of a
    composite action's `runs:`."""
    for job in _jobs(document):
        yield job
        yield from _steps(job)


def _jobs(document: yaml.Node) -> Iterator[yaml.MappingNode]:
    """Every job of a workflow, and an action's `runs:` (whose steps are a composite action's)."""
    for _, job in yamlnodes.items(value(document, "jobs")):
        if isinstance(job, yaml.MappingNode):
            yield job
    runs = value(document, "runs")
    if isinstance(runs, yaml.MappingNode):
        yield runs


def _steps(job: yaml.MappingNode) -> Iterator[yaml.MappingNode]:
    steps = value(job, "steps")
    if isinstance(steps, yaml.SequenceNode):
        yield from (step for step in steps.value if isinstance(step, yaml.MappingNode))


def _from_script(text: str, script: yaml.ScalarNode) -> Iterator[tuple[int, str]]:
    """The `--platform` values of build commands in a `run:` script. A block scalar's lines
    start on the line after its `|` or `>`; a match is placed at the start of its line there."""
    first_line = script.start_mark.line + (1 if script.style in ("|", ">") else 0)
    line_starts = _line_starts(text)
    for match in _BUILD_COMMAND.finditer(script.value):
        line = first_line + script.value.count("\n", 0, match.start(2))
        offset = line_starts[min(line, len(line_starts) - 1)]
        yield from ((offset, p) for p in _split(match.group(2)))


def _line_starts(text: str) -> list[int]:
    return [0] + [index + 1 for index, char in enumerate(text) if char == "\n"]


def _split(value: str) -> list[str]:
    """`linux/amd64,linux/arm64` (or one a line): the literal platforms only."""
    return [p for p in re.split(r"[\s,]+", value.strip()) if _PLATFORM.fullmatch(p.lower())]
