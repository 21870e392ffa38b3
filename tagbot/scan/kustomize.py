"""kustomize (`kustomization.yaml`, `kustomization.yml`, `Kustomization`): the `images:` list.

Each entry's image is `newName`, or else `name`; its version is `newTag` and `digest`, which
are what an update rewrites. A `newTag` written as `tag@sha256:...` is one value holding both.
An entry that only renames (no `newTag`, no `digest`) keeps the manifests' tags: skipped,
unless its `newName` holds a tag or digest itself (`newName: awesome/postgres:11@sha256:...`).
Inline patches (`patches[].patch: |` and the like) are read as the manifests they patch.
"""

from __future__ import annotations

import yaml

from tagbot.scan import yamlnodes
from tagbot.scan.kubernetes import images_in
from tagbot.scan.model import Found, composed_found, file_named, no_platforms, skipped
from tagbot.scan.yamlnodes import value

KIND = "kustomize"

matches = file_named(r"kustomization\.ya?ml|Kustomization")
declared_platforms = no_platforms


def extract(text: str) -> list[Found]:
    parsed = yamlnodes.parse(text, templates=True)
    found = []
    for document in parsed.documents:
        images = value(document, "images")
        for entry in images.value if isinstance(images, yaml.SequenceNode) else []:
            reference = _entry(parsed, entry)
            if reference is not None:
                found.append(reference)
        found.extend(_inline_patches(parsed, document))
    return sorted(found, key=lambda f: f.anchor)


def _inline_patches(parsed: yamlnodes.Parsed, document: yaml.Node) -> list[Found]:
    """The images of inline patches (`patches[].patch: |`, `patchesJson6902`,
    `patchesStrategicMerge` entries written as text), read as the manifests they patch."""
    found: list[Found] = []
    for key in ("patches", "patchesJson6902", "patchesStrategicMerge"):
        listed = value(document, key)
        for entry in listed.value if isinstance(listed, yaml.SequenceNode) else []:
            text = value(entry, "patch") if isinstance(entry, yaml.MappingNode) else entry
            block = yamlnodes.embedded(parsed, text) if text is not None else None
            if block is None:
                continue
            for inner in block.parsed.documents:
                found.extend(block.found(reference) for reference in images_in(block.parsed, inner, embedded=False))
    return found


def _entry(parsed: yamlnodes.Parsed, entry: yaml.Node) -> Found | None:
    name = value(entry, "newName") or value(entry, "name")
    if not isinstance(name, yaml.ScalarNode) or not name.value:
        return None
    tag, digest = (node if isinstance(node := value(entry, key), yaml.ScalarNode) and node.value else None
                   for key in ("newTag", "digest"))
    parts = [yamlnodes.written(parsed, node) for node in (name, tag, digest) if node is not None]
    for part in parts:
        if isinstance(part, Found):
            return part
    name_pieces, *rest = (part for part in parts if isinstance(part, tuple))
    if tag is None and digest is None:
        whole = yamlnodes.scalar_found(parsed, name)  # `newName: awesome/postgres:11@sha256:...`
        if whole.image is not None and (whole.image.tag or whole.image.digest):
            return whole
        return skipped(name_pieces, "default", "no newTag or digest: the manifests' own tags are used")
    separators = [":"] if tag is not None else []
    separators += ["@"] if digest is not None else []
    return composed_found([name_pieces, *(item for pair in zip(separators, rest) for item in pair)])
