"""The YAML config: defaults for every image at the top level, per-image `rules:` over them.

Every key is checked when the file is read; a bad one is one line naming file, line and key:
`tagbot.yaml:12: update_types: unknown value "minr"`. Unknown keys are errors, so a typo never
silently does nothing.
"""

from __future__ import annotations

import fnmatch
import math
import re
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import httpx
import yaml

from tagbot.errors import ConfigError
from tagbot.globs import PathGlobs, glob_problem, name_matches
from tagbot.moves import check_move
from tagbot.platforms import normalize_platform
from tagbot.refs import HUB_ALIASES, ImageRef
from tagbot.schedule import ANY_TIME, Schedule, parse_schedule, parse_timezone
from tagbot.versioning import RangeError, VersionRange, parse_range, parse_tag

if TYPE_CHECKING:
    from tagbot.scan.patterns import Pattern

CONFIG_NAMES = ("tagbot.yaml", ".tagbot.yaml", ".github/tagbot.yaml")
UPDATE_TYPES = ("major", "minor", "patch", "digest", "pin")
DEFAULT_UPDATE_TYPES = frozenset({"major", "minor", "patch", "digest"})
GROUP_BY: tuple[GroupBy, ...] = ("image", "update_type", "all")
SOURCES: tuple[SourceKind, ...] = ("auto", "tagsapi", "hub", "registry", "off")

_NULL = "tag:yaml.org,2002:null"

TagFilter = str | re.Pattern[str]  # a glob on the tag, or a compiled `/regex/`
PlatformRule = Literal["auto", "current"] | frozenset[str]
SourceKind = Literal["auto", "tagsapi", "hub", "registry", "off"]
GroupBy = Literal["image", "update_type", "all"]
Rebase = Literal["conflicted", "behind", "never"]
REBASE: tuple[Rebase, ...] = ("conflicted", "behind", "never")
MergeMethod = Literal["squash", "merge", "rebase"]
MERGE_METHODS: tuple[MergeMethod, ...] = ("squash", "merge", "rebase")
# What `automerge:` may name: an update of these types, or a move to another image.
AUTOMERGE_TYPES = (*UPDATE_TYPES, "replace")
# What a commit_message template may say: `{prefix}update {image} to {to}`.
COMMIT_FIELDS = ("prefix", "image", "from", "to", "type")


@dataclass(frozen=True)
class PullSettings:
    """How a pull request of an image's updates is made: per image, and per rule (a rule may
    match on the update's type for these, `match_update_types:`)."""

    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    group: str | None = None  # a named group's branch, as `groups:` would give
    separate_major: bool = True
    separate_minor_patch: bool = False  # the newest patch apart from a minor update too
    commit_message: str | None = None  # a template over COMMIT_FIELDS; None: tagbot's title
    # Update types whose pull requests merge themselves once every check passes (none by default).
    automerge: frozenset[str] = frozenset()
    schedule: tuple[str, ...] = ()  # when new pull requests may open (tagbot/schedule.py); (): any time
    automerge_schedule: tuple[str, ...] = ()  # when they may be merged; (): any time


@dataclass(frozen=True)
class Settings:
    """The effective rules for one image."""

    enabled: bool = True
    allow: VersionRange | None = None
    ignore: tuple[TagFilter, ...] = ()
    update_types: frozenset[str] = DEFAULT_UPDATE_TYPES
    # auto: what the repository builds for (else amd64 and arm64) among the current tag's;
    # current: every platform of the current tag; or a set the user lists.
    platforms: PlatformRule = "auto"
    pin_digests: bool = False
    min_age: timedelta = timedelta(0)
    digest_settle: timedelta = timedelta(hours=6)
    allow_prerelease: bool = False
    follow_suffix: bool = False
    # When the tags API's newest 100 miss what a decision needs, fill it from Docker Hub's API.
    deep_search: bool = True
    require_digest: bool = False  # checked offline too: a reference without @sha256 fails `check`
    forbid_tags: tuple[str, ...] = ()  # globs; an untagged reference counts as `latest`
    # A reference on a long-term-support line moves only to LTS lines (and within its own).
    lts: bool = True
    # End-of-life warnings: for lines that ended, or end within this long.
    eol_warning: timedelta = timedelta(days=90)
    # An image nothing was pushed to for this long is named as abandoned (0: never).
    abandoned_after: timedelta = timedelta(days=365)
    pull: PullSettings = field(default_factory=PullSettings)
    # min_age by update type, where rules with match_update_types set one (filled in by
    # Config.settings_for, since which candidate is which type is known only while deciding).
    min_age_by_type: tuple[tuple[str, timedelta], ...] = ()

    def min_age_for(self, update_type: str) -> timedelta:
        return dict(self.min_age_by_type).get(update_type, self.min_age)

    def ignores(self, tag: str) -> bool:
        return any(
            f.search(tag) if isinstance(f, re.Pattern) else fnmatch.fnmatchcase(tag, f) for f in self.ignore
        )

    @property
    def wants_pins(self) -> bool:
        return self.pin_digests or "pin" in self.update_types


