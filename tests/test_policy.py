from __future__ import annotations

from datetime import datetime, timedelta, timezone
from dataclasses import replace
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagbot.config import Settings, parse_config
from tagbot.policy import decide
from tagbot.refs import parse_ref
from tagbot.scan.model import DeclaredPlatform
from tagbot.sources.model import Tag
from tagbot.versioning import compatible, order_key, parse_tag
from tests.helpers import load_tags

NOW = datetime(2026, 8, 22, 6, tzinfo=timezone.utc)  # when the fixtures were recorded
OLD = "sha256:" + "0" * 64
ARM = frozenset({"linux/amd64", "linux/arm64"})


@cache
def tags_of(repository: str) -> tuple[Tag, ...]:
    return tuple(load_tags(repository))


def digest_of(repository: str, tag: str) -> str:
    return next(t.digest for t in tags_of(repository) if t.name == tag)


def run(text: str, config: str = "", **options):
    ref = parse_ref(text)
    return decide(ref, tags_of(ref.repository), parse_config(config, name="t.yaml").defaults, now=NOW, **options)


@pytest.mark.parametrize(
    ("text", "config", "to_tag", "kind", "reason", "held_back"),
    [
        # The variant stays: -alpine never moves to a Debian tag.
        ("nginx:1.27.3-alpine", "", "1.31.4-alpine", "minor", "1.27.3-alpine -> 1.31.4-alpine (minor)", ()),
        # Two numbers stay two: 1.27 moves to 1.31, never to 1.31.4.
        ("nginx:1.27", "platforms: [linux/amd64, linux/arm64]", "1.31", "minor", "1.27 -> 1.31 (minor)", ()),
        # Never lose an architecture that is required: nginx 1.27 ran on mips64le, later ones do not.
        ("nginx:1.27", "platforms: current", None, None, "newer 1.31 lacks linux/mips64le",
         ("newer 1.31 lacks linux/mips64le",)),
        # By default (auto) only amd64 and arm64 are required when the repository declares nothing.
        ("nginx:1.27", "", "1.31", "minor", "1.27 -> 1.31 (minor)", ()),
        # The suffix version stays, and the user is told what exists only under a newer one.
        ("node:20.10.0-alpine3.18", "", "22.2.0-alpine3.18", "major", "20.10.0-alpine3.18 -> 22.2.0-alpine3.18 (major)",
         ("26.7.0 exists only as -alpine3.24",)),
        ("node:20.10.0-alpine3.18", "follow_suffix: true\nplatforms: current", "22.5.1-alpine3.20", "major",
         "20.10.0-alpine3.18 -> 22.5.1-alpine3.20 (major)",
         ("newer 26.7.0-alpine3.24 lacks linux/arm/v6, linux/arm/v7, linux/ppc64le, linux/s390x",)),
        ("node:20.10.0-alpine3.18", "follow_suffix: true\nplatforms: [linux/amd64, linux/arm64]", "26.7.0-alpine3.24",
         "major", "20.10.0-alpine3.18 -> 26.7.0-alpine3.24 (major)", ()),
        ("postgres:16.4", "allow: '^16'\nplatforms: [linux/amd64, linux/arm64]", "16.15", "minor", "16.4 -> 16.15 (minor)",
         ("newer 18.6 outside allow ^16",)),
        ("postgres:16.4-bookworm", "allow: '^19'", None, None, "newer 18.6-bookworm outside allow ^19",
         ("newer 18.6-bookworm outside allow ^19",)),
        ("postgres:18.6-bookworm", "", None, None, "already newest", ()),
        # A bitnami revision is part of the version; the suffix debian-12 stays.
        ("bitnami/postgresql:16.2.0-debian-12-r3", "update_types: [minor, patch]", "16.10.0-debian-12-r4", "minor",
         "16.2.0-debian-12-r3 -> 16.10.0-debian-12-r4 (minor)",
         ("newer 17.6.0-debian-12-r3 a major update, not in update_types",)),
        ("python:3.13.1", "ignore: ['3.14.*']", "3.13.15", "patch", "3.13.1 -> 3.13.15 (patch)",
         ("newer 3.14.7 matches ignore",)),
        ("python:3.13.1", "ignore: ['/^3\\.1[45]/']", "3.13.15", "patch", "3.13.1 -> 3.13.15 (patch)",
         ("newer 3.14.7 matches ignore",)),
        # Releases never move to pre-releases; pre-releases move to their release, not the next rc.
        ("python:3.13.1", "", "3.14.7", "minor", "3.13.1 -> 3.14.7 (minor)", ()),
        ("python:3.14.0rc1", "", "3.14.7", "patch", "3.14.0rc1 -> 3.14.7 (patch)", ()),
        ("python:3.14.0rc1", "allow_prerelease: true", "3.15.0rc1", "minor", "3.14.0rc1 -> 3.15.0rc1 (minor)", ()),
        ("nginx:1.31.3-alpine", "min_age: 1w", None, None, "newer 1.31.4-alpine younger than min_age 1w",
         ("newer 1.31.4-alpine younger than min_age 1w",)),
        ("eclipse-temurin:21.0.4_7-jdk", "allow: '^21'\nplatforms: current", "21.0.10_7-jdk", "patch", "21.0.4_7-jdk -> 21.0.10_7-jdk (patch)",
         ("newer 26.0.2_10-jdk outside allow ^21", "newer 21.0.12_8-jdk lacks linux/riscv64")),
        ("eclipse-temurin:8u412-b08-jre", "platforms: current", "8u492-b09-jre", "minor", "8u412-b08-jre -> 8u492-b09-jre (minor)",
         ("newer 8u502-b07-jre lacks linux/arm/v7",)),
        ("traefik:v3.1.2", "", "v3.7.11", "minor", "v3.1.2 -> v3.7.11 (minor)", ()),
        ("traefik:3.1.2", "", "3.7.11", "minor", "3.1.2 -> 3.7.11 (minor)", ()),
        ("ubuntu:jammy-20240227", "", "jammy-20260810", "patch", "jammy-20240227 -> jammy-20260810 (patch)", ()),
        ("alpine:3.19", "", "3.24", "minor", "3.19 -> 3.24 (minor)", ()),
        ("alpine:3.24.1", "", None, None, "already newest", ()),
        ("redis:7.2.5", "allow: ~7.2\nplatforms: current", "7.2.14", "patch", "7.2.5 -> 7.2.14 (patch)",
         ("newer 8.10.1 outside allow ~7.2", "newer 7.2.16 lacks linux/arm/v5, linux/mips64le, linux/s390x")),
        ("prom/prometheus:v3.5.0", "update_types: [patch]", "v3.5.5", "patch", "v3.5.0 -> v3.5.5 (patch)",
         ("newer v3.14.0 a minor update, not in update_types",)),
        ("nginx:1.27.3", "enabled: false", None, None, "disabled by config", ()),
        ("nginx:latest", "", None, None, "latest is a floating tag", ()),
        ("acmecorp/edge-relay:sha-f6037b5", "", None, None, "sha-f6037b5 is a floating tag", ()),
    ],
)
def test_decisions_on_real_tag_lists(text, config, to_tag, kind, reason, held_back):
    decision = run(text, config)
    update = decision.update
    assert (update.to_tag if update else None, update.update_type if update else None) == (to_tag, kind)
    assert decision.reason == reason
    assert decision.held_back == held_back
    if update:
        chosen = next(t for t in tags_of(parse_ref(text).repository) if t.name == to_tag)
        assert (update.size, update.last_updated, update.to_digest) == (chosen.size, chosen.last_updated, None)


