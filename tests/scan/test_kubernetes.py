from __future__ import annotations

import pytest

from tagbot.errors import ScanError
from tagbot.scan import kind_of, kubernetes, read_file, scan_paths
from tests.helpers import FIXTURES, fixture, fixture_text, found_rows

BUSYBOX = "busybox@sha256:3fbc632167424a6d997e74f52b878d7cc478225cffac6bc977eedfe51c7f4e79"


def test_every_pod_spec_in_every_document():
    scanned = read_file(fixture("kubernetes", "workloads.yaml"), name="k8s/workloads.yaml", kind="kubernetes")
    rows = [(r.line, r.column, r.found.text, r.found.skip_reason) for r in scanned.references]
    assert rows == [
        (11, 19, "ghcr.io/acme/migrate:2.1.0", None),  # initContainers, quoted
        (14, 18, "nginx:1.31.3-alpine", None),
        (15, 35, "envoyproxy/envoy:v1.31_x", None),  # flow style; `_` in a tag
        (19, 24, "quay.io/acme/models:v3", None),  # an image volume
        (35, 33, "alpine:3.20", None),  # a CronJob's job template; the alias is the same node
        (46, 14, BUSYBOX, None),  # ephemeralContainers
        (49, 14, "$REGISTRY/app:1.0", "variable"),
        (59, 16, "python:3.12.14", None),  # an Argo template's `container:`: any image key with a tag
        (65, 18, "alpine:3.24", None),  # a custom resource nesting containers
        (72, 10, "redis:7.2.16", None),  # a ConfigMap's value named image, holding a tagged reference
    ]
    # The last document has no apiVersion or kind: not a manifest.
    assert [r.found.text for r in scanned.references].count("redis:7.2.16") == 1


def test_a_bom_and_crlf_keep_columns_and_spans():
    text = fixture_text("kubernetes", "crlf-bom.yaml")
    (found,) = kubernetes.extract(text)
    assert found_rows([found], text) == [("postgres:16.4", None)]
    scanned = read_file(fixture("kubernetes", "crlf-bom.yaml"), name="db.yaml", kind="kubernetes")
    assert [(r.line, r.column) for r in scanned.references] == [(10, 18)]


def test_helm_templates_are_read_around_template_lines_and_line_by_line():
    # Not YAML as it stands (`name: {{ ... }}`): the literal image lines are still found.
    text = fixture_text("kubernetes", "chart", "templates", "deployment.yaml")
    assert found_rows(kubernetes.extract(text), text) == [
        ("{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}", "variable"),
        ("prom/prometheus:v2.54.1", None),
        ("envoyproxy/envoy:v1.31_x", None),
    ]
    # YAML once its `{{- if }}` lines are read as blank.
    text = fixture_text("kubernetes", "chart", "templates", "job.yaml")
    assert found_rows(kubernetes.extract(text), text) == [("postgres:16.4", None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # not a manifest: no apiVersion/kind, or another tool's YAML
        ("containers:\n  - image: nginx:1\n", []),
        ("openapi: 3.0.0\nkind: spec\ncontainers: [{image: nginx:1}]\n", []),
        ("name: x\nkind: y\n- broken: [\n", []),  # not ours to judge, even broken
        ("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec:\n    containers:\n"
         "    - image: nginx:1\n", [("nginx:1", None)]),
        # wrong types are passed over, not fatal
        ("apiVersion: v1\nkind: Pod\nspec:\n  containers: nginx:1\n", []),
        ("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: [nginx]\n  - image: ''\n  - 3\n", []),
        # Not an image volume (that is `image.reference`), but a key named image holding a tag.
        ("apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n  - image: nginx:1\n", [("nginx:1", None)]),
        # escaped and block scalars are not rewritten
        ('apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: "nginx:\\x31"\n', [('"nginx:\\x31"', "unsupported")]),
        ("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:UPPER\n", [("nginx:UPPER", None)]),
        ("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: Nginx:1\n", [("Nginx:1", "invalid")]),
        # merge keys and anchors: one reference per node written
        ("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - &c {name: a, image: nginx:1}\n  - *c\n"
         "  - <<: *c\n    name: b\n", [("nginx:1", None)]),
    ],
)
def test_manifest_rules(text, expected):
    assert found_rows(kubernetes.extract(text), text) == expected


def test_a_broken_manifest_is_an_error_naming_the_line():
    with pytest.raises(ScanError) as e:
        kubernetes.extract("apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n")
    assert e.value.line == 5 and "invalid YAML" in e.value.problem


def test_a_broken_manifest_does_not_stop_the_others(tmp_path):
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: {containers: [}\n")
    (tmp_path / "good.yaml").write_text("apiVersion: v1\nkind: Pod\nspec: {containers: [{image: nginx:1.27}]}\n")
    (tmp_path / "openapi.yaml").write_text("openapi: 3.0.0\ninfo: {title: x}\n")
    result = scan_paths([tmp_path], base=tmp_path)
    assert [(r.file, r.kind, r.found.text) for r in result.references] == [("good.yaml", "kubernetes", "nginx:1.27")]
    assert [str(e).split(": invalid YAML:")[0] for e in result.errors] == ["bad.yaml:3"]
    assert result.files == 3


def test_huge_and_deep_files_are_refused_or_read_in_bounded_time():
    deep = "apiVersion: v1\nkind: Pod\nspec: " + "[" * 10_000 + "]" * 10_000 + "\n"
    with pytest.raises(ScanError, match="nest"):  # libyaml's limit, or ours before it
        kubernetes.extract(deep)
    many = "".join(f"---\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.{i}\n" for i in range(20_000))
    assert len(kubernetes.extract(many)) == 20_000


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("deploy/app.yaml", "kubernetes"),
        ("k8s/base/deployment.yml", "kubernetes"),
        ("chart/templates/deployment.yaml", "kubernetes"),
        ("chart/values.yaml", "helm"),
        ("overlays/prod/kustomization.yaml", "kustomize"),
        ("compose.yaml", "compose"),
        (".gitlab-ci.yml", "gitlab"),
        ("app.json", None),
    ],
)
def test_any_yaml_file_no_other_kind_claims(path, kind):
    assert kind_of(path) == kind


def test_fixture_folder_is_scanned_as_a_user_would(tmp_path):
    result = scan_paths([FIXTURES / "kubernetes"], base=FIXTURES)
    assert {r.kind for r in result.references} == {"kubernetes"}
    assert result.errors == ()


def test_a_template_with_a_bom_is_still_read_line_by_line():
    text = "\ufeffapiVersion: v1\r\nkind: Pod\r\nmetadata: {name: {{ .Release.Name }}}\r\nspec:\r\n  containers:\r\n" \
           "    - image: postgres:16.4 # pinned\r\n"
    assert found_rows(kubernetes.extract(text), text) == [("postgres:16.4", None)]
