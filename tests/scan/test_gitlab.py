from __future__ import annotations

import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagbot.errors import ScanError
from tagbot.scan import gitlab, kind_of, scan_paths, yamlnodes
from tests.helpers import FIXTURES, found_rows


@pytest.fixture
def project(tmp_path):
    shutil.copytree(FIXTURES / "gitlab", tmp_path / "project")
    return tmp_path / "project"


def test_images_services_variables_and_local_includes(project):
    result = scan_paths([project], base=project)
    rows = [(r.file, r.line, r.kind, r.found.text, r.found.skip_reason) for r in result.references]
    assert rows == [
        (".gitlab-ci.yml", 10, "gitlab", "python:3.12.14", None),  # the tag from the top's variables
        (".gitlab-ci.yml", 11, "gitlab", "node:22.23.2-alpine", None),  # a whole image from a variable
        (".gitlab-ci.yml", 17, "gitlab", "postgres:16.4", None),  # default: services, {name:}
        (".gitlab-ci.yml", 24, "gitlab", "redis:7.2.5-alpine", None),  # the tag lives in the hidden job's variable
        (".gitlab-ci.yml", 33, "gitlab", "alpine:3.20", None),  # after the dependency proxy's prefix
        (".gitlab-ci.yml", 38, "gitlab", "$CI_REGISTRY_IMAGE/deployer:latest", "variable"),
        (".gitlab-ci.yml", 40, "gitlab", "docker:27-dind", None),
        ("ci/jobs-e2e.yml", 2, "gitlab", "mcr.microsoft.com/playwright:v1.48.0-jammy", None),  # by a glob
        ("ci/test.yml", 3, "gitlab", "golang:1.25.14", None),
        ("ci/test.yml", 9, "gitlab", "ruby:$RUBY_VERSION", "variable"),
    ]
    assert result.errors == ()
    # ci/test.yml's `lint` names $NODE_IMAGE: the root's line 11, reported there once.
    # ci/unrelated.yml is not included: any YAML file, and no manifest.
    assert "ruby:3.3" not in {r.found.text for r in result.references}


def test_the_proxy_prefix_is_kept_and_not_looked_up(project):
    text = (project / ".gitlab-ci.yml").read_text()
    found = {f.text: f for f in gitlab.extract(text)}
    alpine = found["alpine:3.20"]
    assert alpine.image is not None and alpine.image.name == "docker.io/library/alpine"
    start = alpine.pieces[0].start
    assert text[start - len("$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/") : start] == "$CI_DEPENDENCY_PROXY_GROUP_IMAGE_PREFIX/"


def test_a_variable_of_another_file_puts_the_reference_where_its_tag_is(tmp_path):
    (tmp_path / ".gitlab-ci.yml").write_text("include: [ci/common.yml, ci/test.yml]\n")
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "common.yml").write_text("variables:\n  GO: '1.25.14'\n.go: {variables: {LINT: v2.1.0}}\n")
    (tmp_path / "ci" / "test.yml").write_text(
        "unit:\n  image: golang:$GO\nlint:\n  extends: .go\n  image: golangci/golangci-lint:$LINT-alpine\n"
        "build:\n  image: golang:$GO\n"
    )
    result = scan_paths([tmp_path], base=tmp_path)
    rows = [(r.file, r.line, r.found.text, r.found.composed) for r in result.references]
    assert rows == [
        ("ci/common.yml", 2, "golang:1.25.14", True),  # `golang:` stands in ci/test.yml, twice
        ("ci/common.yml", 3, "golangci/golangci-lint:v2.1.0-alpine", True),  # from the extended job
    ]
    text = (tmp_path / "ci" / "common.yml").read_text()
    for reference in result.references:
        written = [p for p in reference.found.pieces if p.start >= 0]
        assert [text[p.start : p.end] for p in written] == [p.text for p in written]


def test_a_tag_at_the_top_of_another_file_is_placed_there():
    """The part written in the other file stands nowhere here, however long it is."""
    files = [("root.yml", "V: 1\n"), ("a.yml", "job: {image: 'registry.example.com/a/b:$T'}\n"),
             ("b.yml", "variables: {T: '1.0'}\n")]
    found = gitlab.extract_pipeline([(name, yamlnodes.parse(text)) for name, text in files])
    (reference,) = found["b.yml"]
    assert (reference.text, reference.anchor) == ("registry.example.com/a/b:1.0", 16)


def test_extends_layers_variables_in_order():
    text = (".a: {variables: {T: '1'}}\n.b: {variables: {T: '2'}}\n"
            "job: {extends: [.a, .b], image: 'x:$T'}\n"
            "own: {extends: .a, variables: {T: '3'}, image: 'y:$T'}\n"
            "loop: {extends: loop, image: 'z:$T'}\n")
    assert found_rows(gitlab.extract(text), text) == [("x:2", None), ("y:3", None), ("z:$T", "variable")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image: 3\n", [("3", None)]),
        ("image: [ruby]\nservices: ruby\n", []),
        ("variables: {V: {value: '3.3', description: d}}\nimage: ruby:$V\n", [("ruby:3.3", None)]),
        ("variables: {A: '$B', B: '1'}\nimage: ruby:$A\n", [("ruby:$A", "variable")]),
        ("stages: [a]\nvariables: {image: x}\n", []),
        ("", []),
    ],
)
def test_gitlab_rules(text, expected):
    assert found_rows(gitlab.extract(text), text) == expected


