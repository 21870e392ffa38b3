"""Bitbucket Pipelines (`bitbucket-pipelines.yml`): the default `image:` and each step's, a
string or `{name: ..., username: ..., password: ...}` (credentials are the file's, never read),
service definitions' images, and pipes run from an image (`pipe: docker://acme/pipe:1.2`).
A pipe named without `docker://` (`atlassian/aws-s3-deploy:1.1.0`) is Bitbucket's name for an
image elsewhere: not read. `$VARIABLES` are known only when the pipeline runs: skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from tagbot.scan import yamlnodes
from tagbot.scan.model import Found, file_named, no_platforms
from tagbot.scan.yamlnodes import value

KIND = "bitbucket"
_DOCKER = "docker://"

matches = file_named(r"bitbucket-pipelines\.ya?ml")
declared_platforms = no_platforms


def extract(text: str) -> list[Found]:
    return yamlnodes.references_of(yamlnodes.parse(text), _images)


def _images(document: yaml.Node) -> Iterator[tuple[yaml.ScalarNode, str]]:
    yield from yamlnodes.image_value(value(document, "image"), "name")
    for _, service in yamlnodes.items(value(value(document, "definitions"), "services")):
        yield from yamlnodes.image_value(value(service, "image"), "name")
    pipelines = value(document, "pipelines")
    for node in yamlnodes.walk(pipelines) if pipelines is not None else ():
        step = value(node, "step")
        yield from yamlnodes.image_value(value(step, "image"), "name")
        pipe = value(node, "pipe")
        if isinstance(pipe, yaml.ScalarNode) and pipe.value.startswith(_DOCKER):
            yield pipe, _DOCKER
