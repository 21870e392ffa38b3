"""The monthly budget (`monthly_calls`): the tags API's plans allow a number of calls a calendar
month (UTC), 3,700 on the free plan. The store counts them; each run spends at most its share
of what is left (left / runs still to come this month, estimated from the runs so far), on the
images most likely to have moved, and the rest are decided from what the store knows.

"Most likely to have moved" is read from the store's history: the pushes an image made in the
last weeks, times how long ago its answer came. An image pushed daily is refreshed before one
pushed twice a year; one never looked up, or with an open pull request, comes first of all.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta, timezone

from tagbot.model import Monthly
from tagbot.sources.store import Store

CADENCE_WINDOW = timedelta(days=60)  # pushes counted over this much recent history
DEFAULT_INTERVAL = timedelta(days=1)  # runs are assumed daily until a month shows otherwise


def month_of(now: datetime) -> str:
    return now.astimezone(timezone.utc).strftime("%Y-%m")


def this_months_share(store: Store, limit: int, now: datetime, *, spend: bool = True) -> Monthly:
    """What this run may spend of `limit`: nothing when it may not `spend` (a pre-commit hook)."""
    now = now.astimezone(timezone.utc)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    month = store.month(month_of(now))
    left = max(0, limit - month.calls)
    elapsed, remaining = (now - start).total_seconds(), (end - now).total_seconds()
    if month.runs and elapsed > 0:
        runs_left = month.runs / elapsed * remaining
    else:
        runs_left = remaining / DEFAULT_INTERVAL.total_seconds()
    # Rounded up, so a small budget still asks something each run; each share is within what
    # is left, so the month's calls never pass the limit.
    share = min(left, math.ceil(left / (1 + runs_left))) if spend else 0
    return Monthly(limit, month_of(now), month.calls, share, runs_left)


def most_likely_moved(images: Sequence[str], store: Store, now: datetime,
                      first: Collection[str] = ()) -> list[str]:
    """`images`, the likeliest to have new tags first: never answered and those in `first`
    (an open pull request's: its versions may have moved on), then by pushes expected since
    their answer came (recent pushes a day, times the days since)."""
    moment = now.timestamp()

    def expected(image: str) -> float:
        answered = store.answered_at(image)
        if answered is None or image in first:
            return math.inf
        recent = store.count_pushed_since(image, moment - CADENCE_WINDOW.total_seconds())
        per_day = (recent + 1) / CADENCE_WINDOW.days  # as if one push a window: none waits forever
        return per_day * max(0.0, moment - answered) / 86_400

    return sorted(images, key=expected, reverse=True)
