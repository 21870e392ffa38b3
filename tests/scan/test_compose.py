from __future__ import annotations

import pytest

from tagbot.errors import ScanError
from tagbot.scan import compose, scan_file
from tagbot.scan.model import joined
from tests.helpers import fixture

DIGEST = "sha256:" + "3f" * 32


def extract_rows(text: str) -> list[tuple[str, str | None]]:
    found = compose.extract(text)
    for f in found:
        assert joined(f.pieces) == f.text
        for piece in f.pieces:
            assert text[piece.start : piece.end] == piece.text
    return [(f.text, f.skip_reason) for f in found]


def test_anchors_merges_flow_and_quoting():
    references = scan_file(fixture("compose", "anchors.compose.yaml"), name="c.yaml", kind="compose")
    rows = [(r.line, r.column, r.found.text, r.found.skip_reason, r.found.platform) for r in references]
    assert rows == [
        # Reached by web (`<<: *app`) and worker (`<<: [*app]`), written once: reported once.
        (6, 11, "ghcr.io/acme/app:1.4.2", None, None),
        # A scalar anchor: the span starts after `&db-image `.
        (10, 23, "postgres:16.4-bookworm", None, None),
        (21, 19, "redis:7.4-alpine", None, None),
        (23, 12, f"nginx:1.27.3@{DIGEST}", None, "linux/arm64"),
        (26, 12, "${TOOL_IMAGE}", "variable", None),
        (28, 41, "prom/prometheus:v2.54.1", None, None),  # the default inside `${PROM_TAG:-...}`
        (30, 21, "busybox:1.36", None, None),
        (33, 12, "acme/built:dev", "build", None),
        (35, 12, "localhost:5000/team/api", None, None),
    ]


def test_variable_default_pieces():
    text = 'services:\n  m:\n    image: "prom/prometheus:${PROM_TAG:-v2.54.1}"\n'
    (found,) = compose.extract(text)
    assert [p.text for p in found.pieces] == ["prom/prometheus:", "v2.54.1"]
    assert found.image is not None and found.image.tag == "v2.54.1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("services:\n  a:\n    image: nginx:1.27 # latest stable\n", [("nginx:1.27", None)]),
        ("services:\n  a:\n    image: 'nginx:1.27'\n", [("nginx:1.27", None)]),
        ('services:\n  a:\n    image: "nginx:1.27"\n', [("nginx:1.27", None)]),
        ("services: {a: {image: nginx:1.27}, b: {image: 'redis:7'}}\n", [("nginx:1.27", None), ("redis:7", None)]),
        ("services:\n  a:\n    image: !!str nginx:1.27\n", [("nginx:1.27", None)]),
        ("services:\n  a:\n    image: ${I:-nginx:1}\n", [("nginx:1", None)]),
        ("services:\n  a:\n    image: ${I-nginx:1}\n", [("nginx:1", None)]),
        ("services:\n  a:\n    image: nginx:${T}\n", [("nginx:${T}", "variable")]),
        ("services:\n  a:\n    image: nginx:${T:?set T}\n", [("nginx:${T:?set T}", "variable")]),
        ("services:\n  a:\n    image: $$x\n", [("$$x", "variable")]),
        ("services:\n  a:\n    image: ${I:-}\n", [("${I:-}", "variable")]),
        ('services:\n  a:\n    image: "nginx:\\x31"\n', [('"nginx:\\x31"', "unsupported")]),
        ("services:\n  a:\n    image: |\n      nginx:1\n", [("|\n      nginx:1\n", "unsupported")]),
        ("services:\n  a:\n    image: Nginx:1\n", [("Nginx:1", "invalid")]),
        ("services:\n  a:\n    build: .\n", []),
        ("services:\n  a:\n    image: [x]\n", []),
        ("x-img: &i nginx:1\nservices:\n  a: {image: *i}\n  b: {image: *i}\n", [("nginx:1", None)]),
        ("x-a: {image: a:1}\nx-b: [1]\nx-c: 3\nother: {image: o:1}\nservices: {}\n", [("a:1", None)]),
        ("x-base: &b {build: ., image: me:dev}\nservices:\n  a:\n    <<: *b\n", [("me:dev", "build")]),
        ("x-b: &b {build: .}\nservices:\n  a:\n    <<: *b\n    image: me:dev\n", [("me:dev", "build")]),
        ("---\nservices: {a: {image: a:1}}\n---\nservices: {b: {image: b:1}}\n", [("a:1", None), ("b:1", None)]),
        ("", []),
        ("just a string\n", []),
        ("services:\n", []),
        ("services:\n  a: null\n", []),
    ],
)
def test_compose_rules(text, expected):
    assert extract_rows(text) == expected


def test_bom_and_crlf():
    text = "\ufeffservices:\r\n  a:\r\n    image: \"nginx:1.27\"\r\n"
    assert extract_rows(text) == [("nginx:1.27", None)]


def test_invalid_yaml_names_the_line():
    with pytest.raises(ScanError, match="invalid YAML") as raised:
        scan_file(fixture("compose", "broken.compose.yaml"), name="broken.yaml", kind="compose")
    assert (raised.value.file, raised.value.line) == ("broken.yaml", 6)
    assert str(raised.value).startswith("broken.yaml:6: invalid YAML: ")


def test_deep_nesting_is_an_error_not_a_crash():
    # Which words say so is the YAML library's business (PyYAML 6.0.4 has a limit of its own);
    # tagbot's is a ScanError naming the line, instead of a crashed interpreter.
    with pytest.raises(ScanError) as raised:
        compose.extract("services: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert raised.value.line == 1 and raised.value.problem


@pytest.mark.parametrize(
    ("filename", "matches"),
    [
        ("compose.yaml", True),
        ("compose.yml", True),
        ("compose.override.yaml", True),
        ("docker-compose.yml", True),
        ("docker-compose.prod.yaml", True),
        ("docker-compose-dev.yml", True),
        ("compose.json", False),
        ("my-compose.yml", False),
        ("values.yaml", False),
    ],
)
def test_file_names(filename, matches):
    assert compose.matches(filename) is matches


def test_a_services_platform_is_its_own_and_declares_nothing_for_the_repository():
    text = "services:\n  a:\n    image: redis:7\n    platform: linux/arm64\n"
    found = compose.extract(text)
    assert [f.platform for f in found] == ["linux/arm64"]
    assert compose.declared_platforms(text, found) == []


def test_the_v1_layout_has_its_services_at_the_top_level():
    text = "web:\n  image: nginx:1.31.3-alpine\n  links: [db]\ndb:\n  image: postgres:16.4\napp:\n  build: .\n  image: me/app:dev\nvolumes: {data: {}}\n"
    assert extract_rows(text) == [("nginx:1.31.3-alpine", None), ("postgres:16.4", None), ("me/app:dev", "build")]


def test_template_lines_are_read_around():
    text = (
        "services:\n"
        "{% for name in workers %}\n"
        "  worker-{{ name }}:\n"
        "    image: redis:7.2.5-alpine\n"
        "{% endfor %}\n"
        "  web:\n"
        "    {{- if .Values.proxy }}\r\n"
        "    image: \"{{ .Values.image }}\"\n"
        "    {{- end }}\n"
    )
    # `worker-{{ name }}:` is a key with a template in it: YAML keeps it as text.
    assert extract_rows(text) == [("redis:7.2.5-alpine", None), ("{{ .Values.image }}", "variable")]
