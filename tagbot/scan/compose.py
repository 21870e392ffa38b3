"""Compose files: `services.*.image`, `image` in top-level `x-*` extension blocks, and the old
v1 layout whose services sit at the top level.

Spans come from the YAML node marks, so quoting, comments, flow style and anchors all keep
their exact place. An image reached through an alias or a merge key (`<<: *default`) is the
anchored node itself: it is reported once, where it is written. Lines that are all template
(`{{ if .Values.x }}`, `{% for %}`), as in files rendered by Ansible or Helm, are read as comments.
"""

from __future__ import annotations

import yaml

from tagbot.scan import yamlnodes
from tagbot.scan.model import Found, file_named, no_platforms, skipped
from tagbot.scan.yamlnodes import Memo, Parsed, lookup

KIND = "compose"

# compose.yaml, compose.yml, docker-compose*.yml/yaml and override files such as compose.prod.yaml
matches = file_named(r"(docker-)?compose([.-][^/]*)?\.ya?ml")
# Top-level keys that are never services in a v1 file (or are in any later one).
_NOT_SERVICES = frozenset({"version", "name", "services", "volumes", "networks", "configs", "secrets", "include"})


# None: a service's `platform:` is that reference's own, not what the repository builds for.
declared_platforms = no_platforms


def extract(text: str) -> list[Found]:
    parsed = yamlnodes.parse(text, templates=True)
    found: dict[int, Found] = {}  # by the image node's offset: an anchored image counts once
    memo: Memo = {}
    for document in parsed.documents:
        for owner in _image_owners(document):
            image = lookup(owner, "image", memo)
            if isinstance(image, yaml.ScalarNode) and image.start_mark.index not in found:
                found[image.start_mark.index] = _reference(parsed, owner, image, memo)
    return sorted(found.values(), key=lambda f: f.anchor)


def _image_owners(document: yaml.Node | None) -> list[yaml.MappingNode]:
    """Every service mapping, and every top-level `x-*` mapping. A file with no `services:`
    is the v1 layout: its top-level mappings are the services."""
    if not isinstance(document, yaml.MappingNode):
        return []
    v1 = yamlnodes.value(document, "services") is None
    owners: list[yaml.MappingNode] = []
    for key, value in yamlnodes.items(document):
        if not isinstance(value, yaml.MappingNode):
            continue
        if key == "services":
            owners.extend(v for _, v in value.value if isinstance(v, yaml.MappingNode))
        elif key.startswith("x-") or (v1 and key not in _NOT_SERVICES):
            owners.append(value)
    return owners


def _reference(parsed: Parsed, owner: yaml.MappingNode, image: yaml.ScalarNode, memo: Memo) -> Found:
    pieces = yamlnodes.written(parsed, image)
    if isinstance(pieces, Found):
        return pieces
    if lookup(owner, "build", memo) is not None:
        return skipped(pieces, "build", "the service builds this image; image names the result")
    return yamlnodes.scalar_found(parsed, image, platform=yamlnodes.scalar(lookup(owner, "platform", memo)))
