"""HTTP for every source, in one place: the rate limit, the call budget, retries and the
mapping of transport failures and status codes onto tagbot's errors."""

from __future__ import annotations

import copy
import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from tagbot.errors import AuthError, BadResponse, NotFound, RateLimited, SourceError, SourceUnavailable

log = logging.getLogger(__name__)
_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@")

USER_AGENT = "tagbot (+https://github.com/tagbot/tagbot)"
# Longer than this and a 429 is reported instead of waited out: a run must end.
MAX_RETRY_AFTER = 60.0
# A quota spent for longer than this is that source's failure for the run, not a pause per page.
MAX_QUOTA_WAIT = 10.0
# A server's RateLimit headers asking requests to be further apart than this are not followed
# as a pace (a run must end); the quota is waited on once it is spent.
MAX_SPACING = 1.0
# Transport failures in a row (refused, timed out) after which a host is not asked again this run.
CIRCUIT_BREAKER = 3
BACKOFF = 0.5  # seconds before the first retry; doubled for each next one, plus up to as much jitter
# No answer of any source is near this; a larger one is a fault or an attack, and is refused
# before it fills the memory (and then the cache).
MAX_RESPONSE = 20 * 1024 * 1024
# A read time-out restarts with every byte; a server trickling one byte a second would hold a
# run forever without a deadline for the whole answer.
REQUEST_DEADLINE = 60.0


