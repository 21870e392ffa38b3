"""Moved and deprecated images: a moved image with the same tag at its successor gets a pull
request of its own; without one, a warning names the successor; the config adds moves; the
tags API's /v1/image says which images are deprecated, once a week, and its words are never
repeated."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from tagbot.cli import main
from tagbot.config import parse_config
from tagbot.errors import ConfigError
from tagbot.moves import moves_from, shipped_moves
from tagbot.refs import parse_ref
from tests.fakeapi import FakeTagsAPI
from tests.gitworld import World, git, tags_file
from tests.helpers import FIXTURES, RECORDED, new_repository, on_day
from tests.test_schemas import validator

ROOT = Path(__file__).resolve().parent.parent
OPENJDK = {t["name"]: t for t in json.loads((FIXTURES / "api" / "library__openjdk.tags.json").read_text())["data"]["tags"]}
TEMURIN = {t["name"]: t for t in json.loads((FIXTURES / "api" / "library__eclipse-temurin.tags.json").read_text())["data"]["tags"]}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI) -> Path:
    on_day(monkeypatch)
    files = {
        "Dockerfile": f"FROM openjdk:17-jdk\nFROM openjdk:17-jdk-slim\nFROM openjdk:11-jre@{OPENJDK['11-jre']['digest']}\n",
        "tagbot.yaml": "rate_limit: 500\n",
    }
    return new_repository(files, tmp_path, monkeypatch, tags_api.url)


def test_a_moved_image_is_replaced_by_the_same_tag_of_its_successor(repo: Path, capsys):
    assert main(["update", "--dry-run", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    validator("update-output").validate(out)  # replacements and moves are in the published contract
    replaced = [(u["line"], u["to"], u["update_type"]) for u in out["updates"]]
    assert replaced == [
        (1, {"tag": "17-jdk", "digest": None, "image": "eclipse-temurin"}, "replace"),
        # Pinned, so pinned again: to the successor's digest of the same tag.
        (3, {"tag": "11-jre", "digest": TEMURIN["11-jre"]["digest"], "image": "eclipse-temurin"}, "replace"),
    ]
    # eclipse-temurin has no -slim: the move is named, with the successor, and nothing is proposed.
    assert [(w["line"], w["kind"], w["successor"]) for w in out["life"]] == [(2, "moved", "eclipse-temurin")]
    assert out["life"][0]["message"] == (
        "openjdk:17-jdk-slim: openjdk moved to eclipse-temurin "
        "(https://github.com/docker-library/docs/blob/master/openjdk/deprecated.md), which has no 17-jdk-slim tag")
    assert main(["update"]) == 0
    capsys.readouterr()
    assert (repo / "Dockerfile").read_text() == (
        f"FROM eclipse-temurin:17-jdk\nFROM openjdk:17-jdk-slim\nFROM eclipse-temurin:11-jre@{TEMURIN['11-jre']['digest']}\n")
    assert main(["update", "--dry-run", "--format", "json"]) == 0
    # The successor is an image like any other now: on to 25, the newest LTS.
    assert [(u["image"], u["to"]["tag"], u["update_type"]) for u in json.loads(capsys.readouterr().out)["updates"]] == [
        ("eclipse-temurin:17-jdk", "25-jdk", "major"),
        (f"eclipse-temurin:11-jre@{TEMURIN['11-jre']['digest']}", "25-jre", "major")]


def test_explain_says_where_an_image_moved(repo: Path, capsys):
    assert main(["explain", "openjdk:17-jdk"]) == 0
    assert ("moved: openjdk moved to eclipse-temurin (https://github.com/docker-library/docs/blob/master/openjdk/"
            "deprecated.md): update proposes eclipse-temurin:17-jdk where that tag has the platforms needed"
            ) in capsys.readouterr().out.splitlines()


def test_the_table_and_check_show_the_new_image(repo: Path, capsys):
    assert main(["check"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "Dockerfile:1:6: openjdk: 17-jdk -> eclipse-temurin:17-jdk" in out
    assert main(["update", "--dry-run"]) == 0
    table = capsys.readouterr().out
    assert ["Dockerfile:1", "openjdk", "17-jdk", "eclipse-temurin:17-jdk", "replace"] in [
        row.split() for row in table.splitlines()]
    assert ("Dockerfile:2:6: moved: openjdk:17-jdk-slim: openjdk moved to eclipse-temurin (https://github.com/"
            "docker-library/docs/blob/master/openjdk/deprecated.md), which has no 17-jdk-slim tag") in table.splitlines()


def test_a_move_the_config_names_comes_first_and_a_prefix_moves_every_image_under_it():
    moves = shipped_moves().with_config(parse_config(
        "replacements:\n  openjdk: amazoncorretto\n  'quay.io/old-org/*': 'ghcr.io/new-org/*'\n", name="t").run.replacements)
    assert moves.successor_of(parse_ref("openjdk:17")).written == "amazoncorretto"
    assert moves.successor_of(parse_ref("docker.io/library/openjdk:17")).written == "amazoncorretto"
    moved = moves.successor_of(parse_ref("quay.io/old-org/tools/app:1.2@sha256:" + "a" * 64))
    assert (moved.written, moved.image.text) == ("ghcr.io/new-org/tools/app", "ghcr.io/new-org/tools/app:1.2")
    moved = shipped_moves().successor_of(parse_ref("k8s.gcr.io/pause:3.9"))
    assert (moved.written, moved.move.source) == (
        "registry.k8s.io/pause", "https://kubernetes.io/blog/2023/02/06/k8s-gcr-io-freeze-announcement/")
    assert shipped_moves().successor_of(parse_ref("k8s.gcr.io")) is None
    assert shipped_moves().successor_of(parse_ref("nginx:1")) is None


@pytest.mark.parametrize(("text", "problem"), [
    ("{openjdk: 'eclipse-temurin:17'}", "eclipse-temurin:17: an image name, without a tag or digest"),
    ("{'a/*': b}", "a/*: a move of everything under a prefix (/*) goes to another prefix (/*), not to b"),
    ("{'a*b': c}", "a*b: only a trailing /* may stand for every image under a prefix"),
    ("{'Bad Name': c}", "Bad Name: "),
    ("[openjdk]", "expected a mapping of moved images to their successors"),
])
def test_a_bad_replacement_is_one_line_naming_the_setting(text: str, problem: str):
    with pytest.raises(ConfigError) as caught:
        parse_config(f"# moves\nreplacements: {text}\n", name="tagbot.yaml")
    assert str(caught.value).startswith(f"tagbot.yaml:2: replacements: {problem}")


def test_a_k8s_gcr_io_reference_is_rewritten_to_registry_k8s_io_by_its_name_alone(tmp_path: Path):
    from tagbot.model import Update
    from tagbot.rewrite import apply_edits, edits_for
    from tagbot.scan import scan_paths

    (tmp_path / "pod.yaml").write_text("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: \"k8s.gcr.io/pause:3.9\" # sandbox\n")
    (reference,) = scan_paths([tmp_path], base=tmp_path).references
    update = Update("3.9", None, "3.9", None, "replace", frozenset(), None, None, to_image="registry.k8s.io/pause")
    text = (tmp_path / "pod.yaml").read_text()
    assert apply_edits(text, edits_for(reference, update)) == text.replace("k8s.gcr.io/pause", "registry.k8s.io/pause")


# --- the shipped table ----------------------------------------------------------------------

def test_the_shipped_moves_say_where_they_come_from():
    data = json.loads((ROOT / "tagbot" / "data" / "replacements.json").read_text())
    assert data["source"] == "https://github.com/docker-library/docs" and len(data["commit"]) == 40
    assert "scripts/rebuild_replacements.py" in data["rebuild"]
    assert all(move["source"].startswith("https://") for move in data["moves"])
    assert all(url.endswith(f"/{image}/deprecated.md") for image, url in data["deprecated"].items())
    assert moves_from(data).deprecation(parse_ref("unit:1.34")) is not None


def test_the_rebuild_script_makes_the_table_from_a_clone_of_the_docs(tmp_path: Path):
    import subprocess
    import sys

    docs = tmp_path / "docs"
    for image, notice in (("oldthing", "This image is deprecated.\n"), ("nextcloud", "# IMPORTANT NOTE\n"),
                          ("nginx", None)):
        (docs / image).mkdir(parents=True)
        (docs / image / "README.md").write_text("# readme\n")
        if notice:
            (docs / image / "deprecated.md").write_text(notice)
    out = tmp_path / "replacements.json"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "rebuild_replacements.py"), str(docs),
                           "--output", str(out)], capture_output=True, text=True, check=True)
    assert "1 deprecated images" in done.stdout
    data = json.loads(out.read_text())
    # nextcloud's notice is one of the known notes on use, not a deprecation.
    assert data["deprecated"] == {"oldthing": "https://github.com/docker-library/docs/blob/master/oldthing/deprecated.md"}
    assert {m["from"] for m in data["moves"]} >= {"k8s.gcr.io/*", "openjdk"}


# --- what the tags API says -----------------------------------------------------------------

def test_an_image_the_tags_api_marks_deprecated_is_named_without_its_words(tmp_path: Path, monkeypatch, capsys):
    served = tmp_path / "served"
    served.mkdir()
    tags_file(served, "acme/old", ["1.0"])
    (served / "acme__old.image.json").write_text(json.dumps({
        "data": {"image": {"name": "old", "status": "deprecated", "namespace": "acme", "is_official": False,
                           "description": "::warning::use acme/new instead <script>@everyone</script>"}},
        "meta": {}, "status": "ok", "message": "ok", "success": True}))
    from tests.fakeapi import serving

    with serving(FakeTagsAPI(served)) as api:
        on_day(monkeypatch)
        new_repository({"Dockerfile": "FROM acme/old:1.0\n", "tagbot.yaml": "rate_limit: 500\n"}, tmp_path, monkeypatch,
                       api.url)
        assert main(["check", "--eol"]) == 1
        out = capsys.readouterr().out
        assert out == ("Dockerfile:1:6: deprecated: acme/old: deprecated (Docker Hub lists it as deprecated); "
                       "no successor is known: name one under replacements:\n")
        assert "::" not in out.replace("replacements:\n", "") and "everyone" not in out
        assert api.calls.count("/v1/image?name=acme/old") == 1
        assert main(["check", "--eol"]) == 1  # a day later: from the store
        on_day(monkeypatch, RECORDED + timedelta(days=1))
        assert main(["check", "--eol"]) == 1
        assert api.calls.count("/v1/image?name=acme/old") == 1
        on_day(monkeypatch, RECORDED + timedelta(days=8))  # a week later: asked again
        assert main(["check", "--eol"]) == 1
        assert api.calls.count("/v1/image?name=acme/old") == 2


# --- pull requests --------------------------------------------------------------------------

def test_a_replacement_is_a_pull_request_of_its_own_and_a_move_without_one_is_on_the_dashboard(
        world: World, monkeypatch, capsys):
    on_day(monkeypatch)
    for name in ("library__openjdk", "library__eclipse-temurin"):
        shutil.copy(FIXTURES / "api" / f"{name}.tags.json", world.fixtures)
    world.push_to_main("Dockerfile", "FROM acme/tiny:1.1.0\nFROM openjdk:17-jdk\nFROM openjdk:17-jdk-slim\n")
    git(world.checkout, "pull", "-q")
    assert world.pr() == 0
    pulls = {p["head"]: p for p in world.github.open_pulls()}
    assert set(pulls) == {"tagbot/acme-tiny", "tagbot/replace-openjdk"}
    pull = pulls["tagbot/replace-openjdk"]
    assert pull["title"] == "Replace openjdk:17-jdk with eclipse-temurin:17-jdk"
    assert "| `17-jdk` → `eclipse-temurin:17-jdk` | replace |" in pull["body"]
    assert "**Moved**" in pull["body"] and "openjdk moved to eclipse-temurin" in pull["body"]
    assert world.remote_file("tagbot/replace-openjdk", "Dockerfile") == (
        "FROM acme/tiny:1.1.0\nFROM eclipse-temurin:17-jdk\nFROM openjdk:17-jdk-slim")
    (dashboard,) = world.github.issues
    # Links to github.com go through its redirect, as every link tagbot writes (no backlinks).
    assert ("- `Dockerfile:3` openjdk:17-jdk-slim: openjdk moved to eclipse-temurin "
            "(https://redirect.github.com/docker-library/docs/blob/master/openjdk/deprecated.md), which has no "
            "17-jdk-slim tag") in dashboard["body"]


def test_a_successor_whose_registry_is_off_is_named_not_replaced(tmp_path: Path, monkeypatch, capsys,
                                                                tags_api: FakeTagsAPI):
    on_day(monkeypatch)
    new_repository({"pod.yaml": "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: k8s.gcr.io/pause:3.9\n",
                    "tagbot.yaml": "registries: {k8s.gcr.io: {source: off}, registry.k8s.io: {source: off}}\n"},
                   tmp_path, monkeypatch, tags_api.url)
    assert main(["check", "--eol"]) == 1
    assert capsys.readouterr().out == (
        "pod.yaml:5:14: moved: k8s.gcr.io/pause:3.9: k8s.gcr.io/pause moved to registry.k8s.io/pause "
        "(https://kubernetes.io/blog/2023/02/06/k8s-gcr-io-freeze-announcement/); its tags are not looked up "
        "(registries: in the config)\n")