def test_a_pinned_digest_follows_the_chosen_tag():
    update = run(f"nginx:1.27.3-alpine@{OLD}").update
    assert (update.from_digest, update.to_tag, update.to_digest) == (OLD, "1.31.4-alpine", digest_of("library/nginx", "1.31.4-alpine"))


def test_digest_update_when_the_tag_stays():
    decision = run(f"nginx:1.31.4-alpine@{OLD}")
    assert (decision.update.update_type, decision.update.to_tag) == ("digest", "1.31.4-alpine")
    assert decision.update.to_digest == digest_of("library/nginx", "1.31.4-alpine")
    assert decision.reason == "1.31.4-alpine has a new digest"


def test_digest_churn_waits_for_the_settle_time():
    # nginx 1.31.4-alpine was last pushed 2.4 days before NOW.
    assert run(f"nginx:1.31.4-alpine@{OLD}", "digest_settle: 2d").update is not None
    decision = run(f"nginx:1.31.4-alpine@{OLD}", "digest_settle: 3d")
    assert decision.update is None
    assert decision.held_back == (
        "the digest of 1.31.4-alpine changed within digest_settle 3d; waiting for rebuilds to settle",
    )


def test_digest_updates_can_be_turned_off():
    decision = run(f"nginx:1.31.4-alpine@{OLD}", "update_types: [major, minor, patch]")
    assert decision.update is None
    assert decision.reason == "already newest; the digest of 1.31.4-alpine changed, but digest is not in update_types"


