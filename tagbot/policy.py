"""Which update to propose for one reference, given its image's tags and the user's rules.

`decide` is a pure function: the newest candidate of the same shape that passes every rule,
or none, always with the reason, and with `held_back` notes where something newer exists but
is kept out (another suffix version, the allow range, a missing platform, too young).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from tagbot.config import Settings, duration_text
from tagbot.lines import Line, ReleaseLines, development_aliases
from tagbot.model import Decision, Update, UpdateType, Verdict
from tagbot.platforms import DEFAULT_PLATFORMS, normalize_platform, normalize_platforms, short_platform
from tagbot.refs import ImageRef
from tagbot.scan.model import DeclaredPlatform
from tagbot.sources.model import Tag
from tagbot.versioning import Version, compatible, newer_than, parse_tag, same_frame, shaped_like, update_type

# Rejections worth telling the user about: something newer of their kind is kept out.
_HELD_BACK_CHECKS = ("suffix", "ended", "lts", "allow", "ignore", "update type", "platforms", "age", "digest")
# Said as `newer 26-jdk: line 26: ...`: the detail is a sentence of its own.
_SENTENCE_CHECKS = ("ended", "lts")


@dataclass(frozen=True)
class _Context:
    ref: ImageRef
    current: Version
    settings: Settings
    required: frozenset[str]
    now: datetime
    current_platforms: frozenset[str] | None  # the current tag's, when it is listed
    lines: ReleaseLines | None = None
    development: Mapping[str, str] = field(default_factory=dict)  # {digest: `devel`}: development builds
    # The current tag is listed by name only and the platform rule hangs on its platforms: the
    # most the rule could require (auto: amd64 and arm64, or what the repository builds for),
    # or None when it could require anything (platforms: current).
    unread_current: bool = False
    unread_bound: frozenset[str] | None = None


def decide(
    ref: ImageRef,
    tags: Sequence[Tag],
    settings: Settings,
    *,
    now: datetime,
    platform: str | None = None,
    complete: bool = True,
    declared: Sequence[DeclaredPlatform] = (),
    artifact: bool = False,
    lines: ReleaseLines | None = None,
) -> Decision:
    """The update to propose for `ref`, whose image has `tags` (all of them unless `complete`
    is False, as when a source answers only the newest 100). `platform` is the reference's own
    (`FROM --platform=`, compose `platform:`); `declared` is what the repository says it builds
    for; which of them every candidate must offer is `settings.platforms`' call. An `artifact`
    (a devcontainer feature) runs on no platform, so none is required."""
    if not settings.enabled:
        return Decision(None, "disabled by config")
    tag_name = ref.effective_tag
    current_tag = next((t for t in tags if t.name == tag_name), None)
    required, platforms_from = (
        (frozenset(), "none: an OCI artifact (a devcontainer feature) has no platforms") if artifact
        else required_platforms(settings, current_tag, platform, declared)
    )
    current_platforms = normalize_platforms(current_tag.platforms) if current_tag and current_tag.described else None
    unread_current, unread_bound = (False, None) if artifact or current_tag is None or current_tag.described else (
        _unread_requirement(settings, platform, declared))

    version = parse_tag(tag_name)
    if version is None:  # a floating tag has no newer one to miss, listed or not
        decision = _digest_only(ref, current_tag, settings, required, now, f"{tag_name} is a floating tag")
        return replace(decision, platforms_required=required, platforms_from=platforms_from,
                       line=line_text(lines, tag_name, now.date()), needs=_digest_needs(ref, current_tag, settings))

    notes: list[str] = []
    if current_tag is None and not complete:
        notes.append(f"{tag_name} is not among the newest {len(tags)} tags; only those were searched")
    context = _Context(ref, version, settings, required, now, current_platforms, lines, development_aliases(tags),
                       unread_current, unread_bound)
    line = line_text(lines, tag_name, now.date())
    verdicts = tuple(_judge(context, candidate, tag) for candidate, tag in _newer_tags(version, tags))
    # A candidate is taken only when every newer one was judged: one not looked at yet (a
    # registry's, read as decisions need them) may be the better one.
    chosen_verdict, needs = _settled(verdicts, tag_name)
    held_back = _held_back(verdicts, chosen_verdict, version)
    if needs:
        held_back.insert(0, f"{needs[0]} was not looked at, so nothing older is proposed")
    notes.extend(held_back)
    if not complete and not any(shaped_like(version, t.name) for t in tags):
        notes.append(f"no tag shaped like {tag_name} among the newest {len(tags)} tags; only those were searched")

    if chosen_verdict is not None:
        update = _accepted_update(context, chosen_verdict, tags, current_tag)
        reason = f"{tag_name} -> {update.to_tag} ({update.update_type})"
        kind = update.update_type
        non_major, needs_non_major = (_settled(verdicts, tag_name, lambda v: update_type(version, _parsed(v.tag)) != "major")
                                      if kind == "major" else (None, []))
        patch, needs_patch = (_settled(verdicts, tag_name, lambda v: update_type(version, _parsed(v.tag)) == "patch")
                              if kind in ("major", "minor") else (None, []))
        return Decision(update, reason, tuple(notes), verdicts, required, platforms_from,
                        non_major=_accepted_update(context, non_major, tags, current_tag) if non_major else None,
                        patch=_accepted_update(context, patch, tags, current_tag) if patch else None,
                        line=line, needs_non_major=tuple(needs_non_major), needs_patch=tuple(needs_patch))

    nothing_newer = "already newest" if complete else f"nothing newer among the newest {len(tags)} tags searched"
    decision = _digest_only(ref, current_tag, settings, required, now, held_back[0] if held_back else nothing_newer)
    needs = needs or list(_digest_needs(ref, current_tag, settings))
    return replace(decision, held_back=(*notes, *decision.held_back), verdicts=verdicts,
                   platforms_required=required, platforms_from=platforms_from, line=line, needs=tuple(needs))


def _digest_needs(ref: ImageRef, current: Tag | None, settings: Settings) -> tuple[str, ...]:
    """The current tag, when nothing newer is chosen and its own digest is followed or pinned."""
    if current is not None and not current.described and (ref.digest or settings.wants_pins):
        return (current.name,)
    return ()


def _settled(verdicts: Sequence[Verdict], current: str,
             among: Callable[[Verdict], bool] = lambda v: True) -> tuple[Verdict | None, list[str]]:
    """The newest candidate accepted among `verdicts` (newest first), with every newer one
    judged; else None, and the tag whose details would settle it: the first candidate not
    looked at, or the current tag when the platform rule needs its platforms ([] when none is
    accepted and nothing waits)."""
    for verdict in verdicts:
        if not among(verdict):
            continue
        if verdict.check is None:
            return verdict, []
        if verdict.check == "not described":
            return None, [verdict.tag]
        if verdict.check == "current not described":
            return None, [current]
    return None, []


def _unread_requirement(settings: Settings, platform: str | None,
                        declared: Sequence[DeclaredPlatform]) -> tuple[bool, frozenset[str] | None]:
    """With the current tag's platforms not read: whether the platform rule hangs on them, and
    the most it could then require of a candidate (None: anything)."""
    if isinstance(settings.platforms, frozenset) or platform:
        return False, None  # a list, or the reference's own platform: the current tag's say nothing
    if settings.platforms == "current":
        return True, None
    wanted = frozenset(normal for d in declared if (normal := normalize_platform(d.platform)) is not None)
    return True, wanted or DEFAULT_PLATFORMS


def required_platforms(
    settings: Settings, current: Tag | None, platform: str | None, declared: Sequence[DeclaredPlatform] = ()
) -> tuple[frozenset[str], str]:
    """What every candidate must run on, and where that requirement came from (for explain)."""
    own = normalize_platform(platform) if platform else None
    if isinstance(settings.platforms, frozenset):
        return settings.platforms | ({own} if own else set()), "config: platforms"
    if current is None:
        if own:
            return frozenset({own}), f"the reference's own platform {platform}"
        return frozenset(), "none: the current tag is not listed, so its platforms are unknown"
    has = normalize_platforms(current.platforms)
    if settings.platforms == "current":
        return has | ({own} if own else set()), f"every platform of the current tag {current.name} (platforms: current)"
    if own:
        return frozenset({own}), f"the reference's own platform {platform}"
    wanted = {normal: d for d in declared if (normal := normalize_platform(d.platform)) is not None}
    if wanted:
        where = ", ".join(sorted({d.where for d in wanted.values()}))
        return frozenset(wanted) & has, f"the repository builds for {_platform_list(wanted)} ({where})"
    return DEFAULT_PLATFORMS & has, f"default: amd64 and arm64 of the current tag {current.name}"


def _platform_list(platforms: Iterable[str]) -> str:
    return ", ".join(sorted(map(short_platform, platforms)))


def _newer_tags(current: Version, tags: Sequence[Tag]) -> list[tuple[Version, Tag]]:
    """Every tag newer than the current one, newest first."""
    by_name = {tag.name: tag for tag in tags}
    return [(version, by_name[version.tag]) for version in newer_than(current, by_name)]


def _judge(context: _Context, candidate: Version, tag: Tag) -> Verdict:
    by_name = judge_name(context.current, context.settings, candidate, lines=context.lines, today=context.now.date())
    if by_name is not None and by_name.check in ("shape", "suffix", "pre-release"):
        return by_name
    # A development build is a pre-release, whatever the later checks would say of its line.
    return _development_build(context, candidate, tag) or by_name or _judge_details(context, candidate, tag)


def judge_name(current: Version, settings: Settings, candidate: Version, *,
               lines: ReleaseLines | None = None, today: date | None = None) -> Verdict | None:
    """The checks that need the tag's name only (and the image's release `lines`, as of
    `today`); None when it passes them all."""
    name = candidate.tag
    if not same_frame(current, candidate):
        return Verdict(name, "shape", f"not shaped like {current.tag}")
    if not compatible(current, candidate, follow_suffix=settings.follow_suffix):
        return Verdict(name, "suffix", _suffix_detail(current, candidate))
    # On a pre-release, the next one of the same version is fine (rc1 to rc2); a pre-release of
    # a later version is not, so 3.14.0rc1 moves to 3.14.7, not to 3.15.0a1.
    if candidate.is_prerelease and not settings.allow_prerelease and candidate.numbers != current.numbers:
        return Verdict(name, "pre-release", "a pre-release")
    if lines is not None and today is not None:
        if line_verdict := _judge_line(current, settings, candidate, lines, today):
            return line_verdict
    if settings.ignores(name):
        return Verdict(name, "ignore", "matches ignore")
    if settings.allow is not None and candidate.numbers not in settings.allow:
        return Verdict(name, "allow", f"outside allow {settings.allow.text}")
    kind = update_type(current, candidate)
    if kind not in settings.update_types:
        return Verdict(name, "update type", f"a {kind} update, not in update_types")
    return None


def _judge_line(current: Version, settings: Settings, candidate: Version, lines: ReleaseLines,
                today: date) -> Verdict | None:
    """A release-line check: not yet released, ended, or not LTS where the current line is.
    Moves within the current line are always fine: the newest patch of a line is its best."""
    name = candidate.tag
    own, theirs = lines.line_of(current), lines.line_of(candidate)
    if theirs is None:  # a line the data does not know (yet): neither LTS nor ended, as far as it says
        return _not_lts(name, own, candidate, lines, today, settings)
    if theirs == own:
        return None
    if theirs.released is not None and not theirs.is_released(today) and not settings.allow_prerelease:
        return Verdict(name, "pre-release", f"line {theirs.name} is not released until {theirs.released}")
    # From an LTS line, a line that is not one is said to be that first, ended or not: it is
    # the reason a maintainer of an LTS line needs, and one note, not two.
    if not_lts := (None if theirs.is_lts(today) else _not_lts(name, own, candidate, lines, today, settings, theirs)):
        return not_lts
    if theirs.ended(today):
        return Verdict(name, "ended", f"line {theirs.name} {theirs.support_text(today)}")
    return None


def _not_lts(name: str, own: Line | None, candidate: Version, lines: ReleaseLines, today: date,
             settings: Settings, theirs: Line | None = None) -> Verdict | None:
    """From an LTS line (with `lts` on), a line that is not one is no update."""
    if not settings.lts or own is None or not own.is_lts(today):
        return None
    line_name = theirs.name if theirs else ".".join(map(str, candidate.numbers[: len(own.numbers)]))
    later = theirs.lts_from(today) if theirs else None
    why = f"not an LTS line until {later}" if later else "not an LTS line"
    return Verdict(name, "lts", f"line {line_name}: {why} (LTS: {lines.lts_names(today)})")


def _development_build(context: _Context, candidate: Version, tag: Tag) -> Verdict | None:
    """A version tag that is the same image as `devel` (or `edge`, ...) is a development
    release, unless the data says its line is out."""
    alias = context.development.get(tag.digest) if tag.digest else None
    if alias is None or context.settings.allow_prerelease or candidate.numbers == context.current.numbers:
        return None
    line = context.lines.line_of(candidate) if context.lines else None
    if line is not None and line.is_released(context.now.date()):
        return None
    return Verdict(tag.name, "pre-release", f"the same image as {alias}: a development release")


def line_text(lines: ReleaseLines | None, tag: str, today: date) -> str:
    """The current tag's line as explain says it: `Eclipse Temurin 17 (LTS, supported to
    2027-10-31)`; a codename tag's too (`trusty`)."""
    line = lines.line_of_tag(tag) if lines else None
    if lines is None or line is None:
        return ""
    kind = "LTS, " if line.is_lts(today) else ("not LTS, " if lines.has_lts else "")
    return f"{lines.title} {line.name} ({kind}{line.support_text(today)})"


def _judge_details(context: _Context, candidate: Version, tag: Tag) -> Verdict:
    """The checks that need what a source knows of the tag: platforms, age, digest."""
    settings = context.settings
    if not tag.described:
        return Verdict(tag.name, "not described", "not looked at: only the candidates a decision needs are")
    if context.unread_current:
        bound = context.unread_bound
        if bound is None or bound - normalize_platforms(tag.platforms):
            return Verdict(tag.name, "current not described", f"the platforms of {context.current.tag} are not looked at")
    missing = context.required - normalize_platforms(tag.platforms)
    if missing:
        return Verdict(tag.name, "platforms", f"lacks {_platform_list(missing)}")
    kind = update_type(context.current, candidate)
    min_age = settings.min_age_for(kind)
    if min_age and not _old_enough(tag.last_updated, min_age, context.now):
        return Verdict(tag.name, "age", f"younger than min_age {duration_text(min_age)}")
    if (context.ref.digest or settings.wants_pins) and tag.digest is None:
        return Verdict(tag.name, "digest", "no digest listed to pin")
    return Verdict(tag.name, None, f"a {kind} update")


def _suffix_detail(current: Version, candidate: Version) -> str:
    theirs, ours = _suffix_text(candidate), _suffix_text(current)
    if candidate.suffix_family == current.suffix_family and candidate.suffix_version < current.suffix_version:
        return f"suffix {theirs} is older than {ours}"
    return f"suffix {theirs} is not {ours}"


def _suffix_text(version: Version) -> str:
    return f"-{version.suffix}" if version.suffix else "(none)"


def _old_enough(pushed: datetime | None, min_age: timedelta, now: datetime) -> bool:
    return pushed is not None and now - pushed >= min_age


def _held_back(verdicts: Sequence[Verdict], chosen: Verdict | None, current: Version) -> list[str]:
    """For each check, the newest candidate it kept out that is newer than the chosen one."""
    notes = []
    seen: set[str] = set()
    chosen_version = parse_tag(chosen.tag) if chosen else None
    for verdict in verdicts:  # newest first
        if verdict is chosen:
            break
        if verdict.check not in _HELD_BACK_CHECKS or verdict.check in seen:
            continue
        if verdict.check == "suffix":
            version = parse_tag(verdict.tag)
            if version is None or version.suffix_family != current.suffix_family:
                continue  # another variant altogether (-slim vs -alpine): not held back
            if chosen_version is not None and chosen_version.version_text == version.version_text:
                continue  # the version is chosen, in the current suffix: nothing is held back
            seen.add("suffix")
            notes.append(f"{version.version_text} exists only as -{version.suffix}")
            continue
        seen.add(verdict.check)
        joint = ": " if verdict.check in _SENTENCE_CHECKS else " "
        notes.append(f"newer {verdict.tag}{joint}{verdict.detail}")
    return notes


def _accepted_update(context: _Context, verdict: Verdict, tags: Sequence[Tag], current: Tag | None) -> Update:
    chosen = next(t for t in tags if t.name == verdict.tag)
    return replace(_tag_update(context, chosen), from_size=current.size if current else None)


def _parsed(tag: str) -> Version:
    version = parse_tag(tag)
    assert version is not None  # only parsed tags are candidates
    return version


def _tag_update(context: _Context, chosen: Tag) -> Update:
    ref = context.ref
    candidate = _parsed(chosen.name)
    wants_digest = ref.digest is not None or context.settings.wants_pins
    return Update(
        from_tag=ref.tag,
        from_digest=ref.digest,
        to_tag=chosen.name,
        to_digest=chosen.digest if wants_digest else None,
        update_type=update_type(context.current, candidate),
        platforms=normalize_platforms(chosen.platforms),
        size=chosen.size,
        last_updated=chosen.last_updated,
        platforms_dropped=(context.current_platforms or frozenset()) - normalize_platforms(chosen.platforms),
    )


def _digest_only(
    ref: ImageRef, current: Tag | None, settings: Settings, required: frozenset[str], now: datetime, why: str
) -> Decision:
    """No newer tag: follow the current tag's digest (when pinned), or pin it (when asked)."""
    tag_name = ref.effective_tag
    if ref.digest is None and not settings.wants_pins:
        return Decision(None, why)  # no digest to follow, none to add
    if current is None:
        return Decision(None, f"{why}; {tag_name} is not listed, so its digest is unknown")
    if current.digest is None:
        return Decision(None, f"{why}; no digest is listed for {tag_name}")
    if ref.digest == current.digest:
        return Decision(None, why)
    kind: UpdateType = "digest" if ref.digest else "pin"
    if kind == "digest" and "digest" not in settings.update_types:
        return Decision(None, f"{why}; the digest of {tag_name} changed, but digest is not in update_types")
    missing = required - normalize_platforms(current.platforms)
    if missing:
        return Decision(None, why, (f"the new digest of {tag_name} lacks {_platform_list(missing)}",))
    # An unknown push time (a registry's index says none) cannot be waited on: follow the digest.
    settling = current.last_updated is not None and not _old_enough(current.last_updated, settings.digest_settle, now)
    if kind == "digest" and settling:
        note = f"the digest of {tag_name} changed within digest_settle {duration_text(settings.digest_settle)}; waiting for rebuilds to settle"
        return Decision(None, why, (note,))
    update = Update(
        from_tag=ref.tag,
        from_digest=ref.digest,
        to_tag=ref.tag,
        to_digest=current.digest,
        update_type=kind,
        platforms=normalize_platforms(current.platforms),
        size=current.size,
        last_updated=current.last_updated,
        from_size=current.size,
    )
    reason = f"{tag_name} has a new digest" if kind == "digest" else f"pin {tag_name} to its digest"
    return Decision(update, reason)


def offline_violations(ref: ImageRef, settings: Settings) -> list[str]:
    """The rules a reference breaks that need no lookup: `require_digest`, `forbid_tags`."""
    problems = []
    if settings.require_digest and ref.digest is None:
        problems.append("no @sha256 digest (require_digest)")
    tag = ref.effective_tag
    if any(fnmatch.fnmatchcase(tag, pattern) for pattern in settings.forbid_tags):
        problems.append(f"tag {tag} is forbidden (forbid_tags)")
    return problems
