"""Helm chart values (`values.yaml`, `values-prod.yaml`, `values.prod.yaml`).

A key whose name ends in `image` (any case: `image`, `sidecarImage`) names an image in one of
three ways (and a map of `registry`, `repository` and `tag` does under any key):
- a map of `repository` and `tag` (or `version`), with `registry` and `digest` optional, as
  charts made by `helm create` and Bitnami's have it: `registry/repository:tag@digest`;
- a map of `registry`, `image`, `tag` and `digest`, as ingress-nginx has it;
- a string, `image: nginx:1.27`.
An update rewrites the `tag` value (and the `digest` value when there is one) and nothing else.
An empty `tag` means the chart's appVersion: skipped with that reason. A pin goes into an empty
quoted `digest: ""`; without one there is no place for it. A string that is not a
reference with a tag or digest (`enableImage: true`) is another setting, not a reference.
A map without `registry` whose repository the chart's templates write after
`global.imageRegistry` is skipped (`scan` hands the chart's templates in). A literal block whose text is YAML (`katibConfig: |`) is read as a
manifest is (`kubernetes.images_in`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

import yaml

from tagbot.scan import yamlnodes
from tagbot.scan.kubernetes import images_in
from tagbot.scan.model import Found, Pieces, composed_found, file_named, no_platforms, skipped
from tagbot.scan.yamlnodes import Parsed, value

KIND = "helm"

matches = file_named(r"values([.-][^/]+)?\.ya?ml")
declared_platforms = no_platforms


def extract(text: str, *, templates: Sequence[str] = ()) -> list[Found]:
    """The values' images; `templates` are the chart's templates' texts, when known, which say
    whose repository the chart writes `global.imageRegistry` before."""
    parsed = yamlnodes.parse(text, templates=True)
    found: dict[int, Found] = {}  # by the offset of the node that holds the tag: anchors count once
    used: set[int] = set()  # the nodes of a map already read as one reference
    for document in parsed.documents:
        prefixed = _prefixed_maps(document, templates)
        for node in yamlnodes.walk(document):
            for key, held in yamlnodes.items(node):
                if id(held) in used or not (key.lower().endswith("image") or _is_registry_image(held)):
                    continue
                if isinstance(held, yaml.ScalarNode) and (composed := yamlnodes.beside_hub(parsed, node, held)) is not None:
                    found.setdefault(held.start_mark.index, composed)
                    continue
                for anchor, reference in _references(parsed, held, used, prefixed.get(id(held))):
                    found.setdefault(anchor, reference)
            # YAML in a literal block (`katibConfig: |`, an Istio operator's `values: |`).
            if (block := yamlnodes.embedded(parsed, node)) is not None:
                for inner in block.parsed.documents:
                    for reference in images_in(block.parsed, inner, embedded=False):
                        moved = block.found(reference)
                        found.setdefault(moved.anchor, moved)
    return sorted(found.values(), key=lambda f: f.anchor)


def _prefixed_maps(document: yaml.Node, templates: Sequence[str]) -> dict[int, str]:
    """{id of an image map: the registry} for the maps whose repository a template of the chart
    writes after `global.imageRegistry` (`{{ .Values.global.imageRegistry }}/{{
    .Values.ui.image.repository }}`): such a map names no image by itself. Without the
    templates, or where they do not say so, a map is the image it spells."""
    registry = yamlnodes.scalar(value(value(document, "global"), "imageRegistry"))
    lines = [line for text in templates for line in text.splitlines() if "global.imageRegistry" in line]
    if not registry or not lines:
        return {}
    prefixed = {}
    for node, path in _map_paths(document):
        if any(f".{path}.repository" in line for line in lines):
            prefixed[id(node)] = registry
    return prefixed


def _map_paths(document: yaml.Node) -> Iterator[tuple[yaml.MappingNode, str]]:
    """Each mapping below the top with its dotted key path (`ui.image`), each node once."""
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, str]] = [(document, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen or not isinstance(node, yaml.MappingNode):
            continue
        seen.add(id(node))
        if path:
            yield node, path
        stack.extend((held, f"{path}.{key}" if path else key) for key, held in yamlnodes.items(node))


def _is_registry_image(node: yaml.Node) -> bool:
    """A map of `registry`, `repository` and `tag` under any key (Bitnami's `git:`, `volumePermissions:`)."""
    return isinstance(node, yaml.MappingNode) and all(value(node, key) is not None for key in ("registry", "repository", "tag"))


def _references(parsed: Parsed, held: yaml.Node, used: set[int],
                global_registry: str | None = None) -> Iterator[tuple[int, Found]]:
    if isinstance(held, yaml.ScalarNode):
        reference = yamlnodes.scalar_found(parsed, held)
        if reference.skip_reason == "variable" or (
            reference.image is not None and (reference.image.tag or reference.image.digest)
        ):
            yield held.start_mark.index, reference
        return
    if not isinstance(held, yaml.MappingNode):
        return
    name = value(held, "repository") or value(held, "image")
    if not isinstance(name, yaml.ScalarNode) or not name.value:
        return
    parts = {key: value(held, key) for key in ("registry", "tag", "version", "digest")}
    tag = parts["tag"] if parts["tag"] is not None else parts["version"]
    used.update(id(node) for node in (name, *parts.values()) if node is not None)
    reference = _composed(parsed, parts["registry"], name, tag, parts["digest"])
    if global_registry and parts["registry"] is None and reference.image is not None:
        reference = skipped(reference.pieces, "variable",
                            f"the chart writes global.imageRegistry ({global_registry}) before {name.value}")
    yield (tag or name).start_mark.index, reference


def _composed(parsed: Parsed, registry: yaml.Node | None, name: yaml.ScalarNode,
              tag: yaml.Node | None, digest: yaml.Node | None) -> Found:
    """`registry/repository:tag@digest` from the map's values, each piece where it is written."""
    name_pieces = yamlnodes.written(parsed, name)
    if isinstance(name_pieces, Found):
        return name_pieces
    if not isinstance(tag, yaml.ScalarNode) or not tag.value or tag.value in ("~", "null", "Null", "NULL"):
        return skipped(name_pieces, "default", "no tag: the chart's appVersion decides")
    parts: list[Pieces | Found | str] = [name_pieces, ":", yamlnodes.written(parsed, tag)]
    if isinstance(registry, yaml.ScalarNode) and registry.value:
        parts[:0] = [yamlnodes.written(parsed, registry), "/"]
    if isinstance(digest, yaml.ScalarNode) and digest.value:
        parts += ["@", yamlnodes.written(parsed, digest)]
    unwritten = next((part for part in parts if isinstance(part, Found)), None)
    if unwritten is not None:
        return unwritten
    found = composed_found([part for part in parts if not isinstance(part, Found)])
    return replace(found, digest_slot=_empty_quoted(parsed, digest)) if found.image is not None else found


def _empty_quoted(parsed: Parsed, node: yaml.Node | None) -> int | None:
    """Where a digest goes in `digest: ""` (Bitnami's empty slot): between the quotes. An empty
    plain value takes none: `digest:sha256:...` would be another key."""
    if not isinstance(node, yaml.ScalarNode) or node.value or node.style not in ("'", '"'):
        return None
    pieces = yamlnodes.written(parsed, node)
    return pieces[0].start if isinstance(pieces, tuple) else None
