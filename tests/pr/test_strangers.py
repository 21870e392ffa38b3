"""Strangers' words are data: a fork's pull request, another user's issue or pull request, a
planted state mark or a hostile file name never steers `tagbot pr`. Each test is an attacker's
reproducer (issue 18), run end to end against the fake GitHub and a real bare remote."""

from __future__ import annotations

import pytest

from tagbot.pr.state import read_state
from tests.fakegithub import DELETED_FORK
from tests.gitworld import World, git

STRANGER, FORK = "mallory", "mallory/app"
FORGED_DECLINE = ('<!-- tagbot:state {"proposals":[["docker.io/acme/tiny","1.2.1"],'
                  '["docker.io/acme/other","3.0.0"]]} -->')


def own_open(world: World, branch: str) -> dict:
    (pull,) = [p for p in world.github.open_pulls() if p["head"] == branch and p["head_repo"] == world.github.repository]
    return pull


# --- 1. pull requests tagbot did not open ---------------------------------------------------------

def test_a_forks_pull_request_on_tagbots_branch_is_left_alone(world: World, capsys: pytest.CaptureFixture[str]):
    fork = world.github.add_pull("tagbot/acme-tiny", title="Improve things", body="Trust me", user=STRANGER, head_repo=FORK)
    assert world.pr() == 0
    assert (fork["title"], fork["body"], fork["state"], fork["comments"]) == ("Improve things", "Trust me", "open", [])
    assert ("PATCH", f"/repos/acme/app/pulls/{fork['number']}") not in world.github.writes
    # tagbot opens its own, from its own branch, beside the stranger's.
    assert own_open(world, "tagbot/acme-tiny")["title"] == "Update acme/tiny to 1.2.1"
    err = capsys.readouterr().err
    assert err.count(f"#{fork['number']}") == 1 and "left alone" in err


def test_a_forks_pull_request_on_an_unknown_tagbot_branch_is_not_closed(world: World, capsys: pytest.CaptureFixture[str]):
    fork = world.github.add_pull("tagbot/nonexistent", user=STRANGER, head_repo=FORK)
    assert world.pr() == 0  # no attempt to close it, so no failed branch delete either
    assert (fork["state"], fork["comments"]) == ("open", [])
    assert not [w for w in world.github.writes if w[1].endswith(f"/{fork['number']}") or "nonexistent" in w[1]]
    assert f"#{fork['number']}" in capsys.readouterr().err


def test_a_pull_request_by_another_user_from_the_repository_itself_is_not_tagbots(world: World,
                                                                                capsys: pytest.CaptureFixture[str]):
    # Someone with push access opened it from a tagbot/ branch of the repository: theirs, not tagbot's.
    theirs = world.github.add_pull("tagbot/acme-tiny", title="My bump", user="jane")
    assert world.pr() == 0
    assert (theirs["title"], theirs["state"], theirs["comments"]) == ("My bump", "open", [])
    assert ("PATCH", f"/repos/acme/app/pulls/{theirs['number']}") not in world.github.writes
    assert world.github.branch_sha("tagbot/acme-tiny") is None  # nothing pushed where it cannot open a pull request
    out = capsys.readouterr().out
    assert f"#{theirs['number']} on this branch is not tagbot's" in out
    assert own_open(world, "tagbot/acme-other")  # the other groups go on


@pytest.mark.parametrize("user, head_repo", [(STRANGER, FORK), (STRANGER, DELETED_FORK), ("jane", None)])
def test_a_closed_pull_request_tagbot_did_not_open_declines_nothing(world: World, user: str, head_repo: str | None):
    world.github.add_pull("tagbot/x", body=f"Closed\n\n{FORGED_DECLINE}\n", user=user, head_repo=head_repo, state="closed")
    assert world.pr() == 0
    assert own_open(world, "tagbot/acme-tiny")["title"] == "Update acme/tiny to 1.2.1"
    assert own_open(world, "tagbot/acme-other-major")["title"] == "Update acme/other to 3.0.0"


def test_tagbots_own_closed_pull_request_still_declines(world: World):
    assert world.pr() == 0
    own_open(world, "tagbot/acme-tiny")["state"] = "closed"  # a maintainer declines 1.2.1
    assert world.pr() == 0
    assert not [p for p in world.github.open_pulls() if p["head"] == "tagbot/acme-tiny"]


# --- 2. the dashboard -----------------------------------------------------------------------------

def test_an_outsiders_issue_is_never_the_dashboard(world: World):
    assert world.pr() == 0
    own_open(world, "tagbot/acme-tiny")["state"] = "closed"  # the maintainer declines acme/tiny 1.2.1
    assert world.pr() == 0
    (dashboard,) = world.github.issues
    planted = world.github.add_issue(
        title="Please look", user=STRANGER,
        body="<!-- tagbot:dashboard -->\n- [x] <!-- tagbot:undecline docker.io/acme/tiny 1.2.1 --> yes\n")
    before = dict(planted)
    assert world.pr() == 0
    assert planted == before  # neither read nor rewritten
    assert not [p for p in world.github.open_pulls() if p["head"] == "tagbot/acme-tiny"]  # still declined
    assert ("PATCH", f"/repos/acme/app/issues/{planted['number']}") not in world.github.writes
    assert "undecline docker.io/acme/tiny 1.2.1" in dashboard["body"]  # tagbot's own is kept up to date


