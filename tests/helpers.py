"""Shared test helpers: fixture files live in tests/fixtures and must exist."""

from __future__ import annotations

import json
import sqlite3
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from tagbot.sources.http import Calls, Fetcher, RateLimiter
from tagbot.sources.model import Tag
from tagbot.sources.tagsapi import TagsAPI, tags_from, unwrap

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(*parts: str) -> Path:
    path = FIXTURES.joinpath(*parts)
    assert path.is_file(), f"missing fixture {path}"
    return path


def fixture_text(*parts: str) -> str:
    return fixture(*parts).read_bytes().decode("utf-8")


def fixture_repository(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_url: str) -> Path:
    """A copy of tests/fixtures/repos/`name` to work in (see `work_in`)."""
    shutil.copytree(FIXTURES / "repos" / name, tmp_path / "repo")
    return work_in(tmp_path / "repo", tmp_path, monkeypatch, api_url)


def new_repository(files: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_url: str) -> Path:
    """A repository of `files` (name -> text) to work in (see `work_in`)."""
    for name, text in files.items():
        (tmp_path / "repo" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "repo" / name).write_text(text)
    return work_in(tmp_path / "repo", tmp_path, monkeypatch, api_url)


def work_in(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_url: str) -> Path:
    """`repo` as the current folder, with the fake tags API's key and address and a cache folder
    of its own."""
    monkeypatch.chdir(repo)
    monkeypatch.setenv("OANOR_API_KEY", "test-key")
    monkeypatch.setenv("TAGBOT_API_URL", api_url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return repo


def found_rows(found: list, text: str) -> list[tuple[str, str | None]]:
    """(text, skip reason) of what a scanner found in `text`, after checking that every piece it
    says is in the file stands there exactly (the separators of a composed reference stand nowhere)."""
    from tagbot.scan.model import NOWHERE, joined

    for f in found:
        assert joined(f.pieces) == f.text
        for piece in f.pieces:
            assert piece.start == NOWHERE or text[piece.start : piece.end] == piece.text, piece
    return [(f.text, f.skip_reason) for f in found]


# The newest tag of the acme/tiny fixture, as every source must read it.
TINY_NEWEST = Tag(
    name="1.2.1",
    digest="sha256:" + "c" * 64,
    platforms=frozenset({"linux/amd64", "linux/arm64", "unknown/unknown"}),
    size=1200,
    last_updated=datetime(2026, 8, 10, 10, tzinfo=timezone.utc),
)


def load_tags(repository: str) -> list[Tag]:
    """The whole recorded tag list of `namespace/name`, newest first, as the policy gets it."""
    body = json.loads(fixture("api", f"{repository.replace('/', '__')}.tags.json").read_text())
    return list(tags_from(unwrap(body)))


class FakeClock:
    """Time that moves only when told: every wait the rate limiter asks for is recorded, not
    slept, so pacing is checked as exact numbers whatever else the machine is doing."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(round(seconds, 6))


# The day the fixtures were recorded: release lines (ended, LTS from) are judged as of a day,
# and a test that pins a decision pins the day too, or the shipped dates would move it.
RECORDED = datetime(2026, 8, 22, 12, tzinfo=timezone.utc)


def on_day(monkeypatch: pytest.MonkeyPatch, day: datetime = RECORDED) -> None:
    """Commands run from now on see the clock stand at `day`."""
    import tagbot.cli
    import tagbot.run

    real = tagbot.run.open_services
    monkeypatch.setattr(tagbot.cli, "open_services",
                        lambda options, **kw: real(options, **{"clock": day.timestamp, **kw}))


def paced(count: int, rate: float) -> list[float]:
    """The waits a limiter at `rate` asks of `count` requests sent at one instant."""
    return [round(i / rate, 6) for i in range(1, count)]


def loopback_fetcher(*, rate: float = 1000.0, retries: int = 3, timeout: float = 5.0, budget: int | None = None,
                     sleeps: list[float] | None = None, clock: FakeClock | None = None) -> tuple[Fetcher, Calls]:
    """A real Fetcher on a real httpx client; backoff sleeps are recorded, not slept, and so are
    the limiter's waits when a `clock` is given."""
    recorded = sleeps if sleeps is not None else []
    calls = Calls(budget)
    limiter = RateLimiter(rate, clock=clock, sleep=clock.sleep) if clock else RateLimiter(rate)
    fetcher = Fetcher(httpx.Client(timeout=timeout), limiter=limiter, calls=calls, retries=retries,
                      sleep=recorded.append, jitter=lambda: 0.0, **({"clock": clock} if clock else {}))
    return fetcher, calls


def tags_source(api_url: str, *, key: str | None = "test-key", **options) -> tuple[TagsAPI, Calls]:
    """A real TagsAPI client, as `loopback_fetcher` builds it."""
    fetcher, calls = loopback_fetcher(**options)
    return TagsAPI(fetcher, base_url=api_url, key=key), calls


def age_answers(cache_home: Path, seconds: float) -> None:
    """Make what the store below `cache_home` (an XDG cache folder) saw `seconds` older, as the
    clock would: its answers, past the TTL, and the times its spans of coverage were true
    (push times are the registry's, and stay). The tags stay known."""
    with sqlite3.connect(cache_home / "tagbot" / "store.sqlite3") as db:
        db.execute("UPDATE answers SET at = at - ?", (seconds,))
        for image, name_filter, spans in db.execute("SELECT image, filter, spans FROM coverage").fetchall():
            aged = [[since, max(until - seconds, since if since is not None else until - seconds)]
                    for since, until in json.loads(spans)]
            db.execute("UPDATE coverage SET spans = ? WHERE image = ? AND filter = ?", (json.dumps(aged), image, name_filter))
