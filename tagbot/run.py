"""The job, top to bottom: scan -> look up each image once -> fill what the first answers lack
-> decide per reference -> edits. `plan` returns everything as data (`tagbot.model.Plan`);
nothing here prints, and nothing is written until `write_changes`.

Per reference and per image, failures are collected, not raised (one bad image or file never
stops the rest); only a rejected key (AuthError) ends the run. The stateful things a run
uses (sources, store, call counter, clock) come in as `Services`, so tests hand in fakes.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import httpx

from tagbot.config import Config, PullSettings, Settings, check_run_setting, check_url, load_config
from tagbot.errors import (
    AuthError, BadResponse, ConfigError, Deferred, NotFound, RateLimited, RewriteError, SourceError, SourceUnavailable,
    TagbotError, Unauthorized,
)
from tagbot.lifecycle import Decider, life_warnings
from tagbot.lines import shipped
from tagbot.moves import shipped_moves
from tagbot.replacing import Replacements, plan_replacements, successors
from tagbot.lookup import Lookups, Needs, Progress, know_tags, tags_to_describe
from tagbot.model import (
    Decision, FailureKind, Failure, FileChange, HeldBack, LifeWarning, Plan, PlannedUpdate, Update, Violation,
)
from tagbot.policy import decide, offline_violations
from tagbot.refs import ImageRef
from tagbot.rewrite import Edit, edits_for, plan_file, write_change
from tagbot.scan import declared_at_root, scan_paths
from tagbot.scan.model import DeclaredPlatform, Reference
from tagbot.sources import DescribingSource
from tagbot.sources.http import Calls
from tagbot.sources.hub import HUB_URL_ENV
from tagbot.sources.model import TagList
from tagbot.sources.select import SourceSet
from tagbot.sources.store import FILE as STORE_FILE
from tagbot.sources.store import Store, default_cache_dir
from tagbot.versioning import parse_tag
from tagbot.sources.tagsapi import DEFAULT_API_URL, KEY_ENV, URL_ENV

HTTP_TIMEOUT = 15.0  # seconds per request; retries follow a time-out
HOOK_CONNECT_TIMEOUT = 2.0  # a pre-commit hook with no network gives up this fast, once
HOOK_READ_TIMEOUT = 5.0  # and on a server that takes the connection but never answers
WORKERS = 16
MONTHLY_CALLS_ENV = "TAGBOT_MONTHLY_CALLS"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LookupOptions:
    """How a run may look things up: the command line's and the environment's say."""

    config: Path | None = None
    api_url: str | None = None
    cache_dir: Path | None = None
    no_cache: bool = False
    offline: bool = False
    hook: bool = False  # a pre-commit hook: one short try at the network, then the cache only
    default_config: Path | None = None  # when the directory has no config: an organisation's defaults


@dataclass
class Services:
    """What a run is handed: its settings, sources, store and clocks."""

    config: Config
    sources: SourceSet
    calls: Calls
    store: Store  # answers, every tag ever seen, what fills covered, the monthly count
    offline: bool
    hook: bool = False  # a pre-commit hook: spends none of the monthly budget
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
    progress: Callable[[str], Progress | None] = lambda label: None  # one per lookup pass
    notices: list[str] = field(default_factory=list)  # said once to the user, by the CLI

    @property
    def workers(self) -> int:
        """Threads for lookups: each source's limiter holds its own pace, so as many as the
        fastest pace can use, within reason."""
        return WORKERS


@contextmanager
def open_services(
    options: LookupOptions,
    *,
    directory: Path,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> Iterator[Services]:
    """Services from the config in `directory` (or `options.config`) and the environment."""
    config = load_config(options.config, directory=directory, default=options.default_config)
    config = replace(config, run=replace(config.run, monthly_calls=_monthly_calls(config.run.monthly_calls)))
    api_url = _api_url(options, config)
    key, notices = _api_key()
    calls = Calls(config.run.max_calls)
    folder = options.cache_dir or default_cache_dir()
    store = _open_store(None if options.no_cache else folder / STORE_FILE, clock)
    timeout = (httpx.Timeout(HOOK_READ_TIMEOUT, connect=HOOK_CONNECT_TIMEOUT) if options.hook
               else httpx.Timeout(HTTP_TIMEOUT))
    try:
        with httpx.Client(timeout=timeout) as client:
            sources = SourceSet(client, config.run, calls, api_url=api_url, key=key, offline=options.offline,
                                fail_fast=options.hook, monotonic=monotonic, sleep=sleep, hub_url=_hub_url())
            yield Services(config, sources, calls, store, options.offline, options.hook, notices=notices,
                           now=lambda: datetime.fromtimestamp(clock(), timezone.utc))
    finally:
        store.close()


def _open_store(path: Path | None, clock: Callable[[], float]) -> Store:
    """The store in the cache folder; in memory with --no-cache (which forgets between runs,
    not within one: the fill still needs somewhere to merge), or when the folder cannot hold it."""
    if path is not None:
        try:
            return Store(path, clock=clock)
        except (OSError, sqlite3.Error) as e:
            log.warning("the store cannot be kept at %s (%s); this run keeps it in memory", path, e)
    return Store(Path(":memory:"), clock=clock)


def _monthly_calls(configured: int | None) -> int | None:
    """$TAGBOT_MONTHLY_CALLS (the Action's `monthly-calls`: the plan is the account's), else the
    config's `monthly_calls`."""
    value = (os.environ.get(MONTHLY_CALLS_ENV) or "").strip()
    if not value:
        return configured
    number: int | str = int(value) if value.isdigit() else value  # else the check says what is wrong
    try:
        return int(check_run_setting("monthly_calls", number))
    except ValueError as e:
        raise ConfigError(f"{MONTHLY_CALLS_ENV}: expected a number of calls: {str(e).removeprefix('expected ')}") from None