def test_includes_never_leave_the_repository_or_loop(tmp_path):
    (tmp_path / ".gitlab-ci.yml").write_text("include: [{local: /a.yml}, '../../etc/x.yml']\n")
    (tmp_path / "a.yml").write_text("include: /.gitlab-ci.yml\njob: {image: 'ruby:3.3'}\n")
    result = scan_paths([tmp_path], base=tmp_path)
    assert [(r.file, r.found.text) for r in result.references] == [("a.yml", "ruby:3.3")]


def test_a_broken_include_is_reported_and_the_rest_scanned(tmp_path):
    (tmp_path / ".gitlab-ci.yml").write_text("include: /a.yml\nimage: ruby:3.3\n")
    (tmp_path / "a.yml").write_text("job: [\n")
    result = scan_paths([tmp_path], base=tmp_path)
    assert [r.found.text for r in result.references] == ["ruby:3.3"]
    assert [str(e).split(":")[0] for e in result.errors] == ["a.yml"]


def test_invalid_yaml_is_an_error():
    with pytest.raises(ScanError, match="invalid YAML"):
        gitlab.extract("image: [\n")


@pytest.mark.parametrize("path", [".gitlab-ci.yml", "sub/.gitlab-ci.yaml"])
def test_file_names(path):
    assert kind_of(path) == "gitlab"


def test_globs():
    assert gitlab.included("ci/*.yml", "ci/a.yml")
    assert not gitlab.included("ci/*.yml", "ci/x/a.yml")
    assert gitlab.included("ci/**/*.yml", "ci/x/y/a.yml")
    assert gitlab.included("ci/**/*.yml", "ci/a.yml")
    assert not gitlab.included("ci/a.yml", "ci/a.yaml")


# --- issue 20: bounded work on any pipeline -------------------------------------------------------

def _finishes(seconds: float, work):
    import threading

    done: list[object] = []
    thread = threading.Thread(target=lambda: done.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    return done[0]


@pytest.mark.parametrize("fan_out", [4, 6])
def test_extends_that_repeat_their_parents_resolve_in_linear_time(fan_out: int):
    # 11 jobs, each extending the next `fan_out` times: 9.4 s (4) and past 60 s (6) before memoising.
    jobs = [f"j{i}:\n  extends: [{', '.join([f'j{i + 1}'] * fan_out)}]\n  variables: {{V{i}: '{i}'}}\n" for i in range(10)]
    text = "".join(jobs) + "j10:\n  image: redis:$V0\n  variables: {V0: '7'}\n" + "use:\n  extends: j0\n  image: node:$V3\n"
    found = _finishes(5, lambda: gitlab.extract(text))
    assert sorted(found_rows(found, text)) == [("node:3", None), ("redis:7", None)]


def test_a_backtracking_glob_against_a_long_name_finishes():
    # 89 s for one file name before: a glob is matched without backtracking now.
    assert _finishes(5, lambda: gitlab.included("**x**x**x**x**x**x**x**x**x**x**x**xy.yml", "x" * 120 + ".yml")) is False
    assert gitlab.included("ci/**/*.yml", "ci/a/b/c.yml") and gitlab.included("ci/**.yml", "ci/a.yml")
    assert not gitlab.included("ci/*.yml", "ci/a/b.yml") and gitlab.included("ci/*.yml", "ci/b.yml")
    assert gitlab.included("**/jobs-*.yml", "ci/jobs-e2e.yml") and gitlab.included("**/jobs-*.yml", "jobs-a.yml")


def test_included_files_are_capped_and_the_rest_reported(tmp_path, monkeypatch):
    monkeypatch.setattr("tagbot.scan.MAX_INCLUDED", 5)
    (tmp_path / "ci").mkdir()
    for i in range(8):
        (tmp_path / "ci" / f"job{i}.yml").write_text(f"job{i}:\n  image: redis:7.{i}\n")
    (tmp_path / ".gitlab-ci.yml").write_text("include:\n  - local: ci/*.yml\n")
    result = scan_paths([tmp_path], base=tmp_path)
    assert len({r.file for r in result.references}) == 5
    assert [str(e) for e in result.errors] == [".gitlab-ci.yml: includes more than 5 files; those past them are not read"]


@st.composite
def pipelines(draw):
    names = [f"j{i}" for i in range(draw(st.integers(1, 12)))]
    lines = []
    for name in names:
        parents = draw(st.lists(st.sampled_from(names + ["missing"]), max_size=6))  # cycles, repeats, unknowns
        lines.append(f"{name}:\n  extends: [{', '.join(parents)}]\n  variables: {{{name.upper()}: '1'}}\n  image: redis:${name.upper()}\n")
    return "".join(lines)


@settings(max_examples=100, deadline=None)
@given(pipelines())
def test_any_extends_graph_resolves_in_bounded_time(text: str):
    found = _finishes(5, lambda: gitlab.extract(text))
    assert all(f.text.startswith("redis:") for f in found)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="*x/.y", max_size=40), st.text(alphabet="x/.y", max_size=150))
def test_globs_match_as_the_backtracking_reference_does(pattern: str, name: str):
    import re as regex

    if len(pattern) > 12 or pattern.count("*") > 6:  # the reference itself is exponential past this
        return
    reference = "".join(".*" if part == "**" else "[^/]*" if part == "*" else regex.escape(part)
                        for part in regex.split(r"(\*\*|\*)", pattern.replace("**/", "**")))
    assert gitlab.included(pattern, name) == bool(regex.fullmatch(reference, name)) or "*" not in pattern
