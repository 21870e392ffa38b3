"""Azure Pipelines (`azure-pipelines.yml`, `.azure-pipelines/**.yml`): a job's `container:` (a
string, or `{image: ...}`), `resources.containers[].image`, and a job's `services:` written as
images. A name given in `services:` or `container:` that is a container resource's alias
(`container: linux`) names that resource, which is read instead. Template expressions
(`${{ parameters.image }}`) and macros (`$(registry)`) are known only when the pipeline runs:
skipped as variables.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from tagbot.scan import yamlnodes
from tagbot.scan.model import Found, no_platforms
from tagbot.scan.yamlnodes import value

KIND = "azure"

declared_platforms = no_platforms


def matches(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return name in ("azure-pipelines.yml", "azure-pipelines.yaml") or (
        (path.startswith(".azure-pipelines/") or "/.azure-pipelines/" in path) and name.endswith((".yml", ".yaml")))


def extract(text: str) -> list[Found]:
    return yamlnodes.references_of(yamlnodes.parse(text), _images)


def _images(document: yaml.Node) -> Iterator[tuple[yaml.ScalarNode, str]]:
    resources = value(value(document, "resources"), "containers")
    aliases = set()
    for resource in resources.value if isinstance(resources, yaml.SequenceNode) else []:
        alias = yamlnodes.scalar(value(resource, "container"))
        if alias:
            aliases.add(alias)
        yield from yamlnodes.image_value(value(resource, "image"))
    for node in yamlnodes.walk(document):
        container = value(node, "container")
        if isinstance(container, yaml.MappingNode) or yamlnodes.scalar(container) not in aliases:
            yield from _image(container)
        for _, service in yamlnodes.items(value(node, "services")):
            if yamlnodes.scalar(service) not in aliases:
                yield from _image(service)


def _image(node: yaml.Node | None) -> Iterator[tuple[yaml.ScalarNode, str]]:
    """A container written as an image: a string holding a `/`, `:`, `@` or an expression (a
    bare word is a resource's alias), or a mapping's `image`."""
    if isinstance(node, yaml.ScalarNode) and not any(mark in node.value for mark in ("/", ":", "@", "$")):
        return
    yield from yamlnodes.image_value(node, "image")