def _hub_url() -> str | None:
    value = os.environ.get(HUB_URL_ENV) or None
    try:
        return check_url(value) if value is not None else None
    except ValueError as e:
        raise ConfigError(f"{HUB_URL_ENV}: {e}") from None


def _api_url(options: LookupOptions, config: Config) -> str:
    """--api-url, then $TAGBOT_API_URL, then the config's (checked when read), then the default;
    each gets the config's checks, and a flag given empty is an error, not the default.

    The key goes with every request, so where it goes is the environment's to say: a config
    (which a pull request can change) may move the API only within its default host, over https."""
    # An empty variable is unset (CI fills unset inputs with ""); an empty flag was typed.
    for setting, value in (("--api-url", options.api_url), (URL_ENV, os.environ.get(URL_ENV) or None)):
        if value is not None:
            try:
                return check_url(value)
            except ValueError as e:
                raise ConfigError(f"{setting}: {e}") from None
    configured = config.run.api_url
    if configured is None:
        return DEFAULT_API_URL
    default = httpx.URL(DEFAULT_API_URL)
    url = httpx.URL(configured)
    if (url.scheme, url.netloc) != (default.scheme, default.netloc):
        raise ConfigError(f"{config.path or 'the config'}: api_url: the tags API key goes only to {default.host} "
                          f"over https, or where {URL_ENV} or --api-url says; to use {url.netloc.decode()}, "
                          f"set {URL_ENV} in the environment")
    return configured


def _api_key() -> tuple[str | None, list[str]]:
    """The tags API key, and what to tell the user about it. Surrounding white space (a secret
    pasted with its line break) is dropped; anything an HTTP header cannot carry is an error
    that names the variable, never the key."""
    key = os.environ.get(KEY_ENV)
    if key is None:
        return None, []
    key = key.strip()
    if not key:
        return None, [f"{KEY_ENV} is set but empty (an unset secret?): Docker Hub's own API is used instead"]
    if not all(" " < c < "\x7f" for c in key):
        raise ConfigError(f"{KEY_ENV} holds characters an API key cannot have (spaces, control characters or "
                          "non-ASCII letters); copy the key again")
    return key, []


# --- the job --------------------------------------------------------------------------------