def test_a_digest_only_reference_follows_latest():
    update = run(f"nginx@{OLD}").update
    assert (update.from_tag, update.to_tag, update.update_type) == (None, None, "digest")
    assert update.to_digest == digest_of("library/nginx", "latest")


def test_pin_adds_the_digest_of_the_current_tag():
    for config in ("pin_digests: true", "update_types: [pin]"):
        update = run("nginx:1.31.4-alpine", config).update
        assert (update.update_type, update.to_tag, update.to_digest) == (
            "pin", "1.31.4-alpine", digest_of("library/nginx", "1.31.4-alpine"),
        )
    assert run("nginx:1.31.4-alpine").update is None  # no pins unless asked


def test_pin_with_a_bump_carries_the_new_digest():
    update = run("nginx:1.27.3-alpine", "pin_digests: true").update
    assert (update.update_type, update.to_digest) == ("minor", digest_of("library/nginx", "1.31.4-alpine"))


def test_the_references_own_platform_is_required():
    assert run("node:22.1.0-alpine", "platforms: [linux/amd64]").update.to_tag == "26.7.0-alpine"
    decision = run("node:22.1.0-alpine", "platforms: [linux/amd64]", platform="linux/s390x")
    assert decision.update.to_tag == "25.9.0-alpine"
    assert decision.held_back == ("newer 26.7.0-alpine lacks linux/s390x",)


def test_auto_requires_amd64_and_arm64_of_the_current_tag_and_shows_what_is_dropped():
    decision = run("node:20.10.0-alpine3.18", "follow_suffix: true")
    assert decision.platforms_required == {"linux/amd64", "linux/arm64/v8"}
    assert decision.platforms_from == "default: amd64 and arm64 of the current tag 20.10.0-alpine3.18"
    assert decision.update.to_tag == "26.7.0-alpine3.24"
    assert decision.update.platforms_dropped == {"linux/arm/v6", "linux/arm/v7", "linux/ppc64le", "linux/s390x"}
    assert decision.held_back == ()


def test_auto_never_drops_amd64_or_arm64():
    # 21.0.12_8 lacks riscv64 only, and is taken; the newest 21 of all lacks nothing required.
    decision = run("eclipse-temurin:21.0.4_7-jdk", "allow: '^21'")
    assert decision.update.to_tag == "21.0.12_8-jdk"
    assert decision.update.platforms_dropped == {"linux/riscv64"}
    lacking_arm = tuple(replace(t, platforms=t.platforms - {"linux/arm64/v8", "linux/arm64"})
                        if t.name == "21.0.12_8-jdk" else t for t in tags_of("library/eclipse-temurin"))
    held = decide(parse_ref("eclipse-temurin:21.0.4_7-jdk"), lacking_arm,
                  parse_config("allow: '^21'", name="t.yaml").defaults, now=NOW)
    assert held.update.to_tag == "21.0.11_10-jdk"
    assert held.held_back == ("newer 26.0.2_10-jdk outside allow ^21", "newer 21.0.12_8-jdk lacks linux/arm64")


def test_auto_requires_what_the_repository_declares_among_the_current_tags_platforms():
    declared = (DeclaredPlatform(".github/workflows/release.yml", 18, "linux/amd64"),
                DeclaredPlatform(".github/workflows/release.yml", 18, "linux/s390x"),
                DeclaredPlatform("docker-bake.hcl", 3, "linux/riscv64"))  # node 20 has no riscv64: not required
    decision = run("node:20.10.0-alpine3.18", "follow_suffix: true", declared=declared)
    assert decision.platforms_required == {"linux/amd64", "linux/s390x"}
    assert decision.platforms_from == (
        "the repository builds for linux/amd64, linux/riscv64, linux/s390x "
        "(.github/workflows/release.yml:18, docker-bake.hcl:3)"
    )
    assert decision.update.to_tag == "25.9.0-alpine3.23"  # 26 dropped s390x
    assert decision.held_back[-1] == "newer 26.7.0-alpine3.24 lacks linux/s390x"


