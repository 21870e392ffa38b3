"""Google Cloud Build (`cloudbuild.yaml`, `cloudbuild.yml`, `cloudbuild-prod.yaml`,
`cloudbuild.prod.yaml`, `cloudbuild_test.yaml`): each step's `name`, the image the step runs
(`gcr.io/cloud-builders/docker`, `node:20.11`). Substitutions (`$PROJECT_ID`, `${_IMAGE}`) are
known only when the build runs: skipped as variables.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from tagbot.scan import yamlnodes
from tagbot.scan.model import Found, file_named, no_platforms
from tagbot.scan.yamlnodes import value

KIND = "cloudbuild"

matches = file_named(r"cloudbuild([._-][^/]+)?\.ya?ml")
declared_platforms = no_platforms


def extract(text: str) -> list[Found]:
    return yamlnodes.references_of(yamlnodes.parse(text), _images)


def _images(document: yaml.Node) -> Iterator[tuple[yaml.ScalarNode, str]]:
    steps = value(document, "steps")
    for step in steps.value if isinstance(steps, yaml.SequenceNode) else []:
        yield from yamlnodes.image_value(value(step, "name"))