def plan(
    paths: Sequence[Path],
    *,
    services: Services,
    base: Path,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    for_pull_requests: bool = False,
    urgent: frozenset[str] = frozenset(),
) -> Plan:
    """Everything one run would do to the files below `paths` (names relative to `base`); for
    pull requests, with the non-major updates beside major ones when `separate_major` says so."""
    run_settings = services.config.run
    scanned = scan_paths(paths, base=base, include=include, exclude=(*run_settings.exclude, *exclude),
                         kinds=run_settings.kinds, patterns=run_settings.patterns)
    declared = _unique((*scanned.platforms, *declared_at_root(base, base=base)))
    images = [r.found.image for r in scanned.references
              if r.found.image is not None and _needs_tags(r, services.config, services.sources)]
    moves = shipped_moves().with_config(run_settings.replacements)
    looked_up = {image.name for image in images}
    successor_images = [s for s in successors(scanned.references, moves) if s.name not in looked_up]
    needs = _needs(scanned.references, successor_images, services.config, declared, services.now(),
                   for_pull_requests=for_pull_requests)
    lookups = look_up_tags([*images, *successor_images], services, urgent, needs=needs)
    # A successor that cannot be looked up is its replacement's warning, not the run's error.
    successor_errors = {i.name: lookups.errors[i.name] for i in successor_images if i.name in lookups.errors}
    lookups = replace(lookups, errors={name: e for name, e in lookups.errors.items() if name not in successor_errors})
    now = services.now()  # one instant for every decision and warning of the run
    updates, held_back = decide_all(scanned.references, lookups, services.config, declared, now=now,
                                    for_pull_requests=for_pull_requests)
    replaced = plan_replacements(scanned.references, lookups.tags, successor_errors, moves, services.config, declared,
                                 deprecated=lookups.deprecated)
    updates, held_back = _replacing(updates, held_back, replaced.updates)
    changes, rewrite_errors = file_changes([u for u in updates if not u.beside], base, scanned.digests)
    life = life_warnings(scanned.references, lookups.tags, services.config, now=now,
                         decide=_decider(lookups, services.config, declared, now))
    return Plan(
        references=scanned.references,
        scan_errors=scanned.errors,
        platforms=declared,
        updates=tuple(updates),
        held_back=tuple(held_back),
        errors=tuple(failure(name, error) for name, error in sorted(lookups.errors.items())),
        violations=tuple(rule_violations(scanned.references, services.config)),
        changes=tuple(changes),
        rewrite_errors=tuple(rewrite_errors),
        stale=tuple((name, datetime.fromtimestamp(at, timezone.utc)) for name, at in sorted(lookups.stale.items())),
        monthly=lookups.monthly,
        life=_in_file_order(life, replaced),
    )


def _in_file_order(life: Sequence[LifeWarning], replaced: Replacements) -> tuple[LifeWarning, ...]:
    """The warnings, less those of references a replacement takes care of; a moved or
    deprecated image's warning says all its line's would (the image itself is the thing to leave)."""
    taken = {id(p.reference) for p in replaced.updates} | {id(w.reference) for w in replaced.warnings}
    kept = [*replaced.warnings, *(w for w in life if id(w.reference) not in taken)]
    return tuple(sorted(kept, key=lambda w: (w.reference.file, w.reference.line)))


def _replacing(updates: list[PlannedUpdate], held_back: list[HeldBack],
               replacements: Sequence[PlannedUpdate]) -> tuple[list[PlannedUpdate], list[HeldBack]]:
    """A replaced reference's only update is its replacement: what the old image would move to,
    and why not further, no longer matters."""
    if not replacements:
        return updates, held_back
    replaced = {id(p.reference) for p in replacements}
    kept = [u for u in updates if id(u.reference) not in replaced] + list(replacements)
    return (sorted(kept, key=lambda u: (u.reference.file, u.reference.line)),
            [h for h in held_back if id(h.reference) not in replaced])


def _needs_tags(reference: Reference, config: Config, sources: SourceSet) -> bool:
    """Whether a reference's decision can use its image's tags. An unpinned floating tag
    (`latest`, `stable`, none) on a registry cannot: no newer tag is ever proposed for it, and a
    registry's list of names says nothing of age (the tags API's does, for abandoned images)."""
    image = reference.found.image
    assert image is not None
    if parse_tag(image.effective_tag) is not None or image.digest is not None:
        return True
    return settings_at(config, reference).wants_pins or not isinstance(sources.for_image(image), DescribingSource)


