from __future__ import annotations

import threading

import pytest

from tagbot.errors import SourceUnavailable
from tagbot.sources.http import Calls, RateLimiter, _retry_after
from tests.helpers import FakeClock


def test_requests_are_spaced_by_the_rate():
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        limiter.wait()
    # No time passes between calls here, so each waits half a second more than the last.
    assert clock.slept == [0.5, 1.0, 1.5]


def test_a_pause_delays_everyone():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.wait()
    limiter.pause(5)
    limiter.wait()
    assert clock.slept == [5.0]


def test_time_passing_needs_no_wait():
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock, sleep=clock.sleep)
    limiter.wait()
    clock.now += 10
    limiter.wait()
    assert clock.slept == []


def test_the_limiter_holds_across_threads():
    clock = FakeClock()
    limiter = RateLimiter(4, clock=clock, sleep=clock.sleep)
    threads = [threading.Thread(target=limiter.wait) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(clock.slept) == [0.25 * n for n in range(1, 8)]


def test_the_call_budget():
    calls = Calls(budget=2)
    calls.take()
    calls.take()
    with pytest.raises(SourceUnavailable, match=r"max_calls \(2\) reached"):
        calls.take()
    assert calls.network == 2


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, 1.0), ("", 1.0), ("7", 7.0), ("2.5", 2.5), ("-3", 0.0), ("soon", 1.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)
def test_retry_after(header, seconds):
    assert _retry_after(header) == seconds
