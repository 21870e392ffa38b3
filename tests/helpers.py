"""Shared test helpers: fixture files live in tests/fixtures and must exist."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import httpx

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


def loopback_fetcher(*, rate: float = 1000.0, retries: int = 3, timeout: float = 5.0, budget: int | None = None,
                 sleeps: list[float] | None = None) -> tuple[Fetcher, Calls]:
    """A real Fetcher on a real httpx client; backoff sleeps are recorded, not slept."""
    recorded = sleeps if sleeps is not None else []
    calls = Calls(budget)
    fetcher = Fetcher(httpx.Client(timeout=timeout), limiter=RateLimiter(rate), calls=calls, retries=retries,
                      sleep=recorded.append, jitter=lambda: 0.0)
    return fetcher, calls


def tags_source(api_url: str, *, key: str | None = "test-key", **options) -> tuple[TagsAPI, Calls]:
    """A real TagsAPI client, as `loopback_fetcher` builds it."""
    fetcher, calls = loopback_fetcher(**options)
    return TagsAPI(fetcher, base_url=api_url, key=key), calls


def most_in_window(times: list[float], window: float) -> int:
    """The most requests seen within any `window` seconds. A rate check by windows, not by
    gaps: a scheduling stall on a busy machine can bunch two sends, never many."""
    ordered = sorted(times)
    return max((sum(1 for t in ordered[i:] if t < start + window) for i, start in enumerate(ordered)), default=0)
