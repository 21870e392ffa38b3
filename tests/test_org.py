"""A whole organisation on the fake GitHub: 30 repositories (bare remotes) naming 10 images among
them. `tagbot org plan` makes the matrix, `tagbot org lookup` asks the tags API once per unique
image, and each matrix job's `tagbot pr --offline` opens the very pull requests `tagbot pr`
opens in that repository alone, without another call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml

from tagbot.cli import main
from tests.fakeapi import FakeTagsAPI
from tests.fakegithub import FakeGitHub, FakeOrganisation, serving_organisation
from tests.gitworld import git

IMAGES = ["nginx:1.31.3-alpine", "postgres:16.4-bookworm", "redis:7.2.5-alpine", "alpine:3.20", "python:3.11.16-slim-bookworm",
          "golang:1.25.14-bookworm", "node:22.23.2-alpine", "prom/prometheus:v2.54.1", "acme/tiny:1.1.0", "ubuntu:22.04"]
REPOSITORIES = 30
CONFIG = "links: false  # Docker Hub's registry is not on this machine\nrate_limit: 200\n"


def files_of(i: int) -> dict[str, str]:
    first, second, third = IMAGES[i % 10], IMAGES[(i + 3) % 10], IMAGES[(i + 7) % 10]
    return {
        "Dockerfile": f"FROM {first} AS build\nFROM {second}\nCOPY --from=build /out /out\n",
        "deploy/compose.yaml": f"services:\n  side:\n    image: {third}\n",
        "tagbot.yaml": CONFIG,
    }


def organisation(root: Path, count: int = REPOSITORIES) -> FakeOrganisation:
    """`count` repositories, and an archived one and a fork, which plans leave out."""
    org = FakeOrganisation("acme")
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count + 2):
        remote, seed = root / f"svc{i}.git", root / f"seed{i}"
        git(root, "init", "-q", "--bare", str(remote))
        git(root, "init", "-q", str(seed))
        for name, text in files_of(i).items():
            (seed / name).parent.mkdir(parents=True, exist_ok=True)
            (seed / name).write_text(text)
        git(seed, "add", ".")
        git(seed, "commit", "-qm", "Initial")
        git(seed, "push", "-q", str(remote), "HEAD:main")
        org.add(FakeGitHub(remote, repository=f"acme/svc{i}", archived=i == count, fork=i == count + 1))
    return org


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("OANOR_API_KEY", tags_api.key)
    monkeypatch.setenv("TAGBOT_API_URL", tags_api.url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "no-cache-here"))
    monkeypatch.setattr("tagbot.pr.github.SECONDS_BETWEEN_WRITES", 0.0)
    monkeypatch.setattr("tagbot.pr.github.SECONDS_BETWEEN_REQUESTS", 0.0)
    yield


def pull_requests(org: FakeOrganisation) -> dict[str, set[tuple[str, str]]]:
    return {name: {(p["head"], p["title"]) for p in fake.open_pulls()} for name, fake in org.repositories.items()}


def run_pr(org: FakeOrganisation, root: Path, name: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    checkout = root / "checkouts" / name
    git(root, "clone", "-q", str(org.repositories[name].remote), str(checkout))
    monkeypatch.chdir(checkout)
    return main(["pr", "--repository", name, *args])


def test_one_lookup_per_unique_image_and_the_pull_requests_of_each_repository_alone(
        env: None, tags_api: FakeTagsAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]):
    with ExitStack() as stack:
        together = stack.enter_context(serving_organisation(organisation(tmp_path / "together")))
        monkeypatch.setenv("GITHUB_TOKEN", together.token)
        monkeypatch.setenv("GITHUB_API_URL", together.url)
        output = tmp_path / "github-output"
        monkeypatch.setenv("GITHUB_OUTPUT", str(output))
        monkeypatch.chdir(tmp_path)

        assert main(["org", "plan", "--owner", "acme", "--per-job", "4"]) == 0
        planned = json.loads(capsys.readouterr().out)
        names = [name for entry in planned["include"] for name in entry["repository"].split()]
        assert names == sorted(f"acme/svc{i}" for i in range(REPOSITORIES))  # no archived, no fork
        assert len(planned["include"]) == 8  # 4 a job
        assert output.read_text() == f"matrix={json.dumps(planned, separators=(',', ':'))}\n"

        cache = tmp_path / "org-cache"
        (tmp_path / "tagbot.yaml").write_text("rate_limit: 200\n")  # the organisation's run
        assert main(["org", "lookup", "--owner", "acme", "--cache-dir", str(cache)]) == 0
        assert "30 repositories, 10 unique images" in capsys.readouterr().err
        tag_calls = [r for r in tags_api.requests if r.startswith("/v1/tags")]
        assert len(tag_calls) == 10 and len(set(tag_calls)) == 10  # one call per unique image

        for name in names:  # each matrix job, from the restored cache only
            assert run_pr(together, tmp_path / "together", name, monkeypatch, "--offline", "--cache-dir", str(cache)) == 0
        assert len([r for r in tags_api.requests if r.startswith("/v1/tags")]) == 10  # nothing asked twice
        # In the last job's checkout, `update --dry-run --offline` decides as the job did.
        capsys.readouterr()
        assert main(["update", "--dry-run", "--offline", "--format", "json", "--cache-dir", str(cache)]) == 0
        planned_tags = {u["to"]["tag"] for u in json.loads(capsys.readouterr().out)["updates"]}
        titles = {p["title"] for p in together.repositories[names[-1]].open_pulls()}
        assert planned_tags and all(any(title.endswith(f" to {tag}") for title in titles) for tag in planned_tags)

        alone = stack.enter_context(serving_organisation(organisation(tmp_path / "alone")))
        monkeypatch.setenv("GITHUB_API_URL", alone.url)
        for name in names:  # each repository on its own, online, with a cache of its own
            assert run_pr(alone, tmp_path / "alone", name, monkeypatch, "--cache-dir", str(tmp_path / "c" / name)) == 0
        opened = pull_requests(together)
        assert {name: opened[name] for name in names} == {name: pull_requests(alone)[name] for name in names}
        assert sum(len(prs) for prs in opened.values()) >= 3 * REPOSITORIES
        assert len([r for r in tags_api.requests if r.startswith("/v1/tags")]) == 10 + 3 * REPOSITORIES


def test_a_summary_for_the_whole_run(env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]):
    org = organisation(tmp_path, count=2)
    with serving_organisation(org):
        monkeypatch.setenv("GITHUB_TOKEN", org.token)
        monkeypatch.setenv("GITHUB_API_URL", org.url)
        results = []
        for name in ("acme/svc0", "acme/svc1"):
            results.append(tmp_path / f"{name.replace('/', '-')}.json")
            assert run_pr(org, tmp_path, name, monkeypatch, "--result", str(results[-1])) == 0
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    capsys.readouterr()
    assert main(["org", "summary", *map(str, results)]) == 0
    table = summary.read_text()
    assert table == capsys.readouterr().out
    opened = {name: len(org.repositories[name].open_pulls()) for name in ("acme/svc0", "acme/svc1")}
    assert f"| acme/svc0 | {opened['acme/svc0']} | 0 | 0 | 0 |" in table
    assert f"| acme/svc1 | {opened['acme/svc1']} | 0 | 0 | 0 |" in table


def test_topics_globs_and_the_configs_list_choose_repositories(env: None, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]):
    org = organisation(tmp_path, count=4)
    org.repositories["acme/svc1"].topics = ("docker",)
    org.repositories["acme/svc2"].topics = ("docker", "legacy")
    with serving_organisation(org):
        monkeypatch.setenv("GITHUB_TOKEN", org.token)
        monkeypatch.setenv("GITHUB_API_URL", org.url)
        monkeypatch.chdir(tmp_path)

        def planned(*args: str) -> list[str]:
            assert main(["org", "plan", "--owner", "acme", *args]) == 0
            return [e["repository"] for e in json.loads(capsys.readouterr().out)["include"]]

        assert planned("--topic", "docker") == ["acme/svc1", "acme/svc2"]
        assert planned("--include", "svc[0-2]", "--exclude", "acme/svc1") == ["acme/svc0", "acme/svc2"]
        assert planned("--archived", "--forks") == [f"acme/svc{i}" for i in range(6)]
        (tmp_path / "org.yaml").write_text("repositories: [svc3, acme/svc0]\n")
        assert planned("--config", "org.yaml") == ["acme/svc0", "acme/svc3"]
        monkeypatch.setenv("GITHUB_TOKEN", "wrong")
        assert main(["org", "plan", "--owner", "acme"]) == 2
        assert capsys.readouterr().err == "tagbot: error: GitHub API: 401 Bad credentials\n"


WORKFLOW = yaml.safe_load((Path(__file__).parent.parent / ".github" / "workflows" / "org.yml").read_text())
JOB_SCRIPT = Path(__file__).parent.parent / ".github" / "org-job.sh"


def test_the_reusable_workflow_plans_looks_up_and_runs_a_matrix():
    call = WORKFLOW[True]["workflow_call"]  # `on:` reads as True in YAML 1.1
    assert set(call["inputs"]) == {"owner", "topic", "per-job", "max-parallel", "default-config"}
    assert set(call["secrets"]) == {"api-key", "app-id", "app-private-key"}
    plan, pr, summary = (WORKFLOW["jobs"][name] for name in ("plan", "pr", "summary"))
    runs = " ".join(step.get("run", "") for step in plan["steps"])
    assert "org plan" in runs and "org lookup" in runs and "--cache-dir" in runs
    assert plan["outputs"]["matrix"] == "${{ steps.plan.outputs.matrix }}"
    assert pr["needs"] == "plan"
    assert pr["strategy"] == {"fail-fast": False, "max-parallel": "${{ inputs.max-parallel }}",
                              "matrix": "${{ fromJSON(needs.plan.outputs.matrix) }}"}
    assert any(step.get("uses", "").startswith("actions/download-artifact@") for step in pr["steps"])
    assert any("org-job.sh" in step.get("run", "") for step in pr["steps"])
    assert summary["needs"] == "pr" and summary["if"] == "always()"
    assert "org summary" in summary["steps"][-1]["run"]
    for job in (plan, pr):  # every job acts with the App's token, scoped to the owner
        token = next(step for step in job["steps"] if step.get("id") == "token")
        assert token["uses"].startswith("actions/create-github-app-token@") and token["with"]["owner"] == "${{ inputs.owner }}"


def test_a_matrix_jobs_script_goes_on_past_a_repository_it_cannot_clone(
        env: None, tags_api: FakeTagsAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    org = organisation(tmp_path / "remotes", count=2)
    server = tmp_path / "server" / "acme"
    server.mkdir(parents=True)
    for i in range(2):
        (server / f"svc{i}.git").symlink_to(tmp_path / "remotes" / f"svc{i}.git")
    with serving_organisation(org):
        monkeypatch.setenv("GITHUB_TOKEN", org.token)
        monkeypatch.setenv("GITHUB_API_URL", org.url)
        monkeypatch.chdir(tmp_path)
        (tmp_path / "tagbot.yaml").write_text("rate_limit: 200\n")
        assert main(["org", "lookup", "--owner", "acme", "--cache-dir", str(tmp_path / "cache")]) == 0
        calls = len(tags_api.requests)
        job = tmp_path / "job"
        job.mkdir()
        entry_point = Path(sys.executable).parent / "tagbot"  # this venv's, activated or not
        assert entry_point.is_file()
        env_vars = {**os.environ, "REPOSITORIES": "acme/svc0 acme/missing acme/svc1", "GITHUB_SERVER_URL": f"file://{tmp_path / 'server'}",
                    "TAGBOT_CACHE_DIR": str(tmp_path / "cache"), "RUNNER_TEMP": str(tmp_path / "runner"),
                    "TAGBOT": str(entry_point)}
        result = subprocess.run(["bash", str(JOB_SCRIPT)], cwd=job, env=env_vars, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1  # acme/missing could not be cloned...
    assert "::error::acme/missing: cannot clone it with this token" in result.stdout
    assert all(org.repositories[f"acme/svc{i}"].open_pulls() for i in range(2))  # ...the others were done
    assert sorted(p.name for p in (job / "results").iterdir()) == ["acme-svc0.json", "acme-svc1.json"]
    assert len(tags_api.requests) == calls  # offline: nothing asked again
    assert org.token not in result.stdout + result.stderr


def test_an_organisations_default_config_applies_where_a_repository_has_none(
        env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    org = organisation(tmp_path / "remotes", count=2)
    defaults = tmp_path / "org-defaults.yaml"
    defaults.write_text(CONFIG + "commit_prefix: 'org:'\n")
    own = tmp_path / "remotes" / "own"
    git(tmp_path, "clone", "-q", str(org.repositories["acme/svc1"].remote), str(own))
    (own / "tagbot.yaml").write_text(CONFIG + "commit_prefix: 'own:'\n")
    git(own, "commit", "-qam", "Own config")
    git(own, "push", "-q")
    svc0 = tmp_path / "remotes" / "none"
    git(tmp_path, "clone", "-q", str(org.repositories["acme/svc0"].remote), str(svc0))
    git(svc0, "rm", "-q", "tagbot.yaml")
    git(svc0, "commit", "-qm", "No config")
    git(svc0, "push", "-q")
    with serving_organisation(org):
        monkeypatch.setenv("GITHUB_TOKEN", org.token)
        monkeypatch.setenv("GITHUB_API_URL", org.url)
        for name in ("acme/svc0", "acme/svc1"):
            assert run_pr(org, tmp_path, name, monkeypatch, "--default-config", str(defaults)) == 0
    assert {p["title"].split()[0] for p in org.repositories["acme/svc0"].open_pulls()} == {"org:"}
    assert {p["title"].split()[0] for p in org.repositories["acme/svc1"].open_pulls()} == {"own:"}


# --- issue 20: a tree that cannot be written is that repository's failure --------------------------

def tree_of(remote: Path, entries: list[tuple[str, str]]) -> str:
    """A tree object of (path, text) entries, built with git's plumbing so it may hold what no
    checkout can: a name over NAME_MAX, a path over PATH_MAX, a file and a folder of one name."""
    blobs: list[str] = []
    trees: dict[str, list[tuple[str, str]]] = {}
    for path, text in entries:
        head, slash, rest = path.partition("/")
        if slash:
            trees.setdefault(head, []).append((rest, text))
        else:
            sha = subprocess.run(["git", "-C", str(remote), "hash-object", "-w", "--stdin"], input=text,
                                 capture_output=True, text=True, check=True).stdout.strip()
            blobs.append(f"100644 blob {sha}\t{head}")
    listing = blobs + [f"040000 tree {tree_of(remote, sub)}\t{name}" for name, sub in trees.items()]
    return subprocess.run(["git", "-C", str(remote), "mktree"], input="".join(f"{line}\n" for line in listing),
                          capture_output=True, text=True, check=True).stdout.strip()


@pytest.mark.parametrize("hostile", [
    [("a" * 300 + "/Dockerfile", "FROM redis:7.2.5-alpine\n")],  # a name over NAME_MAX: ENAMETOOLONG
    [("/".join(["d" * 200] * 25) + "/Dockerfile", "FROM redis:7.2.5-alpine\n")],  # over PATH_MAX
    [("Dockerfile", "FROM redis:7.2.5-alpine\n"), ("Dockerfile/Dockerfile", "FROM redis:7.2.5-alpine\n")],
])
def test_a_tree_that_cannot_be_written_is_that_repositorys_failure(env: None, tmp_path: Path, hostile,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]):
    org = organisation(tmp_path / "org", count=2)
    bad = org.repositories["acme/svc1"]
    tree = tree_of(bad.remote, [("tagbot.yaml", CONFIG), *hostile])
    commit = git(bad.remote, "commit-tree", "-m", "hostile", tree)
    git(bad.remote, "update-ref", "refs/heads/main", commit)
    with serving_organisation(org) as served:
        monkeypatch.setenv("GITHUB_TOKEN", served.token)
        monkeypatch.setenv("GITHUB_API_URL", served.url)
        assert main(["org", "lookup", "--owner", "acme", "--cache-dir", str(tmp_path / "cache")]) == 0
    err = capsys.readouterr().err
    assert "tagbot: warning: acme/svc1: cannot write its files" in err and "Traceback" not in err
    assert "2 repositories" in err  # svc0 was read and looked up all the same
