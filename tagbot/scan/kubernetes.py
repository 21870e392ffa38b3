"""Kubernetes manifests: any `*.yaml`/`*.yml` no other kind claims, whose documents have
`apiVersion` and `kind`.

Images: every `containers`, `initContainers` and `ephemeralContainers` entry wherever a document
nests a pod spec (Deployment, CronJob's job template, a custom resource's), and image volumes
(`volumes[].image.reference`). A Helm chart's templates are not YAML until rendered; lines that
are all template are read as comments, and a template that still does not parse is read line by line
for literal `image:` values. Values built from `{{ }}` or `$VAR` are skipped as variables.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import yaml

from tagbot.errors import ScanError
from tagbot.scan import yamlnodes
from tagbot.scan.model import Found, Piece, image_found, no_platforms, skipped
from tagbot.scan.yamlnodes import TEMPLATE, value

KIND = "kubernetes"

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_SUFFIXES = (".yaml", ".yml")
_MANIFEST = re.compile(r"^\ufeff?apiVersion:", re.MULTILINE)
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
    if "apiVersion" not in text or "kind" not in text:
        return []
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
        if yamlnodes.scalar(value(document, "apiVersion")) is None or yamlnodes.scalar(value(document, "kind")) is None:
            continue
        for node in _image_nodes(document):
            if node.start_mark.index not in found:
                found[node.start_mark.index] = yamlnodes.scalar_found(parsed, node)
    return sorted(found.values(), key=lambda f: f.anchor)


def _image_nodes(document: yaml.Node) -> Iterator[yaml.ScalarNode]:
    for node in yamlnodes.walk(document):
        for key, listed in yamlnodes.items(node):
            if key in _CONTAINER_LISTS:
                images = (value(entry, "image") for entry in _entries(listed))
            elif key == "volumes":
                images = (value(value(entry, "image"), "reference") for entry in _entries(listed))
            else:
                continue
            yield from (image for image in images if isinstance(image, yaml.ScalarNode) and image.value)


def _entries(node: yaml.Node) -> list[yaml.Node]:
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
