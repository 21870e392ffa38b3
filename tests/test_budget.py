"""The monthly budget (`monthly_calls`): a simulated month of daily runs against the fake tags
API, on a clock the test moves. The calls stay within the budget, busy images are refreshed
more often than quiet ones (and no quiet one is forgotten), and decisions from older knowledge
say so."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tagbot.cli import main
from tagbot.model import Plan
from tagbot.pr.actions_ui import step_summary
from tagbot.run import LookupOptions, open_services, plan
from tests.fakeapi import FakeTagsAPI, envelope

MONTH = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)  # the schedule: 06:00 UTC every day
BUSY = [f"acme/busy{n}" for n in range(10)]  # a new version every day
QUIET = [f"acme/quiet{n}" for n in range(30)]  # nothing new all month
BUDGET = 300  # of the 40 x 31 = 1,240 calls a daily refresh of everything would take


def tags_on(day: datetime, image: str) -> bytes:
    """`image`'s tags as the registry holds them on `day`, newest first."""
    pushes = day.day if image in BUSY else 0  # busy: 1.1.0 on the 1st, 1.2.0 on the 2nd, ...
    tags = [(f"1.{n}.0", MONTH.replace(hour=0) + timedelta(days=n - 1)) for n in range(pushes, 0, -1)]
    tags += [("1.0.0", datetime(2026, 3, 1, tzinfo=timezone.utc))]
    return envelope({"tags": [{"name": name, "digest": f"sha256:{n:064x}", "size": 1, "platforms": ["linux/amd64"],
                               "last_updated": pushed.isoformat()} for n, (name, pushed) in enumerate(tags)]})


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags_api: FakeTagsAPI) -> Path:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "compose.yaml").write_text(
        "services:\n" + "".join(f"  s{n}:\n    image: {image}:1.0.0\n" for n, image in enumerate(BUSY + QUIET)))
    (tmp_path / "repo" / "tagbot.yaml").write_text(f"monthly_calls: {BUDGET}\nrate_limit: 500\n")
    monkeypatch.chdir(tmp_path / "repo")
    monkeypatch.setenv("OANOR_API_KEY", tags_api.key)
    monkeypatch.setenv("TAGBOT_API_URL", tags_api.url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "repo"


def run_on(day: datetime, repo: Path, tags_api: FakeTagsAPI, **options: object) -> Plan:
    tags_api.bodies.update({image: tags_on(day, image) for image in BUSY + QUIET})
    with open_services(LookupOptions(**options), directory=repo, clock=day.timestamp) as services:
        return plan([repo], services=services, base=repo)


def asked(tags_api: FakeTagsAPI) -> Counter[str]:
    return Counter(request.split("name=")[1].split("&")[0] for request in tags_api.calls)


def test_a_month_of_daily_runs_stays_within_the_budget_and_refreshes_busy_images_first(repo: Path,
                                                                                      tags_api: FakeTagsAPI):
    plans = [run_on(MONTH + timedelta(days=d), repo, tags_api) for d in range(31)]
    calls = asked(tags_api)
    assert sum(calls.values()) <= BUDGET
    assert sum(calls.values()) >= BUDGET * 0.9  # and spends it: what is left at the end is wasted
    busy, quiet = [calls[i] for i in BUSY], [calls[i] for i in QUIET]
    assert min(busy) > max(quiet)  # an image that pushes daily is asked more than any quiet one
    assert min(quiet) >= 1  # and no quiet one is forgotten
    # The first run knew nothing: it spent its share and could not decide the rest.
    assert len(plans[0].errors) == 40 - plans[0].monthly.this_run
    assert {e.kind for e in plans[0].errors} == {"deferred"} and not plans[0].failed  # a warning, not a failed run
    # Later, what was not asked is decided from what the store knows, and said to be.
    last = plans[-1]
    assert last.errors == () and len(last.stale) == 40 - last.monthly.this_run
    assert all(at < MONTH + timedelta(days=30) for _, at in last.stale)
    summary = step_summary([], last)
    assert f"\n{len(last.stale)} images decided from knowledge of 2026-12-0" in summary and " to 2026-12-30 (monthly budget)\n" in summary
    assert "\ncalls this month: " in summary
    # Busy images are rarely more than a day late: the update found is mostly the day's version.
    current = [u for u in last.updates if u.reference.found.image.name.split("/")[-1].startswith("busy")]
    assert sum(u.update.to_tag == "1.31.0" for u in current) >= 7


def test_the_run_says_the_months_count_and_which_decisions_are_older(repo: Path, tags_api: FakeTagsAPI, capsys):
    (repo / "tagbot.yaml").write_text(f"monthly_calls: {BUDGET}\nrate_limit: 500\ncache_ttl: 1m\n")
    now = datetime.now(timezone.utc)  # the command line's own clock: earlier runs this month, minutes ago
    start = max(now - timedelta(minutes=30), now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    for k in range(3):
        run_on(start + (now - start) * k / 4, repo, tags_api)
    spent = len(tags_api.calls)
    assert main(["update", "--dry-run"]) == 0
    captured = capsys.readouterr()
    this_run = len(tags_api.calls) - spent
    assert 0 < this_run < 40
    # About the run, so on stderr; the table of updates alone is on stdout.
    assert f"tagbot: calls this month: {spent + this_run} of {BUDGET}; at {this_run} a run, about " in captured.err
    assert re.search(r"\ntagbot: \d+ images decided from knowledge of \d{4}-\d\d-\d\d( to \d{4}-\d\d-\d\d)? \(monthly budget\)\n",
                     captured.err)
    assert "calls" not in captured.out
    assert main(["update", "--dry-run", "--format", "json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["monthly"]["limit"] == BUDGET and answer["monthly"]["used"] >= spent + this_run
    assert answer["stale"] and all(s["why"] == "monthly budget" for s in answer["stale"])


def test_a_hook_spends_none_of_the_budget(repo: Path, tags_api: FakeTagsAPI, capsys):
    run_on(MONTH, repo, tags_api)
    before = len(tags_api.calls)
    assert main(["check", "--hook"]) in (0, 1)
    assert len(tags_api.calls) == before
    assert "decided from knowledge of" in capsys.readouterr().err


def test_without_monthly_calls_nothing_changes(repo: Path, tags_api: FakeTagsAPI, capsys):
    (repo / "tagbot.yaml").write_text("rate_limit: 500\n")
    first = run_on(MONTH, repo, tags_api)
    second = run_on(MONTH + timedelta(days=1), repo, tags_api)
    tag_calls = [c for c in tags_api.calls if c.startswith("/v1/tags")]
    assert len(tag_calls) == 80 and first.monthly is None and second.stale == ()
    # Without a budget, /v1/image is asked too: once a week for each image (not official).
    assert sorted(set(tags_api.calls) - set(tag_calls)) == sorted(f"/v1/image?name={c.split('=')[1].split('&')[0]}"
                                                                  for c in set(tag_calls))
    assert len(tags_api.calls) == 80 + 40


def test_the_environment_sets_the_budget(repo: Path, tags_api: FakeTagsAPI, monkeypatch):
    (repo / "tagbot.yaml").write_text("rate_limit: 500\n")
    monkeypatch.setenv("TAGBOT_MONTHLY_CALLS", "31")  # the Action's monthly-calls input
    assert run_on(MONTH, repo, tags_api).monthly.limit == 31
    assert len(tags_api.calls) == 1  # a share of 31 over 31 days
    monkeypatch.setenv("TAGBOT_MONTHLY_CALLS", "lots")
    with pytest.raises(Exception, match="TAGBOT_MONTHLY_CALLS: expected a number of calls"):
        run_on(MONTH, repo, tags_api)


def test_an_open_pull_requests_image_is_asked_first(repo: Path, tags_api: FakeTagsAPI):
    for day in range(20):
        run_on(MONTH + timedelta(days=day), repo, tags_api)
    tags_api.requests.clear()
    run_on(MONTH + timedelta(days=20), repo, tags_api)
    assert "acme/quiet29" not in asked(tags_api)  # a quiet image waits its turn
    tags_api.requests.clear()
    day = MONTH + timedelta(days=21)
    tags_api.bodies.update({image: tags_on(day, image) for image in BUSY + QUIET})
    with open_services(LookupOptions(), directory=repo, clock=day.timestamp) as services:
        result = plan([repo], services=services, base=repo, urgent=frozenset({"docker.io/acme/quiet29"}))
    assert "acme/quiet29" in asked(tags_api)  # but not with a pull request open: its version may have moved on
    assert "docker.io/acme/quiet29" not in dict(result.stale)


def test_the_images_of_tagbots_own_open_pull_requests_and_no_strangers(world):
    from tagbot.pr.github import PullRequests
    from tagbot.pr.state import Proposal, state_of, with_state
    from tagbot.pr.sync import open_pull_images

    def body(image: str) -> str:
        return with_state("Updates", state_of([Proposal(image, "2.0.0")], ["Dockerfile"]))

    world.github.add_pull("tagbot/acme-tiny", body=body("docker.io/acme/tiny"))
    world.github.add_pull("tagbot/acme-other", body=body("docker.io/acme/other"), user="mallory", head_repo="mallory/app")
    pulls = PullRequests(world.github.repository, world.github.token, world.github.url)
    assert open_pull_images(pulls, "main") == {"docker.io/acme/tiny"}
    listed = len(world.github.requests)
    pulls.open_tagbot_pulls("main")  # the sync's own listing later in the run: no second request
    assert len(world.github.requests) == listed
