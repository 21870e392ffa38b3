from __future__ import annotations

import pytest

from tagbot.errors import ScanError
from tagbot.scan import helm, read_file
from tagbot.scan.model import NOWHERE
from tests.helpers import fixture, fixture_text, found_rows

CONTROLLER = "sha256:d5f8217feeac4887cb1ed21f27c2674e58be06bd8f5184cacea2a69abaf78dce"


def test_the_layouts_charts_use():
    scanned = read_file(fixture("helm", "values.yaml"), name="chart/values.yaml", kind="helm")
    rows = [(r.line, r.found.text, r.found.skip_reason, r.found.detail) for r in scanned.references]
    assert rows == [
        (7, "nginx", "default", "no tag: the chart's appVersion decides"),  # `tag: ""`
        (17, "docker.io/bitnami/postgresql:16.10.0-debian-12-r3", None, None),  # empty digest: none
        (24, "docker.io/prom/prometheus:v2.54.1", None, None),
        (31, f"registry.k8s.io/ingress-nginx/controller:v1.11.2@{CONTROLLER}", None, None),
        (36, "busybox:1.36.1", None, None),
        (39, "alpine:3.20", None, None),  # `version:`, read as written, not as the number 3.2
        (41, "library/redis:7.2", None, None),
        (44, "redis", "default", "no tag: the chart's appVersion decides"),  # `tag: ~`
        (51, "python:3.12.14", None, None),  # anchored, merged into worker: once
    ]


def test_an_update_touches_only_the_tag_and_digest_values():
    text = fixture_text("helm", "values.yaml")
    found = {f.text: f for f in helm.extract(text)}
    controller = found[f"registry.k8s.io/ingress-nginx/controller:v1.11.2@{CONTROLLER}"]
    image = controller.image
    assert image is not None and image.tag_span is not None and image.digest_span is not None
    tag_region = [p for p in controller.pieces if p.start != NOWHERE and p.text == "v1.11.2"]
    assert len(tag_region) == 1 and text[tag_region[0].start - 1] == '"'  # inside its quotes
    assert [p.text for p in controller.pieces if p.start == NOWHERE] == ["/", ":", "@"]
    assert found_rows(list(found.values()), text)  # every written piece stands where it says


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image: nginx\n", []),  # a string without tag or digest is some other setting
        ("image: nginx:1.27\n", [("nginx:1.27", None)]),
        ("baseImage: 'ghcr.io/acme/base:2'\n", [("ghcr.io/acme/base:2", None)]),
        ("image: Not An Image\n", []),
        ("image: '{{ .Values.global.image }}'\n", [("{{ .Values.global.image }}", "variable")]),
        ("image: {repository: '{{ .Values.repo }}', tag: 1.0}\n", [("{{ .Values.repo }}:1.0", "variable")]),
        ("image: {repository: nginx, tag: null}\n", [("nginx", "default")]),
        ("image: {repository: nginx}\n", [("nginx", "default")]),
        ("image: {repository: nginx, tag: [1]}\n", [("nginx", "default")]),
        ("image: {repository: [nginx], tag: '1'}\n", []),
        ("image: {pullPolicy: Always}\n", []),
        ("image:\n  repository: nginx\n  tag: |\n    1.27\n", [("|\n    1.27\n", "unsupported")]),
        ("IMAGE: {repository: nginx, tag: '1.27'}\n", [("nginx:1.27", None)]),
        ("list:\n- image: {repository: nginx, tag: '1.27'}\n- image: redis:7\n", [("nginx:1.27", None), ("redis:7", None)]),
        ("image: {repository: nginx, tag: 1.27, digest: 'sha256:bad'}\n", [("nginx:1.27@sha256:bad", "invalid")]),
        # a map with registry, repository and tag is an image under any key; without registry, only
        # under an image key (`repository:` and `tag:` may name a git repository)
        ("git:\n  registry: docker.io\n  repository: bitnami/git\n  tag: 2.51.0-debian-12-r0\n",
         [("docker.io/bitnami/git:2.51.0-debian-12-r0", None)]),
        ("source:\n  repository: acme/app\n  tag: v1\n", []),
        # a template line in a block scalar stays a line of the block
        ("config: |\n  {{- if .Values.x }}\n  a: 1\n  {{- end }}\nimage: nginx:1.27\n", [("nginx:1.27", None)]),
        ("", []),
    ],
)
def test_values_rules(text, expected):
    assert found_rows(helm.extract(text), text) == expected


def test_invalid_values_are_an_error_naming_the_line():
    with pytest.raises(ScanError) as e:
        helm.extract("image:\n  repository: nginx\n  tag: [\n")
    assert e.value.line == 4


@pytest.mark.parametrize("name", ["values.yaml", "values.yml", "chart/values-prod.yaml", "values.prod.yaml"])
def test_values_file_names(name):
    assert helm.matches(name)


@pytest.mark.parametrize("name", ["myvalues.yaml", "values.json", "values/app.yaml", "Values.yaml"])
def test_other_names_are_not_values_files(name):
    assert not helm.matches(name)
