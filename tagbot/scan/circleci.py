"""CircleCI (`.circleci/config.yml`): the `docker:` images of jobs and executors, orbs' inline
executors too (`docker: [{image: cimg/node:20.11}, {image: postgres:16.4}]`). A `machine:`
image is a virtual machine's (`ubuntu-2204:2024.01.1`), not a container image: skipped.
Pipeline parameters (`<< parameters.tag >>`) are known only when the pipeline runs: skipped
as variables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from tagbot.scan import yamlnodes
from tagbot.scan.model import Found, no_platforms, skipped
from tagbot.scan.yamlnodes import value

KIND = "circleci"
_PARAMETER = "<<"

declared_platforms = no_platforms


_PATH = re.compile(r"(.*/)?\.circleci/config\.ya?ml")


def matches(path: str) -> bool:
    return bool(_PATH.fullmatch(path))


def extract(text: str) -> list[Found]:
    parsed = yamlnodes.parse(text)
    found = yamlnodes.references_of(parsed, _images)
    found += [_machine(parsed, node) for document in parsed.documents for node in _machines(document)]
    return sorted((_parameter(f) for f in found), key=lambda f: f.anchor)


def _images(document: yaml.Node) -> Iterator[tuple[yaml.ScalarNode, str]]:
    for node in yamlnodes.walk(document):
        docker = value(node, "docker")
        if isinstance(docker, yaml.SequenceNode):
            for entry in docker.value:
                yield from yamlnodes.image_value(value(entry, "image"))


def _machines(document: yaml.Node) -> Iterator[yaml.ScalarNode]:
    for node in yamlnodes.walk(document):
        image = value(value(node, "machine"), "image")
        if isinstance(image, yaml.ScalarNode) and image.value:
            yield image


def _machine(parsed: yamlnodes.Parsed, node: yaml.ScalarNode) -> Found:
    pieces = yamlnodes.written(parsed, node)
    where = pieces.pieces if isinstance(pieces, Found) else pieces
    return skipped(where, "unsupported", "a machine image (a virtual machine's), not a container image")


def _parameter(found: Found) -> Found:
    if _PARAMETER not in found.text:
        return found
    return skipped(found.pieces, "variable", "a pipeline parameter sets it when the pipeline runs")
