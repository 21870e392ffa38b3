"""Ansible playbooks and roles (YAML in `tasks/`, `handlers/` or `playbooks/` folders, and
`playbook*.yml`, `*-playbook.yml`, `site.yml`, molecule's `converge.yml`/`prepare.yml`): the
images tasks run or pull.
- `docker_container`, `podman_container`, `docker_swarm_service` (with or without their
  collection, `community.docker.docker_container`): `image:`, or `image=` in a task's
  `key=value` arguments;
- `docker_image`, `docker_image_pull`, `podman_image`: `name:` with `tag:` beside it (the tag
  edited where it is written) or a name holding its tag; one that builds (`build:` or
  `source: build`) is this repository's own image: skipped.
Tasks are found wherever a play nests them (`tasks`, `handlers`, `block`, `rescue`, `always`).
Jinja (`{{ app_tag }}`) is filled in when the play runs: skipped as a variable. Tekton keeps
Kubernetes manifests in `tasks/` folders too: a file with top-level `apiVersion:` and `kind:` is
read as Kubernetes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from tagbot.scan import kubernetes, yamlnodes
from tagbot.scan.model import Found, Piece, composed_found, image_found, no_platforms, skipped
from tagbot.scan.yamlnodes import Parsed, value

KIND = "ansible"

_PATH = re.compile(
    r"(?:.*/)?(?:(?:tasks|handlers|playbooks)/(?:[^/]+/)*[^/]+|[^/]*playbook[^/]*|site|molecule/[^/]+/(?:converge|prepare))"
    r"\.ya?ml")
_COLLECTIONS = ("", "community.docker.", "community.general.", "containers.podman.")
_CONTAINER_MODULES = {f"{c}{m}" for c in _COLLECTIONS for m in ("docker_container", "podman_container",
                                                                   "docker_swarm_service")}
_IMAGE_MODULES = {f"{c}{m}" for c in _COLLECTIONS for m in ("docker_image", "docker_image_pull", "podman_image")}
_API_VERSION = re.compile(r"^\ufeff?apiVersion:", re.MULTILINE)
_KIND_LINE = re.compile(r"^kind:", re.MULTILINE)
_FREE_FORM_IMAGE = re.compile(r"(?:^|\s)image=(?P<value>[^\s'\"]+)")

declared_platforms = no_platforms


def matches(path: str) -> bool:
    return bool(_PATH.fullmatch(path))


def read_as(text: str) -> str:
    """Tekton keeps its Tasks in `tasks/` folders too: a file of manifests is read as Kubernetes."""
    return kubernetes.KIND if _API_VERSION.search(text) and _KIND_LINE.search(text) else KIND


def extract(text: str) -> list[Found]:
    parsed = yamlnodes.parse(text)
    found: dict[int, Found] = {}
    for document in parsed.documents:
        for task in yamlnodes.walk(document):
            for module, arguments in yamlnodes.items(task):
                for reference in _images(parsed, module, arguments):
                    found.setdefault(reference.anchor, reference)
    return sorted(found.values(), key=lambda f: f.anchor)


def _images(parsed: Parsed, module: str, arguments: yaml.Node) -> Iterator[Found]:
    if module in _CONTAINER_MODULES:
        if isinstance(arguments, yaml.ScalarNode):
            yield from _free_form(parsed, arguments)
        image = value(arguments, "image")
        if isinstance(image, yaml.ScalarNode) and image.value:
            yield yamlnodes.scalar_found(parsed, image)
    elif module in _IMAGE_MODULES:
        name = value(arguments, "name")
        if isinstance(name, yaml.ScalarNode) and name.value:
            yield _pulled(parsed, arguments, name)


def _pulled(parsed: Parsed, arguments: yaml.Node, name: yaml.ScalarNode) -> Found:
    """A `docker_image` task's image: its name, and its `tag:` when the name has none."""
    source = yamlnodes.scalar(value(arguments, "source"))
    tag = value(arguments, "tag")
    reference = yamlnodes.scalar_found(parsed, name)
    if value(arguments, "build") is not None or source == "build":
        return skipped(reference.pieces, "build", "the task builds it here")
    if not isinstance(tag, yaml.ScalarNode) or not tag.value or reference.image is None or reference.image.tag:
        return reference
    name_pieces, tag_pieces = yamlnodes.written(parsed, name), yamlnodes.written(parsed, tag)
    if isinstance(tag_pieces, Found) or isinstance(name_pieces, Found):
        return tag_pieces if isinstance(tag_pieces, Found) else reference
    return composed_found([name_pieces, ":", tag_pieces])


def _free_form(parsed: Parsed, arguments: yaml.ScalarNode) -> Iterator[Found]:
    """`docker_container: name=web image=nginx:1.27`: the `image=` value where it stands."""
    pieces = yamlnodes.written(parsed, arguments)
    if isinstance(pieces, Found):
        return
    match = _FREE_FORM_IMAGE.search(arguments.value)
    if match is None:
        return
    written = (Piece(pieces[0].start + match.start("value"), match.group("value")),)
    if yamlnodes.TEMPLATE in match.group("value"):
        yield skipped(written, "variable", "a template expression sets it")
    else:
        yield image_found(written, written)
