"""GitHub Actions workflows (`.github/workflows/*.yml`): the platforms the repository builds
images for, from the `platforms:` input of `docker/build-push-action` steps and of reusable
workflows a job calls (`docker/github-builder`, or the repository's own), and from `docker
buildx build --platform` (or `docker build --platform`) in `run:` scripts. Expressions
(`${{ ... }}`) are known only when the workflow runs, and say nothing here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from tagbot.errors import ScanError
from tagbot.scan.model import Found

KIND = "workflow"

_PATH = re.compile(r"(^|.*/)\.github/workflows/[^/]+\.ya?ml")
_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
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
    return []  # this kind declares platforms only (images in workflows are another issue's work)


def declared_platforms(text: str, found: list[Found]) -> list[tuple[int, str]]:
    try:
        document = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark is not None else None
        raise ScanError("", line, f"invalid YAML: {e.problem or e.context}") from e
    except (yaml.YAMLError, RecursionError) as e:
        raise ScanError("", None, f"invalid YAML: {type(e).__name__}") from e
    declared: list[tuple[int, str]] = []
    for caller in _callers(document):
        uses, inputs, script = (_value(caller, key) for key in ("uses", "with", "run"))
        if isinstance(uses, yaml.ScalarNode) and _BUILDER.match(uses.value) and isinstance(inputs, yaml.MappingNode):
            platforms = _value(inputs, "platforms")
            if isinstance(platforms, yaml.ScalarNode):
                declared.extend((platforms.start_mark.index, p) for p in _split(platforms.value))
        if isinstance(script, yaml.ScalarNode):
            declared.extend(_from_script(text, script))
    return declared


def _callers(document: yaml.Node | None) -> Iterator[yaml.MappingNode]:
    """Every job (a job may call a reusable workflow) and every step of every job, and of a
    composite action's `runs:`."""
    for holder in _jobs(document):
        yield holder
        steps = _value(holder, "steps")
        if isinstance(steps, yaml.SequenceNode):
            yield from (step for step in steps.value if isinstance(step, yaml.MappingNode))


def _jobs(document: yaml.Node | None) -> Iterator[yaml.MappingNode]:
    if not isinstance(document, yaml.MappingNode):
        return
    jobs = _value(document, "jobs")
    if isinstance(jobs, yaml.MappingNode):
        yield from (job for _, job in jobs.value if isinstance(job, yaml.MappingNode))
    runs = _value(document, "runs")
    if isinstance(runs, yaml.MappingNode):
        yield runs


def _value(mapping: yaml.Node, key: str) -> yaml.Node | None:
    if not isinstance(mapping, yaml.MappingNode):
        return None
    return next((value for k, value in mapping.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


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
