"""GitLab CI (`.gitlab-ci.yml`, and the files it pulls in with `include: local:`).

Images: `image` and `services` (a string or `{name: ...}`) at the top level, in `default:` and
in every job, hidden ones (`.base`) too. `$VAR` and `${VAR}` are resolved from the literal
`variables:` of the same file: the top level's, then those of the jobs a job `extends:`, then
its own; a variable set anywhere else (another file, the project's settings) is skipped as one.
The dependency proxy's prefixes (`$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/node:22`) mean Docker
Hub: what follows is looked up, and the prefix stays as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from tagbot.scan import yamlnodes
from tagbot.scan.model import Found
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


def matches(path: str) -> bool:
    return bool(_NAME.fullmatch(path))


def declared_platforms(text: str, found: list[Found]) -> list[tuple[int, str]]:
    return []


def extract(text: str) -> list[Found]:
    parsed = yamlnodes.parse(text)
    found: dict[int, Found] = {}
    for document in parsed.documents:
        top = literal_scope(value(document, "variables"), parsed)
        jobs = {key: job for key, job in yamlnodes.items(document) if key not in _GLOBAL and isinstance(job, yaml.MappingNode)}
        holders: list[tuple[yaml.Node | None, Scope]] = [(document, top), (value(document, "default"), top)]
        holders += [(job, _job_scope(parsed, name, jobs, top)) for name, job in jobs.items()]
        for holder, scope in holders:
            for node in _image_nodes(holder):
                if node.start_mark.index not in found:
                    found[node.start_mark.index] = _reference(parsed, node, scope)
    return sorted(found.values(), key=lambda f: f.anchor)


def local_includes(text: str) -> list[str]:
    """The repository paths (globs allowed, from the repository's root) this file includes."""
    try:
        parsed = yamlnodes.parse(text)
    except Exception:  # the scan of the file itself reports it
        return []
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
    """Whether the repository path `name` is what `pattern` (GitLab's glob) names."""
    if "*" not in pattern:
        return name == pattern
    # `**` crosses folders, `*` does not.
    regex = "".join(".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
                    for part in re.split(r"(\*\*|\*)", pattern.replace("**/", "**")))
    return bool(re.fullmatch(regex, name))


def _job_scope(parsed: Parsed, name: str, jobs: dict[str, yaml.MappingNode], top: Scope) -> Scope:
    """The variables a job sees: the top level's, then those of what it extends (in order, each
    after its own parents), then its own."""
    scope = dict(top)
    for job in _layers(name, jobs, ()):
        scope = literal_scope(value(job, "variables"), parsed, scope)
    return scope


def _layers(name: str, jobs: dict[str, yaml.MappingNode], path: tuple[str, ...]) -> list[yaml.MappingNode]:
    """The jobs `name` is made of, the furthest parent first and the job itself last."""
    if name not in jobs or name in path or len(path) >= _MAX_EXTENDS:
        return []
    parents = value(jobs[name], "extends")
    names = [scalar(p) for p in parents.value] if isinstance(parents, yaml.SequenceNode) else [scalar(parents)]
    layers = [layer for parent in names if parent for layer in _layers(parent, jobs, (*path, name))]
    return [*layers, jobs[name]]


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


def _reference(parsed: Parsed, node: yaml.ScalarNode, scope: Scope) -> Found:
    prefix = next((p for p in _PROXY_PREFIXES if node.value.startswith(p)), "")
    return yamlnodes.scalar_found(parsed, node, scope=scope, prefix=prefix)