def _unique(declared: Sequence[DeclaredPlatform]) -> tuple[DeclaredPlatform, ...]:
    return tuple(dict.fromkeys(declared))


def look_up_tags(images: Sequence[ImageRef], services: Services, urgent: frozenset[str] = frozenset(),
                 needs: Needs | None = None) -> Lookups:
    """Tags for these images, complete enough for their decisions (`lookup.know_tags`); under
    the monthly budget, `urgent` images (open pull requests') first."""
    return know_tags(images, sources=services.sources, store=services.store, config=services.config,
                     calls=services.calls, now=services.now(), offline=services.offline, spend=not services.hook,
                     workers=services.workers, progress=services.progress("looking up images"), urgent=urgent,
                     needs=needs)


def _needs(references: Sequence[Reference], others: Sequence[ImageRef], config: Config,
           declared: Sequence[DeclaredPlatform], now: datetime, *, for_pull_requests: bool) -> Needs:
    """Which tags listed by name only the references' decisions wait on, from what is known so
    far: each distinct reference is decided as the run will decide it, and says what it lacks
    (for pull requests, the updates offered apart too). Images no reference names (the
    successors of moved ones) are described the plain way: their current tag and newest candidates."""
    open_decisions = {decision_key(r, config): r for r in references if r.found.image is not None}

    def needs(lookups: Lookups) -> list[tuple[ImageRef, str]]:
        wanted: dict[tuple[str, str], ImageRef] = {}
        for key, reference in list(open_decisions.items()):
            image = reference.found.image
            assert image is not None
            tags = lookups.tags.get(image.name)
            if tags is None or image.name in lookups.errors or all(tag.described for tag in tags.tags):
                del open_decisions[key]
                continue
            decision = decide_reference(reference, tags, config, declared, now)
            waits_on = (*decision.needs, *(_apart_needs(decision, config, reference) if for_pull_requests else ()))
            if not waits_on:  # settled: what other decisions have read since cannot unsettle it
                del open_decisions[key]
            for name in waits_on:
                wanted.setdefault((image.name, name), image)
        for image, name in tags_to_describe(others, lookups, config, now.date()):
            wanted.setdefault((image.name, name), image)
        return [(image, name) for (_, name), image in wanted.items()]

    return needs


def _apart_needs(decision: Decision, config: Config, reference: Reference) -> tuple[str, ...]:
    """What the updates a pull request offers apart wait on, where the newest update's rules
    offer them (`_offered_beside`)."""
    if decision.update is None:
        return ()
    image = reference.found.image
    assert image is not None
    pull = pull_settings(config, reference, decision.update.update_type)
    return (*(decision.needs_non_major if pull.separate_major else ()),
            *(decision.needs_patch if pull.separate_minor_patch else ()))


def decide_all(
    references: Sequence[Reference],
    lookups: Lookups,
    config: Config,
    declared: Sequence[DeclaredPlatform],
    *,
    now: datetime,
    for_pull_requests: bool = False,
) -> tuple[list[PlannedUpdate], list[HeldBack]]:
    """Each reference's update, with the pull request settings of its rules; for pull requests,
    beside a major one the newest non-major update too (`separate_major`), and beside a minor or
    major the newest patch (`separate_minor_patch`): pull requests offer them apart."""
    updates: list[PlannedUpdate] = []
    held_back: list[HeldBack] = []
    decisions: dict[DecisionKey, Decision] = {}
    for reference in references:
        image = reference.found.image
        if image is None:
            continue
        if image.name in lookups.uncovered:
            held_back.append(HeldBack(reference, f"lookups are off for {image.registry} (registries: in the config)"))
            continue
        tags = lookups.tags.get(image.name)
        if tags is None:
            continue  # its lookup failed: reported once, in errors
        key = decision_key(reference, config)
        if key not in decisions:
            decided = decide_reference(reference, tags, config, declared, now)
            decisions[key] = _with_gaps(decided, image, tags, lookups)
        decision = decisions[key]
        held_back.extend(HeldBack(reference, note) for note in decision.held_back)
        update = _without_unsafe_pin(reference, decision.update, held_back)
        if update is None:
            continue
        pull = pull_settings(config, reference, update.update_type)
        updates.append(PlannedUpdate(reference, update, decision.reason, pull=pull))
        if for_pull_requests:
            updates.extend(_offered_beside(reference, decision, pull, config))
    return _sparing_shared_values(updates, held_back, references)


