"""Kubernetes manifests: any `*.yaml`/`*.yml` no other kind claims, whose documents have
`apiVersion` and `kind`.

Images:
- every `containers`, `initContainers` and `ephemeralContainers` entry wherever a document nests
  a pod spec (Deployment, CronJob's job template, a custom resource's), and image volumes
  (`volumes[].image.reference`); a one-word image with no tag there (`image: adservice`) is a
  placeholder a build or kustomize fills in, skipped as such;
- every other key ending in `image` (any case: `image`, `sidecarImage`), anywhere, whose value
  is a reference with a tag or digest: custom resources take images in fields of their own
  (a KatibConfig's `runtime.suggestions[].image`, a SparkApplication's `spec.image`, Tekton
  steps, Argo templates, operators' `spec.image`);
- the known fields that hold an image under another name (`KNOWN_FIELDS`: Crossplane's
  `spec.package`);
- a JSON patch's `value` whose `path` ends in `/image`, and images in a `value` that is a whole
  container (kustomize's patchesJson6902, inline or a file of its own);
- the same, inside a literal block scalar whose text is YAML (a ConfigMap's `config.yaml: |`,
  Argo CD's inline `values: |`, a kustomize `patch: |`), placed at the file's own offsets.

A Helm chart's templates are not YAML until rendered; lines that are all template are read as
comments, and a template that still does not parse is read line by line for literal `image:`
values. Values built from `{{ }}` or `$VAR` are skipped as variables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

import yaml

from tagbot.errors import ScanError
from tagbot.scan import yamlnodes
from tagbot.scan.model import Found, Piece, image_found, no_platforms, skipped
from tagbot.scan.yamlnodes import TEMPLATE, value

KIND = "kubernetes"

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_SUFFIXES = (".yaml", ".yml")
_MANIFEST = re.compile(r"^\ufeff?apiVersion:", re.MULTILINE)
_JSON_PATCH = re.compile(r"^\ufeff?-[ \t]+op:", re.MULTILINE)
# `image: repo:tag`, `- image: "repo:tag"  # note`, as a template line has it.
_IMAGE_LINE = re.compile(
    r"""^[ \t]*(?:-[ \t]+)?image:[ \t]*(?:"(?P<double>[^"\n]*)"|'(?P<single>[^'\n]*)'|(?P<plain>[^\s#"'][^\n#]*?))"""
    r"""[ \t]*(?:\#[^\n]*)?\r?$""",
    re.MULTILINE,
)


def matches(path: str) -> bool:
    return path.endswith(_SUFFIXES)


# A node selector says where pods run, not what the repository builds.
declared_platforms = no_platforms


def extract(text: str) -> list[Found]:
    # Most YAML files in a repository are not manifests: a substring test spares parsing them.
    manifest = "apiVersion" in text and "kind" in text
    if not manifest:
        return _json_patch_file(text) if _JSON_PATCH.search(text) else []
    try:
        parsed = yamlnodes.parse(text, templates=True)
    except ScanError:
        if TEMPLATE in text:
            return _template_lines(text) if _MANIFEST.search(text) else []
        if _MANIFEST.search(text):
            raise
        return []  # some other tool's YAML that mentions apiVersion: not ours to judge
    found: dict[int, Found] = {}
    for document in parsed.documents:
        api_version = yamlnodes.scalar(value(document, "apiVersion"))
        if api_version is None or yamlnodes.scalar(value(document, "kind")) is None:
            continue
        if api_version.startswith("skaffold/"):
            found.update((f.anchor, f) for f in _skaffold_builds(parsed, document))
        package = _known_field(api_version, document)
        if package is not None:
            found.update((f.anchor, f) for f in _versioned(yamlnodes.scalar_found(parsed, package)))
        for reference in images_in(parsed, document):
            found.setdefault(reference.anchor, reference)
    return sorted(found.values(), key=lambda f: f.anchor)


# Fields that hold an image though their name does not say so, by apiVersion group: a short
# list, grown as operators are met. Crossplane's Provider, Function and Configuration packages.
KNOWN_FIELDS = {"pkg.crossplane.io": ("spec", "package")}


def _known_field(api_version: str, document: yaml.Node) -> yaml.ScalarNode | None:
    path = KNOWN_FIELDS.get(api_version.split("/", 1)[0])
    node: yaml.Node | None = document
    for key in path or ():
        node = value(node, key)
    return node if path and isinstance(node, yaml.ScalarNode) and node.value else None


def _skaffold_builds(parsed: yamlnodes.Parsed, document: yaml.Node) -> Iterator[Found]:
    """skaffold's `build.artifacts[].image` names what it builds, not an image to pull."""
    artifacts = value(value(document, "build"), "artifacts")
    for artifact in _entries(artifacts):
        image = value(artifact, "image")
        if isinstance(image, yaml.ScalarNode) and image.value:
            pieces = yamlnodes.written(parsed, image)
            if isinstance(pieces, tuple):
                yield skipped(pieces, "build", "what skaffold builds (build.artifacts), not an image to pull")


