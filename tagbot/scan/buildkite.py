"""Buildkite (`.buildkite/*.yml`, `buildkite.yml`, `pipeline.yml` in `.buildkite/`): the images
steps run in, as the Docker plugins take them (`plugins: [{docker#v5.11.0: {image: node:20.11}}]`,
`docker-compose#v5.2.0`'s `image:`, in a list or a map of plugins, in `group:` steps too), and
the `image:` a pipeline or step names for hosted or Kubernetes agents. The plugin's own
version (`#v5.11.0`) is a git tag, not an image. Buildkite interpolates `$VAR` and `${VAR}`
when the pipeline is uploaded: skipped as variables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from tagbot.scan import yamlnodes
from tagbot.scan.model import Found, no_platforms
from tagbot.scan.yamlnodes import value

KIND = "buildkite"

_PATH = re.compile(r"(.*/)?(?:\.buildkite/[^/]+|buildkite)\.ya?ml")
# `docker#v5.11.0`, `docker-compose`, `buildkite-plugins/docker-buildkite-plugin#v5`,
# `https://github.com/buildkite-plugins/docker-compose-buildkite-plugin.git#v5`.
_DOCKER_PLUGIN = re.compile(r"(?:.*/)?docker(?:-compose)?(?:-buildkite-plugin)?(?:\.git)?(?:#.*)?")

declared_platforms = no_platforms


def matches(path: str) -> bool:
    return bool(_PATH.fullmatch(path))


def extract(text: str) -> list[Found]:
    return yamlnodes.references_of(yamlnodes.parse(text), _images)


def _images(document: yaml.Node) -> Iterator[tuple[yaml.ScalarNode, str]]:
    yield from yamlnodes.image_value(value(document, "image"))
    steps = value(document, "steps")
    pending = list(steps.value) if isinstance(steps, yaml.SequenceNode) else []
    while pending:
        step = pending.pop(0)
        group = value(step, "steps")  # a `group:` step holds steps of its own
        if isinstance(group, yaml.SequenceNode):
            pending.extend(group.value)
        yield from yamlnodes.image_value(value(step, "image"))
        for name, options in _plugins(value(step, "plugins")):
            if _DOCKER_PLUGIN.fullmatch(name):
                yield from yamlnodes.image_value(value(options, "image"))


def _plugins(plugins: yaml.Node | None) -> Iterator[tuple[str, yaml.Node]]:
    """(name, options) of each plugin, listed (`- docker#v5: {...}`) or mapped (`docker#v5: {...}`)."""
    if isinstance(plugins, yaml.SequenceNode):
        for entry in plugins.value:
            yield from yamlnodes.items(entry)
    else:
        yield from yamlnodes.items(plugins)