DecisionKey = tuple[str, str | None, str | None, str | None, bool, tuple[str, str] | None]


def decision_key(reference: Reference, config: Config) -> DecisionKey:
    """What a reference's decision depends on: a monorepo names the same image:tag in many
    files, and each is decided once (per file only where rules by place may differ)."""
    image = reference.found.image
    assert image is not None
    place = (reference.file, reference.kind) if config.by_place else None
    return (image.name, image.tag, image.digest, reference.found.platform, reference.found.artifact, place)


def _offered_beside(reference: Reference, decision: Decision, pull: PullSettings, config: Config) -> list[PlannedUpdate]:
    """The updates a pull request offers apart from the newest: the newest non-major beside a
    major (separate_major), the newest patch beside a minor or major (separate_minor_patch)."""
    image = reference.found.image
    assert image is not None and decision.update is not None
    offered = []
    if pull.separate_major and decision.non_major is not None:
        offered.append(decision.non_major)
    if pull.separate_minor_patch and decision.patch is not None and decision.patch not in offered:
        offered.append(decision.patch)
    out = []
    for update in offered:
        kept = _without_unsafe_pin(reference, update, [])
        if kept is not None:
            reason = f"{image.effective_tag} -> {kept.to_tag} ({kept.update_type})"
            # Apart by the newest update's rules: were its own rules to group it with the newest
            # (a rule by update type), one branch would carry two edits of one reference.
            own = replace(pull_settings(config, reference, kept.update_type),
                          separate_major=pull.separate_major, separate_minor_patch=pull.separate_minor_patch)
            out.append(PlannedUpdate(reference, kept, reason, beside=True, pull=own))
    return out


def _without_unsafe_pin(reference: Reference, update: Update | None, held_back: list[HeldBack]) -> Update | None:
    """The update, without a digest added where it has no safe place (a reference built from
    variables or from values written apart), saying so in `held_back`."""
    image = reference.found.image
    if update is None or not update.to_digest or image is None or image.digest is not None:
        return update
    if not reference.found.from_variables or reference.found.digest_slot is not None:
        return update
    held_back.append(HeldBack(reference, _NO_PIN_PLACE if reference.found.composed else _NOT_PINNED))
    return replace(update, to_digest=None) if update.update_type != "pin" else None


def _sparing_shared_values(updates: list[PlannedUpdate], held_back: list[HeldBack],
                           references: Sequence[Reference]) -> tuple[list[PlannedUpdate], list[HeldBack]]:
    """The updates whose edits change no other image. A value several references are built from
    (an ARG, a GitLab variable: `golang:$GO` and `linters:2.1-go$GO`) is edited only when every
    one of them gets that same edit; else the update would move an image nobody decided on."""
    built_from_values: dict[str, list[Reference]] = {}
    for reference in references:
        if reference.found.image is not None and reference.found.from_variables:
            built_from_values.setdefault(reference.file, []).append(reference)
    if not built_from_values:
        return updates, held_back
    edits = {id(planned): _edits_or_none(planned) for planned in updates}
    askers: dict[tuple[str, int, int, str], set[int]] = {}
    for planned in updates:
        for edit in edits[id(planned)] or ():
            askers.setdefault((planned.reference.file, edit.start, edit.end, edit.replacement), set()).add(id(planned.reference))
    kept: list[PlannedUpdate] = []
    for planned in updates:
        file = planned.reference.file
        others = [
            other
            for edit in edits[id(planned)] or ()
            for other in built_from_values.get(file, ())
            if id(other) not in askers[(file, edit.start, edit.end, edit.replacement)]
            and any(piece.start < edit.end and edit.start < piece.end for piece in other.found.pieces if piece.start >= 0)
        ]
        if others:
            shared = ", ".join(sorted({f"{o.found.text} ({o.file}:{o.line})" for o in others}))
            held_back.append(HeldBack(planned.reference, f"not updated ({planned.reason}): the value it edits also "
                                                         f"makes {shared}, which would change too"))
        else:
            kept.append(planned)
    return kept, held_back