def _json_patch_file(text: str) -> list[Found]:
    """A kustomize JSON patch file (`- op: replace` / `path:` / `value:`), which names no
    apiVersion: the images its values set."""
    try:
        parsed = yamlnodes.parse(text)
    except ScanError:
        return []  # not YAML: not a patch of ours either
    found: dict[int, Found] = {}
    for document in parsed.documents:
        operations = document.value if isinstance(document, yaml.SequenceNode) else []
        if operations and all(value(op, "op") is not None and value(op, "path") is not None for op in operations):
            for reference in images_in(parsed, document, embedded=False):
                found.setdefault(reference.anchor, reference)
    return sorted(found.values(), key=lambda f: f.anchor)


def images_in(parsed: yamlnodes.Parsed, document: yaml.Node, *, embedded: bool = True) -> Iterator[Found]:
    """Every image a manifest (or any YAML an operator reads) names, once each, as the module
    says; with `embedded`, those in its literal blocks of YAML too (one level deep)."""
    seen: set[int] = set()
    for reference in _all_images(parsed, document, embedded):
        if reference.anchor not in seen:  # a container's image is a key named image too
            seen.add(reference.anchor)
            yield reference


def _all_images(parsed: yamlnodes.Parsed, document: yaml.Node, embedded: bool) -> Iterator[Found]:
    taken: set[int] = set()  # image nodes read as a container's: not read again as a key named image
    for node in yamlnodes.walk(document):
        if isinstance(node, yaml.MappingNode):
            yield from _mapping_images(parsed, node, taken)
        elif embedded and isinstance(node, yaml.ScalarNode) and node.style == "|":
            yield from _block_images(parsed, node)


def _block_images(parsed: yamlnodes.Parsed, node: yaml.ScalarNode) -> Iterator[Found]:
    """The images in a literal block of YAML, at the file's own offsets."""
    block = yamlnodes.embedded(parsed, node)
    if block is None:
        return
    for inner in block.parsed.documents:
        yield from (block.found(reference) for reference in images_in(block.parsed, inner, embedded=False))


def _mapping_images(parsed: yamlnodes.Parsed, node: yaml.MappingNode, taken: set[int]) -> Iterator[Found]:
    for key, held in yamlnodes.items(node):
        if key in _CONTAINER_LISTS:
            images = [value(entry, "image") for entry in _entries(held)]
            for image in images:
                if isinstance(image, yaml.ScalarNode) and image.value:
                    taken.add(id(image))
                    yield _container_image(parsed, image)
        elif key == "volumes":
            images = [value(value(entry, "image"), "reference") for entry in _entries(held)]
            yield from (yamlnodes.scalar_found(parsed, image) for image in images
                        if isinstance(image, yaml.ScalarNode) and image.value)
        elif key[-5:].lower() == "image" and isinstance(held, yaml.ScalarNode) and id(held) not in taken:
            yield from _other_image(parsed, node, held)
    patched = _json_patch_image(node)
    if patched is not None:
        yield from _versioned(yamlnodes.scalar_found(parsed, patched))


def _container_image(parsed: yamlnodes.Parsed, node: yaml.ScalarNode) -> Found:
    reference = yamlnodes.scalar_found(parsed, node)
    image = reference.image
    if image is not None and image.tag is None and image.digest is None and "/" not in reference.text:
        return replace(reference, image=None, skip_reason="placeholder",
                       detail="one word and no tag: a name a build or kustomize fills in, not an image to look up")
    return reference


def _other_image(parsed: yamlnodes.Parsed, mapping: yaml.MappingNode, held: yaml.ScalarNode) -> Iterator[Found]:
    """A key named image outside a pod spec: a reference when it has a tag or digest; a name
    whose registry and tag sit beside it (Istio's `hub:`, `tag:`, `image: proxyv2`) is skipped
    as composed; anything else is some other setting, passed over."""
    composed = yamlnodes.beside_hub(parsed, mapping, held)
    if composed is not None:
        yield composed
    else:
        yield from _versioned(yamlnodes.scalar_found(parsed, held))


def _versioned(reference: Found) -> Iterator[Found]:
    """A reference outside a pod spec counts when it has a tag or digest: `image: true` or
    `image: emailservice` (what skaffold builds) is some other setting."""
    if reference.image is not None and (reference.image.tag or reference.image.digest):
        yield reference


def _json_patch_image(node: yaml.Node) -> yaml.ScalarNode | None:
    """`{op: replace, path: /spec/template/spec/containers/0/image, value: nginx:1.25}`'s value."""
    if value(node, "op") is None:  # most mappings: one look
        return None
    patched = value(node, "value")
    if not isinstance(patched, yaml.ScalarNode):
        return None
    return patched if (yamlnodes.scalar(value(node, "path")) or "").endswith("/image") else None


def _entries(node: yaml.Node | None) -> list[yaml.Node]:
    return node.value if isinstance(node, yaml.SequenceNode) else []


def _template_lines(text: str) -> list[Found]:
    """Each literal `image:` line of a template that is not YAML as it stands."""
    found = []
    for match in _IMAGE_LINE.finditer(text):
        group = next(g for g in ("double", "single", "plain") if match.group(g) is not None)
        written = (Piece(match.start(group), match.group(group)),)
        if not written[0].text:
            continue
        if TEMPLATE in written[0].text or "$" in written[0].text:
            found.append(skipped(written, "variable", "a template expression sets it"))
        else:
            found.append(image_found(written, written))
    return found