@dataclass(frozen=True)
class RegistrySettings:
    """How to look up the images of one registry (`registries:` in the config)."""

    source: SourceKind = "auto"
    url: str | None = None  # the source's base URL, e.g. a mirror; http:// only when written so
    auth_env: str | None = None  # an environment variable holding `user:password` or a token
    insecure: bool = False  # plain http to this registry (when no url says otherwise)
    rate_limit: float | None = None  # requests per second to this registry; None: its default


@dataclass(frozen=True)
class RunSettings:
    """Settings for the whole run, only at the top level of the file."""

    api_url: str | None = None  # None: --api-url, $TAGBOT_API_URL, or the default
    hub_url: str | None = None  # Docker Hub's API for fills; $TAGBOT_HUB_URL beats it
    rate_limit: float = 2.0  # requests per second: the free plan's
    max_calls: int | None = None  # network calls per run at most
    # Tags-API calls a calendar month (UTC) at most, as the plan allows (3,700 on the free one):
    # each run spends its share of what is left, on the images likeliest to have moved.
    monthly_calls: int | None = None
    cache_ttl: timedelta = timedelta(hours=1)
    # How long all lookups of a run may take; images not answered by then are reported, and the
    # rest of the job goes on (0: no deadline).
    lookup_deadline: timedelta = timedelta(minutes=10)
    registries: tuple[tuple[str, RegistrySettings], ...] = ()  # (host, settings)
    # Pages of 100 tags a source may read per image and run; a Docker Hub walk cut short resumes
    # on the next run. 50 reads all but the longest histories (node: 91) in one run, once.
    max_tag_pages: int = 50
    # Which files are read: the kinds (None: all) and globs of files to leave out
    kinds: frozenset[str] | None = None
    exclude: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()  # `tagbot org`: only these (owner/name or name); empty: all
    # Pull requests (`tagbot pr`)
    base_branch: str | None = None  # None: the repository's default branch
    group_by: GroupBy = "image"  # `groups` come first
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (name, image globs), in file order
    draft: bool = False
    commit_prefix: str = ""  # before every title and commit message: `chore(deps):`
    links: bool = True  # source, release notes and compare links in pull requests (from image labels)
    dashboard: bool = True  # one issue that says what tagbot proposes, and why not more
    dashboard_title: str = "tagbot dashboard"
    # When a branch is rebuilt on a moved base: when its change no longer applies cleanly
    # (conflicted), whenever the base moved (behind), or only when its versions change (never).
    rebase: Rebase = "conflicted"
    max_open_prs: int | None = None
    max_prs_per_run: int | None = None
    # Moved images (old name or prefix/* -> new), before the shipped table of documented moves.
    replacements: tuple[tuple[str, str], ...] = ()
    # Regular expressions that find images in files of no kind (tagbot/scan/patterns.py).
    patterns: tuple[Pattern, ...] = ()
    timezone: str = "UTC"  # what every schedule's hours are told in (IANA)
    automerge_method: MergeMethod = "squash"
    branch_prefix: str = "tagbot/"  # every branch tagbot makes, and the only ones it reads as its own

    def schedule(self, texts: tuple[str, ...]) -> Schedule:
        """A `schedule:` or `automerge_schedule:` in this run's time zone."""
        return parse_schedule(texts, self.timezone) if texts else ANY_TIME