def _edits_or_none(planned: PlannedUpdate) -> list[Edit] | None:
    """The update's edits; None when it has none that can be made (the rewrite says why)."""
    try:
        return edits_for(planned.reference, planned.update)
    except RewriteError:
        return None


# A digest added after `${IMG:-redis:8}` would pin whatever image the variable names at build or
# deploy time to redis's digest.
_NOT_PINNED = ("not pinned: the reference is built from variables, which a build or deploy may set to "
               "another image; pin the digest in the variable's value instead")
# A Helm chart's or kustomization's reference is its repository:, tag: and digest: values; a
# GitLab one may take its tag from another file: no one place takes a new digest.
_NO_PIN_PLACE = ("not pinned: the reference is put together from values written apart, so no one place takes "
                 "a digest; set one where it belongs (a digest: value) and tagbot follows it")


def _with_gaps(decision: Decision, image: ImageRef, tags: TagList, lookups: Lookups) -> Decision:
    """The decision, saying so when the fill could not settle it. Unsettled, it proposes nothing
    it could regret: a newer tag may yet be found among those not known, so only the current
    tag's own new digest stands."""
    why = lookups.unsettled.get((image.name, image.effective_tag))
    if why is None:
        return decision
    update = _same_tag(decision.update, image)
    reason = decision.reason if update is decision.update else f"not yet: {why}"
    return replace(decision, update=update, non_major=_same_tag(decision.non_major, image),
                   patch=_same_tag(decision.patch, image), reason=reason,
                   held_back=(*decision.held_back, why))


def _same_tag(update: Update | None, image: ImageRef) -> Update | None:
    return update if update is not None and update.to_tag in (None, image.effective_tag) else None


def settings_at(config: Config, reference: Reference) -> Settings:
    """The settings for a reference: its image's, and those of the rules naming its file or kind."""
    assert reference.found.image is not None, "only references that parsed have settings"
    return config.settings_for(reference.found.image, reference.file, reference.kind)


def decide_one(image: ImageRef, tags: TagList, config: Config, *, platform: str | None,
               declared: Sequence[DeclaredPlatform], now: datetime, artifact: bool = False,
               settings: Settings | None = None) -> Decision:
    """The policy's decision for one reference, by the config's settings for the image unless
    `settings` are given."""
    return decide(image, tags.tags, settings or config.settings_for(image), now=now, platform=platform,
                  complete=tags.complete, declared=declared, artifact=artifact, lines=shipped().for_image(image))


def decide_reference(reference: Reference, tags: TagList, config: Config, declared: Sequence[DeclaredPlatform],
                     now: datetime, settings: Settings | None = None) -> Decision:
    """The policy's decision for one reference, by the settings for its image, file and kind
    unless `settings` are given."""
    image = reference.found.image
    assert image is not None
    return decide_one(image, tags, config, platform=reference.found.platform, declared=declared, now=now,
                      artifact=reference.found.artifact, settings=settings or settings_at(config, reference))


def pull_settings(config: Config, reference: Reference, update_type: str) -> PullSettings:
    """How the pull request of an update of `update_type` to this reference is made (its rules)."""
    image = reference.found.image
    assert image is not None
    return config.settings_for(image, reference.file, reference.kind, update_type).pull


def _decider(lookups: Lookups, config: Config, declared: Sequence[DeclaredPlatform], now: datetime) -> Decider:
    """Decisions for the end-of-life warnings: the run's own, under other settings."""
    def decide_under(reference: Reference, settings: Settings) -> Decision:
        image = reference.found.image
        assert image is not None  # warned of only when it parsed and was looked up
        decision = decide_reference(reference, lookups.tags[image.name], config, declared, now, settings)
        return _with_gaps(decision, image, lookups.tags[image.name], lookups)

    return decide_under


def rule_violations(references: Sequence[Reference], config: Config) -> list[Violation]:
    """Every reference that breaks a rule needing no lookup; these hold even offline."""
    return [
        Violation(reference, problem)
        for reference in references
        if reference.found.image is not None
        for problem in offline_violations(reference.found.image, settings_at(config, reference))
    ]


