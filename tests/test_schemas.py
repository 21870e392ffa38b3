"""The JSON Schemas tagbot publishes (tagbot/schemas/) against what it really prints: every field
of a real run's output is described, and nothing the schema does not know slips in."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tagbot.cli import main
from tests.fakeapi import FakeTagsAPI
from tests.helpers import fixture_repository

SCHEMAS = Path(__file__).parent.parent / "tagbot" / "schemas"


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI) -> Path:
    repo = fixture_repository("app", tmp_path, monkeypatch, tags_api.url)
    (repo / "tagbot.yaml").write_text("registries: {ghcr.io: {source: off}}\ndeep_search: false\nrate_limit: 200\n"
                                      "monthly_calls: 3700\n")
    (repo / "broken").mkdir()
    (repo / "broken" / "compose.yaml").write_text("services: [\n")
    (repo / "gone.Dockerfile").write_text("FROM acme/not-on-the-hub:1.0\n")
    return repo


def test_scan_output_matches_its_schema(repo: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["scan", "--format", "json"]) == 2
    out = json.loads(capsys.readouterr().out)
    validator("scan-output").validate(out)
    assert out["schema"] == 1 and len(out["references"]) > 10
    assert out["errors"] == [{"kind": "scan", "file": "broken/compose.yaml", "line": 2, "message": out["errors"][0]["message"]}]
    assert {r["skipped"] for r in out["references"]} == {True, False}  # both shapes of a reference are checked


def test_update_output_matches_its_schema(repo: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["update", "--dry-run", "--format", "json"]) == 2
    out = json.loads(capsys.readouterr().out)
    validator("update-output").validate(out)
    assert out["schema"] == 1 and out["updates"] and out["held_back"] and out["monthly"]["limit"] == 3700
    assert {e["kind"] for e in out["errors"]} >= {"scan", "not_found"}
    scan_error = next(e for e in out["errors"] if e["kind"] == "scan")
    assert (scan_error["file"], scan_error["line"]) == ("broken/compose.yaml", 2)


def test_the_schemas_refuse_what_tagbot_does_not_print(repo: Path, capsys: pytest.CaptureFixture[str]):
    main(["update", "--dry-run", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    checker = validator("update-output")
    for broken in ({**out, "schema": 2}, {k: v for k, v in out.items() if k != "schema"},
                   {**out, "updates": [{**out["updates"][0], "update_type": "sideways"}]},
                   {**out, "surprise": True}):
        assert not checker.is_valid(broken)