@dataclass(frozen=True)
class Rule:
    """Settings for the references every one of the rule's match keys names (all ANDed)."""

    patterns: tuple[str, ...]  # image globs; empty: any image
    overrides: tuple[tuple[str, Any], ...]  # (Settings field, value), checked on load
    line: int
    files: PathGlobs | None = None  # where the reference is written
    kinds: frozenset[str] | None = None  # what kind of file that is
    current: VersionRange | None = None  # the version the reference is on now
    update_types: frozenset[str] | None = None  # the update's type (match_update_types)

    @property
    def by_place(self) -> bool:
        return self.files is not None or self.kinds is not None

    def matches(self, image: ImageRef, file: str | None = None, kind: str | None = None,
                update_type: str | None = None) -> bool:
        """Whether the rule names the image (written in `file`, of `kind`, updated by an update of
        `update_type`): a rule by place or type names only references whose place or update is
        known, never an image as a whole."""
        if self.update_types is not None and update_type not in self.update_types:
            return False
        if self.patterns and not matches_any(image, self.patterns):
            return False
        if self.current is not None:
            version = parse_tag(image.effective_tag)
            if version is None or not version.numbers or version.numbers not in self.current:
                return False
        if self.files is not None and (file is None or not self.files.match(file)):
            return False
        return self.kinds is None or kind in self.kinds


@dataclass(frozen=True)
class Config:
    path: str | None = None
    defaults: Settings = field(default_factory=Settings)
    rules: tuple[Rule, ...] = ()
    run: RunSettings = field(default_factory=RunSettings)

    def settings_for(self, image: ImageRef, file: str | None = None, kind: str | None = None,
                     update_type: str | None = None) -> Settings:
        """The defaults with every matching rule merged over them in file order, for the image
        written in `file` of `kind` (when known: lookups, shared by every reference of an image,
        take only the rules that do not match by place), updated by an `update_type` update (when
        known: a decision learns each candidate's min_age from `min_age_by_type`)."""
        settings = self.defaults
        for rule in self.rules:
            if rule.matches(image, file, kind, update_type):
                settings = with_overrides(settings, rule.overrides)
        if update_type is None and any(rule.update_types is not None for rule in self.rules):
            ages = tuple((t, self.settings_for(image, file, kind, t).min_age) for t in ("major", "minor", "patch"))
            settings = replace(settings, min_age_by_type=ages)
        return settings

    @property
    def by_place(self) -> bool:
        """Whether one image:tag may be decided apart in two files (a rule matches by place)."""
        return any(rule.by_place for rule in self.rules)


def with_overrides(settings: Settings, overrides: Iterable[tuple[str, Any]]) -> Settings:
    """`settings` with each (key, value) set: a pull request setting on `settings.pull`."""
    overrides = tuple(overrides)
    own = {key: value for key, value in overrides if key not in _PULL_KEYS}
    pull = {key: value for key, value in overrides if key in _PULL_KEYS}
    changed = replace(settings, **own)
    return replace(changed, pull=replace(settings.pull, **pull)) if pull else changed


def matches_any(image: ImageRef, globs: Sequence[str]) -> bool:
    """Whether any glob names the image by any of its names (`nginx`, `library/nginx`, ...)."""
    return name_matches(globs, image.names)


def find_config(directory: Path) -> Path | None:
    return next((directory / name for name in CONFIG_NAMES if (directory / name).is_file()), None)


def load_config(path: Path | None, *, directory: Path, default: Path | None = None) -> Config:
    """The config at `path`, or the first of CONFIG_NAMES in `directory`, or `default` (an
    organisation's), or the defaults."""
    if path is None:
        path = find_config(directory) or default
        if path is None:
            return Config()
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{name}: config file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{name}: cannot read: {e}") from e
    return parse_config(text, name=name)


def parse_config(text: str, *, name: str) -> Config:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else 0
        raise ConfigError(f"{name}:{line}: invalid YAML: {e.problem}", place=f"{name}:{line}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{name}: invalid YAML: {e}") from e
    except RecursionError:
        raise ConfigError(f"{name}: invalid YAML: nested too deep") from None
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == _NULL):
        return Config(path=name)  # empty, or `~`: no settings
    reader = _Reader(name)
    reader.refuse_duplicate_keys(root)
    top = reader.mapping(root, "the config")
    rules_node = top.pop("rules", None)
    patterns_node = top.pop("patterns", None)
    run = reader.settings({k: v for k, v in top.items() if k in _RUN_SETTINGS}, prefix="", known=_RUN_SETTINGS)
    if patterns_node is not None and patterns_node[1].tag != _NULL:
        run += (("patterns", reader.patterns(patterns_node[1])),)
    overrides = reader.settings({k: v for k, v in top.items() if k not in _RUN_SETTINGS}, prefix="")
    rules = reader.rules(rules_node[1]) if rules_node and rules_node[1].tag != _NULL else ()
    return Config(
        path=name,
        defaults=with_overrides(Settings(), overrides),
        rules=rules,
        run=replace(RunSettings(), **dict(run)),
    )


