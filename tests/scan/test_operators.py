"""Kubernetes as it is written: custom resources' own image fields, YAML inside literal blocks
(placed at the file's own offsets), kustomize patches and `newName` with a tag, and the places
that name no image to look up (skaffold builds, Istio's hub/tag layout, placeholders, a chart's
global registry). Files in the shapes of Katib, KServe, Spark, Tekton, Argo, Istio and skaffold:
tests/fixtures/repos/operators."""

from __future__ import annotations

import pytest

from tagbot.scan import read_file, scan_paths, yamlnodes
from tagbot.scan import kubernetes
from tests.helpers import FIXTURES, found_rows

OPERATORS = FIXTURES / "repos" / "operators"


def rows(name: str, kind: str) -> list[tuple[int, int, str, str | None]]:
    scanned = read_file(OPERATORS / name, name=name, kind=kind)
    return [(r.line, r.column, r.found.text, r.found.skip_reason) for r in scanned.references]


@pytest.mark.parametrize(("name", "expected"), [
    # KatibConfig: runtime.metricsCollectors[].image, suggestions[].image, earlyStoppings[].image
    ("katib/katib-config.yaml", [(9, 15, "python:3.11.16", None), (12, 14, "python:3.11.16", None),
                                 (15, 15, "alpine:3.20", None)]),
    # KServe: a runtime's containers, a storage container's spec.container.image
    ("kserve/runtime.yaml", [(10, 14, "python:3.11.16", None), (19, 12, "golang:1.20", None)]),
    # SparkApplication: spec.image and a key ending in Image
    ("spark/app.yaml", [(7, 11, "alpine:3.20", None), (9, 17, "redis:7.2.5-alpine", None)]),
    # Tekton Task: steps and sidecars
    ("tekton/task.yaml", [(8, 14, "golang:1.20", None), (12, 14, "redis:7.2.5-alpine", None)]),
    # Argo Workflow: a template's container and script
    ("argo/workflow.yaml", [(10, 16, "alpine:3.20", None), (14, 16, "python:3.11.16", None)]),
    # A strategic-merge patch file: a placeholder the overlay's images: fills in is no image
    ("overlays/prod/patch-sidecar.yaml", [(10, 18, "redis:7.2.5-alpine", None), (12, 18, "adservice", "placeholder")]),
    # Crossplane packages: a known field that holds an image under another name
    ("crossplane/providers.yaml", [(6, 12, "xpkg.upbound.io/upbound/provider-aws-s3:v1.1.0", None),
                                   (13, 13, "xpkg.upbound.io/crossplane-contrib/function-patch-and-transform:v0.2.1", None)]),
    # A JSON patch file of the overlay's (no apiVersion): a whole container added, an image replaced
    ("overlays/prod/add-sidecar.yaml", [(5, 12, "nginx:1.31.3-alpine", None), (8, 11, "alpine:3.20", None)]),
    # skaffold's artifacts name what is built; Istio's `image: pilot` takes hub and tag from beside it
    # (and global.proxy.image, with no hub beside it, is some setting of the chart's: passed over)
    ("skaffold/skaffold.yaml", [(5, 14, "emailservice", "build")]),
    ("istio/operator.yaml", [(18, 14, "pilot", "composed")]),
])
def test_custom_resources_name_images_in_fields_of_their_own(name: str, expected: list):
    assert rows(name, "kubernetes") == expected


def test_yaml_inside_a_configmap_is_read_at_the_files_own_offsets_crlf_and_all():
    # config.yaml: | holds a KatibConfig; `other: |-` holds text that only looks like YAML.
    assert rows("config/katib-configmap.yaml", "kubernetes") == [(10, 19, "python:3.11.16", None),
                                                                  (13, 16, "alpine:3.20", None)]
    text = (OPERATORS / "config" / "katib-configmap.yaml").read_bytes().decode()
    assert "\r\n" in text
    assert found_rows(kubernetes.extract(text), text) == [("python:3.11.16", None), ("alpine:3.20", None)]