class RateLimiter:
    """Spaces requests at least 1/rate seconds apart across all threads, so the server never
    sees a burst above the plan's rate; a 429's Retry-After pauses every thread."""

    def __init__(
        self,
        rate: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate if rate else 0.0  # None: no pace, only pauses
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Wait for this request's slot; how long that was."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self._sleep(slot - now)
        return slot - now

    def pause(self, seconds: float) -> None:
        with self._lock:
            self._next = max(self._next, self._clock() + seconds)


    # The limiter's side of a request's life, for limiters that count requests in flight or
    # learn from answers: a plan's rate needs none of it.
    def release(self) -> None:
        pass

    def answered(self) -> None:
        pass

    def slow_down(self) -> None:
        pass

    def space(self, interval: float) -> None:
        pass


class InFlightLimiter:
    """A registry's pace: at most `cap` requests in flight to it and no per-second pace, since
    a registry answers as fast as it can and says when that is too fast. A 429 halves the cap
    (and its Retry-After pauses every thread); each `cap` answers without one give one back
    (AIMD). A server's `RateLimit` headers space the requests by their own numbers, and `rate`
    (the config's `rate_limit:`) is a ceiling on top."""

    def __init__(
        self,
        cap: int = 8,
        *,
        rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cap = cap
        self.limit = cap  # the cap now: lowered by 429s, raised again by answers
        self._clock, self._sleep = clock, sleep
        self._ceiling = RateLimiter(rate, clock=clock, sleep=sleep) if rate else None
        self._spacing = RateLimiter(None, clock=clock, sleep=sleep)  # none until a server's headers ask
        self._in_flight = 0
        self._clean = 0  # answers since the last 429
        self._free = threading.Condition()

    def wait(self) -> float:
        """Wait for a place in flight (and the ceiling's and the server's spacing); how long the
        pace held this request."""
        started = self._clock()
        with self._free:
            while self._in_flight >= self.limit:
                self._free.wait()
            self._in_flight += 1
        waited = self._clock() - started + self._spacing.wait()
        return waited + (self._ceiling.wait() if self._ceiling else 0.0)

    def release(self) -> None:
        with self._free:
            self._in_flight -= 1
            self._free.notify()

    def answered(self) -> None:
        with self._free:
            self._clean += 1
            if self._clean >= self.limit and self.limit < self.cap:
                self.limit += 1
                self._clean = 0
                self._free.notify()

    def slow_down(self) -> None:
        with self._free:
            self.limit = max(1, self.limit // 2)
            self._clean = 0

    def pause(self, seconds: float) -> None:
        self._spacing.pause(seconds)

    def space(self, interval: float) -> None:
        """Requests at least `interval` seconds apart from now on (0: as they come)."""
        if interval > self._spacing.interval:  # the next request too, not only those after it
            self._spacing.pause(interval)
        self._spacing.interval = interval


Limiter = RateLimiter | InFlightLimiter


class Calls:
    """How many requests went out and how many lookups the cache answered; thread-safe."""

    def __init__(self, budget: int | None = None) -> None:
        self.budget = budget
        self.network = 0
        self.cached = 0
        self.by_source: dict[str, int] = {}  # requests per source ("tagsapi", "hub", a registry host)
        # The longest any request waited for its slot, per source: the run's delay by that pace
        # (waits on parallel threads overlap, so a sum would overstate it).
        self.waited: dict[str, float] = {}
        self._lock = threading.Lock()

    def take(self, source: str = "") -> None:
        with self._lock:
            if self.budget is not None and self.network >= self.budget:
                raise SourceUnavailable(f"max_calls ({self.budget}) reached; not looked up")
            self.network += 1
            self.by_source[source] = self.by_source.get(source, 0) + 1

    def count_wait(self, source: str, seconds: float) -> None:
        with self._lock:
            self.waited[source] = max(self.waited.get(source, 0.0), seconds)

    def count_cached(self) -> None:
        with self._lock:
            self.cached += 1


class Fetcher:
    """GETs JSON through the limiter, retrying 429, 5xx and time-outs a bounded number of times
    with exponential backoff and jitter. `auth_hint` ends the message of a 401/403.

    A host that fails CIRCUIT_BREAKER times in a row (refused, timed out), or says its quota is
    spent for longer than MAX_QUOTA_WAIT, is let go: every later request to it fails at once,
    with one shared reason. With `fail_fast` (a pre-commit hook) once is enough, so a commit
    without network waits seconds, not minutes. Past `deadline` (the run's lookup deadline, on
    `clock`) no request is sent at all."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        limiter: Limiter,
        calls: Calls,
        retries: int = 3,
        backoff: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        fail_fast: bool = False,
        label: str = "",
        clock: Callable[[], float] = time.monotonic,
        deadline: float | None = None,
        deadline_setting: str = "the lookup deadline",
    ) -> None:
        self.client, self.limiter, self.calls, self.label = client, limiter, calls, label
        self.retries, self.backoff = (0 if fail_fast else retries), BACKOFF if backoff is None else backoff
        self._sleep, self._jitter, self._clock = sleep, jitter, clock
        self.deadline, self.deadline_setting = deadline, deadline_setting
        self._breaker = 1 if fail_fast else CIRCUIT_BREAKER
        self._failing: dict[str, int] = {}  # host -> transport failures in a row
        self._closed: dict[str, SourceError] = {}  # host -> why it is not asked again this run
        self._lock = threading.Lock()

    def get(self, url: str, *, params: Mapping[str, str | int] | None = None,
            headers: Mapping[str, str] | None = None, method: str = "GET") -> httpx.Response:
        """A GET (or a HEAD) through the limiter and the budget, retried on 429, 5xx and
        time-outs; any other answer is returned for the source to read (a registry's 401 is a
        challenge)."""
        host = _host(url)
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                log.debug("%s: %s; retry %d of %d", host, problem, attempt, self.retries)
                self._sleep(self.backoff * 2 ** (attempt - 1) * (1 + self._jitter()))
            self._check_open(host)
            waited = self.limiter.wait()
            try:
                self._check_open(host)  # the deadline may have passed while waiting for the slot
                self.calls.take(self.label)
                self.calls.count_wait(self.label, waited)
                response = self._fetch(url, params, {"user-agent": USER_AGENT, **(headers or {})}, method)
            except httpx.TimeoutException:
                problem = "timed out"
                self._failed(host, problem)
                continue
            except httpx.TransportError as e:
                problem = f"cannot connect ({type(e).__name__})"
                self._failed(host, problem)
                continue
            finally:
                self.limiter.release()
            with self._lock:
                self._failing.pop(host, None)
            status = response.status_code
            log.debug("GET %s%s: %d", host, httpx.URL(url).path, status)
            if status == 429:
                wait = _retry_after(response.headers.get("retry-after"))
                self.limiter.slow_down()
                if wait > MAX_RETRY_AFTER or attempt == self.retries:
                    raise RateLimited(f"rate limited by {host} (asked to wait {wait:g} s)", wait, host=host)
                self.limiter.pause(wait)
                problem = "rate limited"
                continue
            if status >= 500:
                problem = f"server error {status}"
                continue
            self.limiter.answered()
            self._respect_quota(response.headers, host)
            return response
        raise SourceUnavailable(f"{host}: {problem} after {self.retries + 1} attempt{'s' if self.retries else ''}",
                                host=host)

    def _check_open(self, host: str) -> None:
        """Raise the reason `host` is not asked (again) this run, if there is one."""
        if self.deadline is not None and self._clock() >= self.deadline:
            raise SourceUnavailable(f"{self.deadline_setting} passed; not looked up", host=host, shared=True)
        with self._lock:
            closed = self._closed.get(host)
        if closed is not None:
            raise copy.copy(closed)  # one instance a raise: threads raising at once must not share a traceback

    def _failed(self, host: str, problem: str) -> None:
        """Count a transport failure; enough in a row let the host go for the rest of the run."""
        with self._lock:
            self._failing[host] = self._failing.get(host, 0) + 1
            if self._failing[host] >= self._breaker and host not in self._closed:
                times = self._failing[host]
                self._closed[host] = SourceUnavailable(
                    f"{host}: {problem}, {times} time{'s' if times != 1 else ''} in a row; not tried again this run",
                    host=host, shared=True)

    def _respect_quota(self, headers: Mapping[str, str], host: str) -> None:
        """A server that says its quota is spent (`RateLimit-Remaining: 0`, or the `X-` spelling
        Docker Hub and GitHub use) is left alone until it resets, not asked until it refuses; one
        that will not reset soon is not asked again this run."""
        remaining = _leading_number(headers.get("ratelimit-remaining", headers.get("x-ratelimit-remaining")))
        if remaining is None:
            return
        reset_header = headers.get("ratelimit-reset", headers.get("x-ratelimit-reset"))
        reset = _seconds_until(reset_header)
        if remaining >= 1:
            # What is left spread over the time until the window resets, where that is a pace a
            # run can keep; a window of hours (Docker Hub's pulls) is only waited on once spent.
            interval = reset / remaining if reset_header is not None else 0.0
            self.limiter.space(interval if interval <= MAX_SPACING else 0.0)
            return
        if reset > MAX_QUOTA_WAIT:
            until = (datetime.now(timezone.utc) + timedelta(seconds=reset)).strftime("%H:%M UTC")
            name = "Docker Hub" if self.label == "hub" else host  # hub.HUB, which imports this module
            with self._lock:
                self._closed.setdefault(host, RateLimited(
                    f"{name}'s quota is spent until {until}; not asked again this run", reset, host=host, shared=True))
            return
        log.debug("%s: quota spent; pausing %.1f s", host, reset)
        self.limiter.pause(reset)

    def _fetch(self, url: str, params: Mapping[str, str | int] | None, headers: Mapping[str, str],
               method: str = "GET") -> httpx.Response:
        """One request, its answer read whole within MAX_RESPONSE bytes and REQUEST_DEADLINE seconds."""
        deadline = time.monotonic() + REQUEST_DEADLINE
        host = _host(url)
        with self.client.stream(method, url, params=params, headers=headers) as streamed:
            declared = streamed.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_RESPONSE:
                raise BadResponse(f"{host} answered more than {MAX_RESPONSE // (1024 * 1024)} MB; not read", host=host)
            chunks, size = [], 0
            for chunk in streamed.iter_bytes():
                size += len(chunk)
                if size > MAX_RESPONSE:
                    raise BadResponse(f"{host} answered more than {MAX_RESPONSE // (1024 * 1024)} MB; not read",
                                      host=host)
                if time.monotonic() > deadline:
                    raise SourceUnavailable(f"{host} took longer than {REQUEST_DEADLINE:g} s to answer", host=host)
                chunks.append(chunk)
        # The chunks are decoded already (a gzip bomb counts at its real size): the headers
        # that describe the encoded body no longer apply.
        kept = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() not in ("content-encoding", "content-length")]
        return httpx.Response(streamed.status_code, headers=kept, content=b"".join(chunks), request=streamed.request)

    def get_json(self, url: str, *, params: Mapping[str, str | int] | None = None,
                 headers: Mapping[str, str] | None = None, auth_hint: str) -> Any:
        """The JSON of a 200; 401/403 end the run (`auth_hint` says what to fix), 404 is NotFound."""
        response = self.get(url, params=params, headers=headers)
        check_status(response, auth_hint)
        return read_json(response)


def check_status(response: httpx.Response, auth_hint: str, *,
                 refused: type[SourceError] = AuthError) -> None:
    """Map a final answer that is not a 200 onto tagbot's errors; a 401 or 403 raises `refused`
    (the run's key was rejected, or, for a registry, this one image was)."""
    status, url = response.status_code, str(response.url)
    host = _host(url)
    if status == 200:
        return
    if status in (401, 403):
        raise refused(f"{host} rejected the request ({status}): {auth_hint}", host=host)
    if status == 404:
        raise NotFound(f"not found at {host}", host=host)
    raise BadResponse(f"unexpected HTTP {status} from {host}", host=host)


def read_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):
        host = _host(str(response.url))
        raise BadResponse(f"{host} answered with malformed JSON", host=host) from None


def without_credentials(url: str) -> str:
    """`url` as it may be shown or stored: `https://user:pw@host/x` -> `https://host/x`."""
    return _USERINFO.sub(r"\1", url)


def same_origin(link: str, base: str) -> bool:
    """Whether `link` (a next page a server named) has the scheme, host and port of `base`:
    an answer never sends tagbot to another server, nor to another port of the same one."""
    try:
        a, b = httpx.URL(link), httpx.URL(base)
    except (httpx.InvalidURL, ValueError):
        return False
    return bool(a.host) and (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


def _host(url: str) -> str:
    return httpx.URL(url).host or url


def _leading_number(value: str | None) -> float | None:
    """`100`, or `100;w=21600` as Docker Hub writes it: the number before any parameter."""
    if value is None:
        return None
    try:
        number = float(value.split(";", 1)[0].split(",", 1)[0].strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _seconds_until(value: str | None) -> float:
    """A reset header: seconds to wait (IETF RateLimit-Reset), or an epoch time (X-RateLimit-Reset)."""
    try:
        number = float(value) if value else 1.0
    except ValueError:
        return 1.0
    if not math.isfinite(number):
        return 1.0
    return max(0.0, number - time.time()) if number > 1e9 else max(0.0, number)


def _retry_after(value: str | None) -> float:
    """Retry-After in seconds (a number, or an HTTP date); 1 s when absent or unreadable."""
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 1.0