class _Reader:
    """Reads nodes into checked values; every error names the file, line and key."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._loader = yaml.SafeLoader("")

    def fail(self, node: yaml.Node, key: str, problem: str) -> ConfigError:
        place = f"{self.name}:{node.start_mark.line + 1}"
        return ConfigError(f"{place}: {key}: {problem}", place=place)

    def refuse_duplicate_keys(self, root: yaml.Node) -> None:
        """A key given twice in one mapping is an error: YAML readers disagree on which one wins
        (PyYAML the last, some editors the first), so neither may be guessed at. Bounded like
        every walk of the config: aliases past MAX_NODES are refused where their value is read."""
        stack, walked = [root], 0
        while stack and walked <= MAX_NODES:
            node = stack.pop()
            walked += 1
            if isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
            elif isinstance(node, yaml.MappingNode):
                first: dict[str, int] = {}
                for key_node, value_node in node.value:
                    if isinstance(key_node, yaml.ScalarNode):
                        line = key_node.start_mark.line + 1
                        if key_node.value in first:
                            raise ConfigError(f"{self.name}:{line}: {key_node.value}: given twice "
                                              f"(first on line {first[key_node.value]})", place=f"{self.name}:{line}")
                        first[key_node.value] = line
                    stack.append(value_node)

    def mapping(self, node: yaml.Node, key: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """{key: (key node, value node)} of a mapping node."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, key, "expected a mapping of settings")
        items: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        pairs: list[tuple[yaml.Node, yaml.Node]] = node.value
        for key_node, value_node in pairs:
            items[str(key_node.value)] = (key_node, value_node)
        return items

    def value(self, node: yaml.Node) -> Any:
        """The node as a Python value; ValueError for what no setting can be: a tag such as
        `!!python/object`, or aliases that multiply into more nodes than any config has."""
        _refuse_huge(node)
        try:
            return self._loader.construct_object(node, deep=True)
        except yaml.YAMLError as e:
            problem = getattr(e, "problem", None) or "not a plain value"
            raise ValueError(f"{problem.split(';')[0]} (only plain YAML values are settings)") from None

    def settings(
        self, items: dict[str, tuple[yaml.Node, yaml.Node]], *, prefix: str, known: dict[str, _Check] | None = None
    ) -> tuple[tuple[str, Any], ...]:
        known = known or _SETTINGS
        out = []
        for key, (key_node, value_node) in items.items():
            check = known.get(key)
            if check is None and key in _RUN_SETTINGS:
                raise self.fail(key_node, prefix + key, "only allowed at the top level, not in a rule")
            if check is None:
                names = sorted(_SETTINGS) + ([] if prefix else sorted([*_RUN_SETTINGS, "rules", "patterns"]))
                raise self.fail(key_node, prefix + key, f"unknown setting (known: {', '.join(names)})")
            try:
                out.append((key, check(self.value(value_node))))
            except ValueError as e:
                raise self.fail(value_node, prefix + key, str(e)) from None
        return tuple(out)

    def rules(self, node: yaml.Node) -> tuple[Rule, ...]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, "rules", "expected a list of rules, each with match:")
        rules = []
        for index, rule_node in enumerate(node.value):
            prefix = f"rules[{index}]."
            items = self.mapping(rule_node, f"rules[{index}]")
            keys = {key: items.pop(key) for key in _MATCH_KEYS if key in items}
            if not keys:
                raise self.fail(rule_node, f"rules[{index}]", "a rule needs match: (an image name or glob, or a "
                                                              "list), or files:, kinds:, current: or match_update_types:")
            matched: dict[str, Any] = {}
            for key, (_, value_node) in keys.items():
                try:
                    matched[key] = _MATCH_KEYS[key](self.value(value_node))
                except ValueError as e:
                    raise self.fail(value_node, prefix + key, str(e)) from None
            overrides = self.settings(items, prefix=prefix)
            if "match_update_types" in matched:
                # The update's type is known once a candidate is chosen: what chooses it cannot hang on it.
                decided = next((key for key, _ in overrides if key not in _BY_UPDATE_TYPE), None)
                if decided is not None:
                    raise self.fail(items[decided][0], prefix + decided,
                                    "cannot depend on match_update_types, since it decides the update's type "
                                    f"(with it a rule may set: {', '.join(sorted(_BY_UPDATE_TYPE))})")
            rules.append(Rule(matched.get("match", ()), overrides, rule_node.start_mark.line + 1,
                              files=matched.get("files"), kinds=matched.get("kinds"), current=matched.get("current"),
                              update_types=matched.get("match_update_types")))
        return tuple(rules)

    def patterns(self, node: yaml.Node) -> tuple[Pattern, ...]:
        """`patterns:`, each checked where it is written: a bad expression is its own line's error."""
        from tagbot.scan.patterns import compiled  # the scanner knows what an expression must hold

        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, "patterns", "expected a list of {files:, match:} entries")
        out = []
        for index, entry in enumerate(node.value):
            where = f"patterns[{index}]"
            items = self.mapping(entry, where)
            unknown = sorted(set(items) - {"files", "match", "image"})
            if unknown:
                raise self.fail(items[unknown[0]][0], f"{where}.{unknown[0]}", "unknown key (known: files, match, image)")
            for required in ("files", "match"):
                if required not in items:
                    raise self.fail(entry, where, f"needs {required}:")
            try:
                files = list(_glob_list(self.value(items["files"][1])))
            except ValueError as e:
                raise self.fail(items["files"][1], f"{where}.files", str(e)) from None
            match, image = self.value(items["match"][1]), self.value(items["image"][1]) if "image" in items else None
            if not isinstance(match, str) or not match:
                raise self.fail(items["match"][1], f"{where}.match", "expected a regular expression")
            if image is not None and not isinstance(image, str):
                raise self.fail(items["image"][1], f"{where}.image", "expected an image name")
            try:
                out.append(compiled(where, files, match, image))
            except ValueError as e:
                part, _, problem = str(e).partition(": ")
                node_of = items["image"][1] if part == "image" else items["match"][1]
                raise self.fail(node_of, f"{where}.{part}", problem) from None
        return tuple(out)