def test_a_references_own_platform_wins_over_the_repositorys():
    declared = (DeclaredPlatform("Dockerfile", 1, "linux/s390x"),)
    decision = run("node:20.10.0-alpine3.18", "follow_suffix: true", declared=declared, platform="linux/arm64")
    assert decision.platforms_required == {"linux/arm64/v8"}
    assert decision.platforms_from == "the reference's own platform linux/arm64"
    assert decision.update.to_tag == "26.7.0-alpine3.24"


def test_current_requires_every_platform_of_the_current_tag():
    decision = run("nginx:1.27.3-alpine", "platforms: current")
    assert decision.platforms_from == "every platform of the current tag 1.27.3-alpine (platforms: current)"
    assert "linux/s390x" in decision.platforms_required
    assert decision.update.platforms_dropped == frozenset()


def test_an_explicit_list_is_required_as_written():
    decision = run("nginx:1.27", "platforms: [linux/amd64]")
    assert (decision.platforms_required, decision.platforms_from) == ({"linux/amd64"}, "config: platforms")
    assert decision.update.platforms_dropped == {"linux/mips64le"}  # shown, though not required


def test_an_unlisted_current_tag_requires_nothing_and_says_so():
    decision = run("nginx:1.27.99")
    assert decision.platforms_from == "none: the current tag is not listed, so its platforms are unknown"


def test_only_the_newest_100_tags_searched_is_said():
    ref = parse_ref("nginx:1.10.0")
    newest = tags_of("library/nginx")[:100]
    decision = decide(ref, newest, Settings(), now=NOW, complete=False)
    assert decision.held_back[0] == "1.10.0 is not among the newest 100 tags; only those were searched"
    ref = parse_ref("nginx:1.28.0-alpine3.23-slim")  # 1.28.1-alpine3.23-slim exists, further down the list
    decision = decide(ref, newest, Settings(), now=NOW, complete=False)
    assert decision.update is None
    assert decision.held_back == (
        "1.28.0-alpine3.23-slim is not among the newest 100 tags; only those were searched",
        "1.31.4 exists only as -alpine3.24-slim",
        "no tag shaped like 1.28.0-alpine3.23-slim among the newest 100 tags; only those were searched",
    )


def test_verdicts_explain_every_newer_candidate():
    verdicts = run("postgres:16.4", "allow: '^16'\nplatforms: [linux/amd64, linux/arm64]").verdicts
    by_tag = {v.tag: (v.check, v.detail) for v in verdicts}
    assert by_tag["18.6"] == ("allow", "outside allow ^16")
    assert by_tag["16.15"] == (None, "a minor update")
    assert by_tag["16.15-alpine"][0] == "suffix"
    assert by_tag["18rc1"][0] == "shape"
    assert by_tag["17.0"][0] == "allow"
    assert all(parse_tag(v.tag) is not None for v in verdicts)


def tag(name: str, platforms: set[str], digest: str | None = "sha256:" + "1" * 64, age: timedelta = timedelta(days=30)):
    return Tag(name=name, digest=digest, platforms=frozenset(platforms), size=1, last_updated=NOW - age)


def test_attestations_are_not_platforms():
    tags = [tag("1.1", {"linux/amd64", "linux/arm64/v8"}), tag("1.0", {"linux/amd64", "linux/arm64", "unknown/unknown"})]
    assert decide(parse_ref("a:1.0"), tags, Settings(), now=NOW).update.to_tag == "1.1"


def test_a_pinned_reference_never_loses_its_digest():
    tags = [tag("1.1", {"linux/amd64"}, digest=None), tag("1.0", {"linux/amd64"})]
    decision = decide(parse_ref(f"a:1.0@{OLD}"), tags, Settings(), now=NOW)
    assert decision.update.update_type == "digest"
    assert decision.held_back == ("newer 1.1 no digest listed to pin",)


def test_an_older_suffix_version_is_never_taken():
    tags = [tag("2.0-alpine3.17", {"linux/amd64"}), tag("1.0-alpine3.18", {"linux/amd64"})]
    decision = decide(parse_ref("a:1.0-alpine3.18"), tags, Settings(follow_suffix=True), now=NOW)
    assert decision.update is None
    assert decision.verdicts[0].detail == "suffix -alpine3.17 is older than -alpine3.18"


def test_among_equal_versions_the_newest_suffix_wins():
    tags = [tag(name, {"linux/amd64"}) for name in ("1.1-alpine3.19", "1.1-alpine3.21", "1.1-alpine3.20", "1.0-alpine3.18")]
    decision = decide(parse_ref("a:1.0-alpine3.18"), tags, Settings(follow_suffix=True), now=NOW)
    assert decision.update.to_tag == "1.1-alpine3.21"