def test_with_only_an_outsiders_mark_tagbot_opens_its_own_dashboard(world: World):
    planted = world.github.add_issue(title="tagbot dashboard", body="<!-- tagbot:dashboard -->\nhi\n", user=STRANGER)
    assert world.pr() == 0
    own = [i for i in world.github.issues if i["user"] == world.github.login]
    assert len(own) == 1 and own[0]["title"] == "tagbot dashboard"
    assert planted["body"] == "<!-- tagbot:dashboard -->\nhi\n"


# --- 3. a body that once stopped every run --------------------------------------------------------

def test_deeply_nested_state_in_a_closed_pull_request_is_that_pull_requests_warning(world: World,
                                                                                    capsys: pytest.CaptureFixture[str]):
    assert world.pr() == 0
    tiny = own_open(world, "tagbot/acme-tiny")
    tiny["state"] = "closed"
    tiny["body"] = '<!-- tagbot:state {"proposals":' + "[" * 1000 + "]" * 1000 + "} -->"
    assert world.pr() == 0
    err = capsys.readouterr().err
    assert f"#{tiny['number']}" in err and "state cannot be read" in err
    # Unreadable, so it declines nothing: 1.2.1 is proposed again.
    assert own_open(world, "tagbot/acme-tiny")["number"] != tiny["number"]


# --- 4. marks forged through what tagbot embeds ---------------------------------------------------

FORGING_FOLDER = '<!-- tagbot:sta<!-- tagbot:state {} -->te {"proposals":[["docker.io/library/redis","8.0"]]} -->'


def test_a_file_path_cannot_forge_the_state(world: World):
    world.push_to_main(f"{FORGING_FOLDER}/Dockerfile", "FROM acme/tiny:1.1.0\n")
    assert world.pr() == 0
    tiny = own_open(world, "tagbot/acme-tiny")
    state = read_state(tiny["body"])
    assert state is not None
    assert {(p.image, p.version) for p in state.proposals} == {("docker.io/acme/tiny", "1.2.1")}
    assert tiny["body"].count("<!--") == 2  # the rebase box and the state: nothing the path brought
    assert f"{FORGING_FOLDER}/Dockerfile" in state.files  # recorded as data, inside the JSON


def test_a_newline_in_a_path_is_shown_escaped(world: World):
    world.push_to_main("x\n# pwned @everyone/Dockerfile", "FROM acme/tiny:1.1.0\n")
    assert world.pr() == 0
    body = own_open(world, "tagbot/acme-tiny")["body"]
    assert "\n# pwned" not in body
    assert "`x\\n# pwned @everyone/Dockerfile:1`" in body  # a code span: it notifies no one
    message = git(world.remote, "log", "-1", "--format=%B", "tagbot/acme-tiny")
    assert "\n# pwned" not in message and "x\\n# pwned" in message


def test_a_path_that_closes_a_comment_stays_inside_the_state(world: World):
    world.push_to_main("a -->b/Dockerfile", "FROM acme/tiny:1.1.0\n")
    assert world.pr() == 0
    body = own_open(world, "tagbot/acme-tiny")["body"]
    state = read_state(body)
    assert state is not None and "a -->b/Dockerfile" in state.files
    assert body.count("-->") == 2  # the rebase box's and the state's own ends


# --- who tagbot is --------------------------------------------------------------------------------

def test_an_installation_token_is_known_by_its_bots_login(world: World):
    world.github.app_token, world.github.login = True, "tagbot-app[bot]"
    assert world.pr() == 0  # GET /user is refused; GraphQL's viewer names the bot
    tiny = own_open(world, "tagbot/acme-tiny")
    assert tiny["user"] == "tagbot-app[bot]"
    writes = list(world.github.writes)
    assert world.pr() == 0
    assert world.github.writes == writes  # its own pull requests and dashboard are recognised


def test_a_human_with_the_bots_name_without_bot_is_someone_else(world: World):
    world.github.app_token, world.github.login = True, "tagbot-app[bot]"
    planted = world.github.add_pull("tagbot/acme-tiny", title="Mine", user="tagbot-app", head_repo="tagbot-app/app")
    assert world.pr() == 0
    assert planted["title"] == "Mine"


def test_where_the_token_cannot_tell_the_environment_names_the_login(world: World, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]):
    world.github.app_token, world.github.viewer_refused, world.github.login = True, True, "github-actions[bot]"
    assert world.pr() == 2
    err = capsys.readouterr().err
    assert "TAGBOT_BOT_LOGIN" in err and world.github.token not in err
    assert not world.github.writes
    # The repository's config cannot name it: only the environment can.
    (world.checkout / "tagbot.yaml").write_text("rate_limit: 100\nlinks: false\nbot_login: mallory\n")
    assert world.pr() == 2
    (world.checkout / "tagbot.yaml").write_text("rate_limit: 100\nlinks: false\n")
    monkeypatch.setenv("TAGBOT_BOT_LOGIN", "github-actions[bot]")
    assert world.pr() == 0
    assert own_open(world, "tagbot/acme-tiny")["user"] == "github-actions[bot]"