def test_helm_values_read_a_yaml_block_and_skip_maps_the_chart_prefixes_with_its_registry():
    scanned = scan_paths([OPERATORS / "chart"], base=OPERATORS)
    assert [(r.line, r.column, r.found.text, r.found.skip_reason) for r in scanned.references
            if r.file == "chart/values.yaml"] == [
        (7, 16, "alpine:3.20", None),  # katibConfig: |
        # The template writes global.imageRegistry before ui's repository, and not before db's.
        (12, 17, "ui:1.0", "variable"),
        (17, 10, "postgres:16.4-bookworm", None),
    ]
    # Without the chart's templates, a map is the image it spells (found on kubeflow's katib
    # chart: its mysql and postgres maps sit beside global.imageRegistry, which only other maps use).
    assert [r[2:] for r in rows("chart/values.yaml", "helm")] == [
        ("alpine:3.20", None), ("ui:1.0", None), ("postgres:16.4-bookworm", None)]


def test_scan_says_which_references_are_in_a_block_of_yaml(capsys, monkeypatch):
    from tagbot.cli import main

    monkeypatch.chdir(OPERATORS / "config")
    assert main(["scan"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert rows == [["katib-configmap.yaml:10", "kubernetes", "python", "3.11.16", "in", "a", "block", "of", "YAML"],
                    ["katib-configmap.yaml:13", "kubernetes", "alpine", "3.20", "in", "a", "block", "of", "YAML"]]


def test_istios_hub_tag_and_image_side_by_side_are_composed_in_helm_values_too():
    assert rows("istio/chart/values.yaml", "helm") == [(4, 10, "pilot", "composed"), (5, 18, "proxyv2", "composed")]


def test_kustomize_reads_newname_with_a_tag_and_inline_patches():
    assert rows("overlays/prod/kustomization.yaml", "kustomize") == [
        (7, 14, "postgres:16.4-bookworm", None),  # newName: with its tag
        (14, 16, "nginx:1.31.3-alpine", None),  # a JSON patch's value at .../image
        (25, 24, "alpine:3.20", None),  # a strategic-merge patch written inline
    ]


@pytest.mark.parametrize("text", [
    "a: |2\n    image: nginx:1\n",  # an indentation digit: lines not placed, left unread
    "a: >\n  image: nginx:1\n",  # folded: not literal text
    "a: |\n  just words\n",  # not YAML
    "a: |\n  image:\tnginx:1\n",  # a tab
    "a: |\n  [unclosed\n",  # not YAML either
])
def test_a_block_that_cannot_be_placed_exactly_is_left_unread(text: str):
    parsed = yamlnodes.parse(text)
    assert yamlnodes.embedded(parsed, yamlnodes.value(parsed.documents[0], "a")) is None


def test_a_block_whose_last_line_ends_in_a_space_is_read():
    # Found on kubeflow/manifests: one trailing space made a whole katibConfig: | unread.
    text = "katibConfig: |\n  runtime:\n    image: alpine:3.20\n  trailing: here \nnext: 1\n"
    parsed = yamlnodes.parse(text)
    block = yamlnodes.embedded(parsed, yamlnodes.value(parsed.documents[0], "katibConfig"))
    assert block is not None
    image = yamlnodes.value(yamlnodes.value(block.parsed.documents[0], "runtime"), "image")
    (piece,) = block.found(yamlnodes.scalar_found(block.parsed, image)).pieces
    assert text[piece.start:piece.end] == "alpine:3.20"


def test_a_block_too_big_is_not_read_as_yaml():
    text = "a: |\n" + "".join(f"  k{n}: image-{n}\n" for n in range(30_000))
    parsed = yamlnodes.parse(text)
    assert yamlnodes.embedded(parsed, yamlnodes.value(parsed.documents[0], "a")) is None


def test_a_block_inside_a_block_is_not_read():
    text = ("apiVersion: v1\nkind: ConfigMap\ndata:\n  outer: |\n    inner: |\n      image: nginx:1.27\n"
            "    image: redis:7.2.5\n")
    assert found_rows(kubernetes.extract(text), text) == [("redis:7.2.5", None)]