MAX_NODES = 10_000  # no config has more; aliases multiplying past it are a bomb, not settings


def _refuse_huge(node: yaml.Node) -> None:
    """Count the nodes a value expands to, aliases followed, and stop at MAX_NODES: a few
    hundred bytes of nested aliases would otherwise expand to gigabytes."""
    count, stack = 0, [node]
    while stack:
        current = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ValueError(f"expands to more than {MAX_NODES:,} values (nested aliases?)")
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            stack.extend(item for pair in current.value for item in pair)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _strings(value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise ValueError("expected a string or a list of strings")
    return values


MAX_DURATION = timedelta(days=3650)  # ten years: longer is a typo, and overflows date arithmetic


def _duration(value: Any) -> timedelta:
    """`3d`, `12h`, `1d12h`, `30m`, `45s`, `2w`, `1y` (365 days), or 0; at most ten years."""
    text = str(value).strip()
    if text == "0":
        return timedelta(0)
    parts = re.findall(r"(\d{1,30})\s*([ywdhms])", text)
    if not parts or re.sub(r"\d{1,30}\s*[ywdhms]", "", text).strip():
        raise ValueError(f"expected a duration such as 3d, 12h or 30m, got {_shown(value)}")
    seconds = {"y": 31536000, "w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
    total = sum(int(n) * seconds[unit] for n, unit in parts)
    if total > MAX_DURATION.total_seconds():
        raise ValueError(f"{_shown(value)} is longer than ten years")
    return timedelta(seconds=total)


def duration_text(duration: timedelta) -> str:
    """A duration as a config writes it (`10m`, `3d`): the inverse of `_duration`, for messages."""
    seconds = int(duration.total_seconds())
    for unit, size in (("y", 31536000), ("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _range(value: Any) -> VersionRange:
    if not isinstance(value, (str, int, float)):
        raise ValueError("expected a version range such as ^1.25, ~1.27, 1.x or >=1.25 <2")
    try:
        return parse_range(str(value))
    except RangeError as e:
        raise ValueError(f"{e} (expected a version range such as ^1.25, ~1.27, 1.x or >=1.25 <2)") from None


def _ignore(value: Any) -> tuple[TagFilter, ...]:
    filters: list[TagFilter] = []
    for text in _strings(value):
        if len(text) > 1 and text.startswith("/") and text.endswith("/"):
            try:
                filters.append(re.compile(text[1:-1]))
            except re.error as e:
                raise ValueError(f"bad regular expression {text!r}: {e}") from None
        else:
            filters.append(_glob(text))
    return tuple(filters)


def _update_types(value: Any, known: tuple[str, ...] = UPDATE_TYPES) -> frozenset[str]:
    types = _strings(value)
    for kind in types:
        if kind not in known:
            raise ValueError(f'unknown value "{kind}" (known: {", ".join(known)})')
    return frozenset(types)


def _update_types_matched(value: Any) -> frozenset[str]:
    return _update_types(value, known=AUTOMERGE_TYPES)


def _platforms(value: Any) -> PlatformRule:
    if value in ("auto", "current"):
        return cast(PlatformRule, value)
    platforms = []
    for text in _strings(value):
        platform = normalize_platform(text)
        if platform is None:
            raise ValueError(f'"{text}" is not auto, current, or a platform such as linux/amd64 or linux/arm64')
        platforms.append(platform)
    return frozenset(platforms)


def check_run_setting(name: str, value: Any) -> Any:
    """`value` for the top-level setting `name`, checked as the config file's would be (for the
    environment's say: one rule, one bound); ValueError says what is wrong."""
    return _RUN_SETTINGS[name](value)


def check_url(value: Any) -> str:
    """An http:// or https:// URL with a host, and nothing that could break a request line."""
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    if any(not c.isprintable() or c.isspace() for c in value):
        raise ValueError("expected a URL without spaces or control characters")
    try:
        host = httpx.URL(value).host
    except (httpx.InvalidURL, ValueError):
        raise ValueError("expected an http:// or https:// URL (this one does not parse)") from None
    if not host:
        raise ValueError("expected an http:// or https:// URL with a host")
    return value


_url = check_url


def _positive(kind: type, most: float) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not number or value <= 0 or value > most or kind(value) != value:
            raise ValueError(f"expected a positive {'whole ' if kind is int else ''}number up to {most:g}, "
                             f"got {_shown(value)}")
        return kind(value)

    check.bounds = (kind, most)  # type: ignore[attr-defined]  # for the config's JSON Schema
    return check


_Check = Callable[[Any], Any]

def _rebase(value: Any) -> Rebase:
    if value not in REBASE:
        raise ValueError(f'unknown value "{value}" (known: {", ".join(REBASE)})')
    return cast(Rebase, value)


def _group_by(value: Any) -> GroupBy:
    if value not in GROUP_BY:
        raise ValueError(f'unknown value "{value}" (known: {", ".join(GROUP_BY)})')
    return cast(GroupBy, value)


def _groups(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict) or not value:
        raise ValueError("expected a mapping of group names to image globs, such as {databases: [postgres]}")
    groups = []
    for name, patterns in value.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            raise ValueError(f"group name {name!r} must be letters, digits, '.', '_' or '-' (it names a branch)")
        groups.append((name, _globs(p.lower() for p in _strings(patterns))))
    return tuple(groups)


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected a string")
    return value


def _glob(text: str) -> str:
    if problem := glob_problem(text):
        raise ValueError(problem)
    return text


def _globs(patterns: Iterable[str]) -> tuple[str, ...]:
    return tuple(map(_glob, patterns))


def _glob_list(value: Any) -> tuple[str, ...]:
    """A glob or a list of them (tagbot/globs.py); an empty list is fine (`exclude: []`)."""
    return () if value == [] else _globs(_strings(value))


def _names(value: Any) -> tuple[str, ...]:
    """A string or a list of them; an empty list is fine (`reviewers: []`)."""
    return () if value == [] else tuple(_strings(value))


def _registries(value: Any) -> tuple[tuple[str, RegistrySettings], ...]:
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of registry hosts to settings, such as {docker.io: {source: hub}}")
    out = []
    seen: dict[str, str] = {}
    for host, settings in value.items():
        if not isinstance(settings, dict):
            raise ValueError(f"{host}: expected a mapping with source and url")
        unknown = set(settings) - {"source", "url", "auth_env", "insecure", "rate_limit"}
        if unknown:
            raise ValueError(f"{host}: unknown setting {sorted(unknown)[0]} "
                             "(known: source, url, auth_env, insecure, rate_limit)")
        source = settings.get("source", "auto")
        if source is False:
            source = "off"  # YAML 1.1 reads a bare `off` as false
        if source not in SOURCES:
            raise ValueError(f'{host}: unknown source "{source}" (known: {", ".join(SOURCES)})')
        name = "docker.io" if str(host).lower() in HUB_ALIASES else str(host).lower()
        if name in seen:
            raise ValueError(f"{host}: names the same registry as {seen[name]}; give its settings once")
        seen[name] = str(host)
        if source in ("tagsapi", "hub") and name != "docker.io":
            raise ValueError(f"{host}: the {source} source covers docker.io only; use registry")
        url, auth_env = settings.get("url"), settings.get("auth_env")
        if auth_env is not None and (not isinstance(auth_env, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", auth_env)):
            raise ValueError(f"{host}: auth_env names an environment variable, such as GHCR_TOKEN")
        _check_credentials(name, url, auth_env)
        rate = settings.get("rate_limit")
        try:
            rate = _positive(float, 1000)(rate) if rate is not None else None
        except ValueError as e:
            raise ValueError(f"{host}: rate_limit: {e}") from None
        out.append((name, RegistrySettings(source, _url(url) if url else None, auth_env,
                                           _bool(settings.get("insecure", False)), rate)))
    return tuple(out)


# The secrets tagbot itself is given: a repository's config may not hand them to a registry.
_OWN_SECRETS = ("OANOR_API_KEY", "GITHUB_TOKEN", "GH_TOKEN")
_RUNNER_SECRETS = "ACTIONS_"  # the runner's own tokens: ACTIONS_RUNTIME_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN


def _check_credentials(host: str, url: Any, auth_env: str | None) -> None:
    """A repository's config is written by whoever edits the repository: it may name which
    variable holds a registry's credentials, but not tagbot's own secrets, and not send them to
    any host but that registry's."""
    if auth_env is None:
        return
    if auth_env.upper() in _OWN_SECRETS or auth_env.upper().startswith(_RUNNER_SECRETS):
        raise ValueError(f"{host}: auth_env may not name {auth_env}, a secret tagbot or the runner holds for "
                         "itself; put the registry's credentials in a variable of their own (GHCR_TOKEN)")
    if isinstance(url, str) and url:
        try:
            netloc = httpx.URL(url).netloc.decode()
        except (httpx.InvalidURL, ValueError):
            return  # the url's own check says what is wrong with it
        if netloc.lower() != host:
            raise ValueError(f"{host}: auth_env credentials go only to {host} itself, and url names {netloc}")


def _replacements(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not value:
        raise ValueError("expected a mapping of moved images to their successors, such as {openjdk: eclipse-temurin}")
    moves = []
    for old, new in value.items():
        if not isinstance(old, str) or not isinstance(new, str) or not old or not new:
            raise ValueError(f"{old!r}: expected an image name for an image name")
        if problem := check_move(old, new):
            raise ValueError(problem)
        moves.append((old, new))
    return tuple(moves)


def _image_globs(value: Any) -> tuple[str, ...]:
    return _globs(p.lower() for p in _strings(value))


def _file_globs(value: Any) -> PathGlobs:
    return PathGlobs(_glob_list(value))


def _schedule(value: Any) -> tuple[str, ...]:
    texts = tuple(_strings(value))
    parse_schedule(texts)
    return texts


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("expected an IANA time zone name, such as Europe/Berlin")
    parse_timezone(value)
    return value


def _automerge(value: Any) -> frozenset[str]:
    """Update types, or `true` for every type but major (a major merges itself only when named)."""
    if value is True:
        return frozenset(AUTOMERGE_TYPES) - {"major"}
    if value is False or value == []:
        return frozenset()
    return _update_types(value, known=AUTOMERGE_TYPES)


def _merge_method(value: Any) -> MergeMethod:
    if value not in MERGE_METHODS:
        raise ValueError(f'unknown value "{value}" (known: {", ".join(MERGE_METHODS)})')
    return cast(MergeMethod, value)


def _group_name(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
        raise ValueError("expected a group name of letters, digits, '.', '_' or '-' (it names a branch)")
    return value


def _commit_template(value: Any) -> str:
    """A template such as `{prefix}update {image} to {to}`: only COMMIT_FIELDS, on one line."""
    if not isinstance(value, str) or not value.strip() or "\n" in value or "\r" in value:
        raise ValueError("expected a one-line template such as '{prefix}update {image} to {to}'")
    try:
        fields = [name for _, name, spec, _ in string.Formatter().parse(value) if name is not None]
    except ValueError as e:
        raise ValueError(f"{e} (write a literal brace twice: {{{{ or }}}})") from None
    unknown = [name for name in fields if name not in COMMIT_FIELDS]
    if unknown:
        raise ValueError(f"unknown field {{{unknown[0]}}} (known: {', '.join('{' + f + '}' for f in COMMIT_FIELDS)})")
    if any(spec for _, name, spec, conversion in string.Formatter().parse(value) if name is not None):
        raise ValueError("fields take no format spec: write {to}, not {to:>10}")
    return value


def _branch_prefix(value: Any) -> str:
    """`tagbot/`, `deps/tagbot-`: a ref name's start, so git and GitHub take every branch under it.
    It ends in `/` or `-`, so no branch of tagbot's can be named like a person's (`main`)."""
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,59}[/-]", value) \
            or "//" in value or ".." in value or value.startswith("refs/") or "/." in value:
        raise ValueError("expected a branch name prefix ending in / or -, such as tagbot/ or deps/tagbot- "
                         "(letters, digits, '.', '_', '-', '/')")
    return value


def _kinds(value: Any) -> frozenset[str]:
    from tagbot.scan import SCANNERS  # the scanners name the kinds; config is read before any scan

    kinds = _strings(value)
    unknown = [kind for kind in kinds if kind not in SCANNERS]
    if unknown:
        raise ValueError(f"unknown kind {unknown[0]!r}; known: {', '.join(SCANNERS)}")
    return frozenset(kinds)


# What a rule may match on besides the image's name; each key's check.
_MATCH_KEYS: dict[str, Callable[[Any], Any]] = {"match": _image_globs, "files": _file_globs, "kinds": _kinds,
                                                "current": _range, "match_update_types": _update_types_matched}

_RUN_SETTINGS: dict[str, _Check] = {
    "api_url": _url,
    "hub_url": _url,
    "rate_limit": _positive(float, 1000),
    "max_calls": _positive(int, 10_000_000),
    "monthly_calls": _positive(int, 100_000_000),
    "cache_ttl": _duration,
    "lookup_deadline": _duration,
    "registries": _registries,
    "max_tag_pages": _positive(int, 10_000),
    "kinds": _kinds,
    "exclude": _glob_list,
    "repositories": _names,
    "base_branch": _string,
    "group_by": _group_by,
    "groups": _groups,
    "draft": _bool,
    "commit_prefix": _string,
    "links": _bool,
    "dashboard": _bool,
    "dashboard_title": _string,
    "rebase": _rebase,
    "max_open_prs": _positive(int, 10_000),
    "max_prs_per_run": _positive(int, 10_000),
    "replacements": _replacements,
    "timezone": _timezone,
    "automerge_method": _merge_method,
    "branch_prefix": _branch_prefix,
}

# Pull request settings (PullSettings): at the top level and per rule.
_PULL_SETTINGS: dict[str, _Check] = {
    "labels": _names,
    "reviewers": _names,
    "assignees": _names,
    "group": _group_name,
    "separate_major": _bool,
    "separate_minor_patch": _bool,
    "commit_message": _commit_template,
    "automerge": _automerge,
    "schedule": _schedule,
    "automerge_schedule": _schedule,
}
_PULL_KEYS = frozenset(_PULL_SETTINGS)
# What a rule matching by the update's type may set: what comes after the update is chosen.
_BY_UPDATE_TYPE = _PULL_KEYS | {"min_age"}

_SETTINGS: dict[str, _Check] = {
    "enabled": _bool,
    "allow": _range,
    "ignore": _ignore,
    "update_types": _update_types,
    "platforms": _platforms,
    "pin_digests": _bool,
    "min_age": _duration,
    "digest_settle": _duration,
    "allow_prerelease": _bool,
    "follow_suffix": _bool,
    "deep_search": _bool,
    "require_digest": _bool,
    "forbid_tags": _glob_list,
    "lts": _bool,
    "eol_warning": _duration,
    "abandoned_after": _duration,
    **_PULL_SETTINGS,
}
