"""Drone (`.drone.yml`) and Woodpecker (`.woodpecker.yml`, `.woodpecker/*.yml`): the `image` of
each step, service and clone step, written as a list (`steps: [{name: test, image: golang:1.22}]`)
or as a map of names (`steps: {test: {image: ...}}`, Woodpecker's, and its older `pipeline:`), in
every document of a multi-document file. `${DRONE_*}`, `${CI_*}` and other variables are known
only when the pipeline runs: skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from tagbot.scan import yamlnodes
from tagbot.scan.model import Found, no_platforms
from tagbot.scan.yamlnodes import value

KIND = "drone"
_LISTS = ("steps", "services", "pipeline", "clone")

declared_platforms = no_platforms


def matches(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    folder = path.rsplit("/", 2)[-2] if "/" in path else ""
    return name in (".drone.yml", ".drone.yaml", ".woodpecker.yml", ".woodpecker.yaml") or (
        folder == ".woodpecker" and name.endswith((".yml", ".yaml")))


def extract(text: str) -> list[Found]:
    return yamlnodes.references_of(yamlnodes.parse(text), _images)


def _images(document: yaml.Node) -> Iterator[tuple[yaml.ScalarNode, str]]:
    memo: yamlnodes.Memo = {}
    for key in _LISTS:
        listed = value(document, key)
        if isinstance(listed, yaml.SequenceNode):
            entries = listed.value
        else:
            entries = [entry for _, entry in yamlnodes.items(listed)]
        for entry in entries:
            # Woodpecker's steps share settings through merge keys (`<<: *base-step`).
            image = yamlnodes.lookup(entry, "image", memo) if isinstance(entry, yaml.MappingNode) else None
            yield from yamlnodes.image_value(image)