def test_unknown_age_never_passes_min_age():
    tags = [Tag("1.1", platforms=frozenset({"linux/amd64"})), tag("1.0", {"linux/amd64"})]
    decision = decide(parse_ref("a:1.0"), tags, Settings(min_age=timedelta(days=1)), now=NOW)
    assert decision.update is None


# Decisions never propose an incompatible or an older tag, whatever the list and the rules.
NAMES = st.sampled_from(
    ["1.0", "1.1", "1.2", "2.0", "1.0.1", "1.1.0", "1.1-alpine", "1.2-alpine3.19", "1.2-alpine3.20", "1.0-alpine3.19",
     "v1.3", "1.3rc1", "1.2-rc.2", "latest", "20240101", "20250101", "1.1_2", "1.1_3", "2.0-slim"]
)
PLATFORMS = st.sets(st.sampled_from(["linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/arm/v7", "unknown/unknown"]))
TAG_LISTS = st.lists(
    st.builds(tag, NAMES, PLATFORMS, st.sampled_from(["sha256:" + "1" * 64, "sha256:" + "2" * 64, None]),
              st.sampled_from([timedelta(hours=1), timedelta(days=10)])),
    unique_by=lambda t: t.name, max_size=12,
)
SETTINGS = st.builds(
    Settings, follow_suffix=st.booleans(), allow_prerelease=st.booleans(), pin_digests=st.booleans(),
    min_age=st.sampled_from([timedelta(0), timedelta(days=1)]),
    update_types=st.sampled_from([frozenset({"major", "minor", "patch", "digest"}), frozenset({"patch"})]),
)


@settings(max_examples=500)
@given(st.data(), st.booleans(), TAG_LISTS, SETTINGS)
def test_never_an_incompatible_or_older_tag(data, pinned, tags, rules):
    # Mostly a tag from the list, as in real use; sometimes one the list lacks.
    listed = [t.name for t in tags]
    current_name = data.draw(st.sampled_from(listed) if listed and data.draw(st.booleans()) else NAMES)
    ref = parse_ref(f"a:{current_name}" + (f"@{OLD}" if pinned else ""))
    decision = decide(ref, tags, rules, now=NOW)
    update = decision.update
    if update is None or update.to_tag == ref.tag:
        return
    current, chosen = parse_tag(current_name), parse_tag(update.to_tag)
    assert current is not None and chosen is not None
    assert compatible(current, chosen, follow_suffix=rules.follow_suffix)
    assert order_key(chosen) > order_key(current)
    assert update.update_type in rules.update_types
    if pinned:
        assert update.to_digest is not None


def test_no_held_back_note_contradicts_the_decision():
    def tag(name: str) -> Tag:
        return Tag(name, "sha256:" + "1" * 64, ARM, 1, NOW - timedelta(days=30))

    # 1.1 exists as -alpine3.21, and also in the current suffix: it is proposed, not held back.
    tags = [tag("1.1-alpine3.21"), tag("1.1-alpine3.20"), tag("1.0-alpine3.20")]
    decision = decide(parse_ref("x:1.0-alpine3.20"), tags, Settings(), now=NOW)
    assert (decision.update.to_tag, decision.held_back) == ("1.1-alpine3.20", ())
    # A floating tag has no newer version to miss, whether or not the window lists it.
    decision = decide(parse_ref("x:latest"), tags, Settings(), now=NOW, complete=False)
    assert (decision.update, decision.reason, decision.held_back) == (None, "latest is a floating tag", ())


@pytest.mark.parametrize(
    ("text", "major", "non_major", "kind"),
    [
        ("postgres:16.14", "18.6", "16.15", "minor"),
        ("redis:7.4.10-alpine", "8.10.1-alpine", "7.4.11-alpine", "patch"),
        ("postgres:18.5", None, None, None),  # the newest is not a major: nothing beside it
    ],
)
def test_beside_a_major_update_the_newest_non_major_one(text, major, non_major, kind):
    """A postgres major is a data migration teams postpone; its patches must not wait with it."""
    ref = parse_ref(text)
    decision = decide(ref, load_tags(ref.repository), Settings(), now=NOW)
    assert decision.update is not None
    if major is None:
        assert decision.update.update_type != "major" and decision.non_major is None
        return
    assert (decision.update.to_tag, decision.update.update_type) == (major, "major")
    assert decision.non_major is not None
    assert (decision.non_major.to_tag, decision.non_major.update_type) == (non_major, kind)