# --- explain --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Explanation:
    image: ImageRef
    decision: Decision
    tags: TagList
    config_path: str | None
    rule_lines: tuple[int, ...]
    hub_pages: int = 0  # Docker Hub requests this decision cost
    moved: str = ""  # where the image moved, when it did


def explain(image: ImageRef, *, platform: str | None, services: Services, repository: Path | None = None) -> Explanation:
    """One image's decision, step by step; the `repository`, when given, says what it builds for
    in its workflows and bake files."""
    declared = declared_at_root(repository, base=repository) if repository else ()
    lookups = look_up_tags([image], services)
    if image.name in lookups.errors:
        raise lookups.errors[image.name]
    if image.name in lookups.uncovered:
        raise ConfigError(f"lookups are off for {image.registry} (registries: in the config)")
    tags, config = lookups.tags[image.name], services.config
    decision = _with_gaps(decide_one(image, tags, config, platform=platform, declared=declared, now=services.now()),
                          image, tags, lookups)
    rule_lines = tuple(rule.line for rule in config.rules if rule.matches(image))
    successor = shipped_moves().with_config(config.run.replacements).successor_of(image)
    moved = (f"{image.short_name} moved to {successor.image.short_name} ({successor.move.source}): update proposes "
             f"{successor.written}:{image.effective_tag} where that tag has the platforms needed") if successor else ""
    return Explanation(image, decision, tags, config.path, rule_lines, lookups.hub_pages.get(image.name, 0), moved)


# --- edits ----------------------------------------------------------------------------------

def file_changes(updates: Sequence[PlannedUpdate], base: Path,
                 scanned: Mapping[str, str] | None = None) -> tuple[list[FileChange], list[Failure]]:
    """Each touched file as it would be written; a file with any edit that cannot be made, or
    that is no longer what was scanned (`scanned`: digests by file name), is left out whole,
    with the reason."""
    by_file: dict[str, list[PlannedUpdate]] = {}
    for planned in updates:
        by_file.setdefault(planned.reference.file, []).append(planned)
    changes: list[FileChange] = []
    failures: list[Failure] = []
    for file, planned_updates in sorted(by_file.items()):
        try:
            edits: list[Edit] = [e for p in planned_updates for e in edits_for(p.reference, p.update)]
            change = plan_file(file, base / file, edits, scanned=(scanned or {}).get(file))
        except RewriteError as e:
            failures.append(Failure(file, str(e), "rewrite", place=e.place))
            continue
        if change.after != change.before:
            changes.append(change)
    return changes, failures


def write_changes(changes: Sequence[FileChange], *, inside: Path) -> tuple[list[FileChange], list[Failure]]:
    """Write each file atomically (links only to targets `inside` the folder worked on); one
    that cannot be written never stops the others."""
    written, failures = [], []
    for change in changes:
        try:
            write_change(change, inside=inside)
        except TagbotError as e:
            failures.append(Failure(change.file, str(e), "rewrite", place=e.place))
        else:
            written.append(change)
    return written, failures


def apply_updates(updates: Sequence[PlannedUpdate], base: Path) -> list[Failure]:
    """Make `updates` in the files below `base` (a pull request's worktree); nothing is written
    when any file cannot be changed."""
    changes, failures = file_changes(updates, base)
    if failures:
        return failures
    return write_changes(changes, inside=base)[1]


# --- failures -------------------------------------------------------------------------------

_KINDS: tuple[tuple[type[SourceError], FailureKind], ...] = (
    (Deferred, "deferred"), (AuthError, "auth"), (Unauthorized, "unauthorized"), (NotFound, "not_found"), (RateLimited, "rate_limited"),
    (SourceUnavailable, "unavailable"), (BadResponse, "bad_response"),
)


def failure(image: str, error: SourceError) -> Failure:
    kind: FailureKind = next((name for cls, name in _KINDS if isinstance(error, cls)), "unavailable")
    return Failure(image, str(error), kind, temporary=isinstance(error, (SourceUnavailable, RateLimited)),
                   host=error.host, shared=error.shared)