# --- what a decision waits on, for sources that list names only (registries) ---------------------

def bare(*names: str) -> list[Tag]:
    return [Tag(name, described=False) for name in names]


def described(tags: list[Tag], name: str, platforms: frozenset[str] = ARM, digest: str = OLD) -> list[Tag]:
    return [Tag(t.name, digest, platforms, last_updated=NOW - timedelta(days=30)) if t.name == name else t for t in tags]


def test_a_decision_waits_on_its_best_candidate_only_and_not_on_the_current_tag_when_it_has_amd64_and_arm64():
    tags = bare("2.1.0", "2.0.0", "1.3.0", "1.2.0")
    decision = decide(parse_ref("acme/app:1.2.0"), tags, Settings(), now=NOW)
    assert (decision.update, decision.needs) == (None, ("2.1.0",))
    decision = decide(parse_ref("acme/app:1.2.0"), described(tags, "2.1.0"), Settings(), now=NOW)
    assert decision.update is not None and decision.update.to_tag == "2.1.0"
    assert decision.needs == ()
    # Offered apart, the newest non-major (and the newest patch beside it) is waited on as well.
    assert (decision.needs_non_major, decision.needs_patch) == (("1.3.0",), ())


def test_a_best_candidate_lacking_arm64_waits_on_the_current_tag_under_auto():
    tags = described(bare("1.3.0", "1.2.0"), "1.3.0", frozenset({"linux/amd64"}))
    decision = decide(parse_ref("acme/app:1.2.0"), tags, Settings(), now=NOW)
    assert (decision.update, decision.needs) == (None, ("1.2.0",))
    amd_only = decide(parse_ref("acme/app:1.2.0"), described(tags, "1.2.0", frozenset({"linux/amd64"})), Settings(), now=NOW)
    assert amd_only.update is not None and amd_only.update.to_tag == "1.3.0"  # the current had no arm64 to lose
    with_arm = decide(parse_ref("acme/app:1.2.0"), described(tags, "1.2.0"), Settings(), now=NOW)
    assert with_arm.update is None and with_arm.held_back == ("newer 1.3.0 lacks linux/arm64",)


def test_a_declared_platform_list_never_waits_on_the_current_tag():
    tags = described(bare("1.3.0", "1.2.0"), "1.3.0", frozenset({"linux/amd64"}))
    settings = parse_config("platforms: [linux/amd64]\n", name="t.yaml").defaults
    decision = decide(parse_ref("acme/app:1.2.0"), tags, settings, now=NOW)
    assert decision.update is not None and decision.update.to_tag == "1.3.0" and decision.needs == ()


def test_platforms_current_waits_on_the_current_tag_whatever_the_candidate_has():
    tags = described(bare("1.3.0", "1.2.0"), "1.3.0")
    settings = parse_config("platforms: current\n", name="t.yaml").defaults
    assert decide(parse_ref("acme/app:1.2.0"), tags, settings, now=NOW).needs == ("1.2.0",)
    s390x = ARM | {"linux/s390x"}
    held = decide(parse_ref("acme/app:1.2.0"), described(tags, "1.2.0", s390x), settings, now=NOW)
    assert held.update is None and held.held_back == ("newer 1.3.0 lacks linux/s390x",)


def test_a_pinned_reference_with_nothing_newer_waits_on_its_current_digest():
    decision = decide(parse_ref(f"acme/app:1.2.0@{OLD}"), bare("1.2.0", "1.1.0"), Settings(), now=NOW)
    assert decision.needs == ("1.2.0",)
    assert decide(parse_ref("acme/app:1.2.0"), bare("1.2.0", "1.1.0"), Settings(), now=NOW).needs == ()
    assert decide(parse_ref(f"acme/app:latest@{OLD}"), bare("latest", "1.2.0"), Settings(), now=NOW).needs == ("latest",)


def test_nothing_older_is_taken_while_a_newer_candidate_was_not_looked_at():
    # 1.3.0 never described (its rounds ran out), 1.2.1 described for another reference.
    tags = described(bare("1.3.0", "1.2.1", "1.2.0"), "1.2.1")
    decision = decide(parse_ref("acme/app:1.2.0"), tags, Settings(), now=NOW)
    assert (decision.update, decision.needs) == (None, ("1.3.0",))
    assert decision.held_back[0] == "1.3.0 was not looked at, so nothing older is proposed"
