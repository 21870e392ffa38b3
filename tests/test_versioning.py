from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tagbot.versioning import RangeError, compatible, order_key, parse_range, parse_tag, update_type


@pytest.mark.parametrize(
    ("tag", "prefix", "numbers", "build", "pre", "suffix"),
    [
        ("1.27", "", (1, 27), None, None, ""),
        ("1", "", (1,), None, None, ""),
        ("1.2.3.4", "", (1, 2, 3, 4), None, None, ""),
        ("v3.7.11", "v", (3, 7, 11), None, None, ""),
        ("1.27.3-alpine", "", (1, 27, 3), None, None, "alpine"),
        ("20.10.0-alpine3.20", "", (20, 10, 0), None, None, "alpine3.20"),
        ("3.12-slim-bookworm", "", (3, 12), None, None, "slim-bookworm"),
        ("21.0.12_8-jdk", "", (21, 0, 12), 8, None, "jdk"),
        ("21-jdk-jammy", "", (21,), None, None, "jdk-jammy"),
        ("17.6.0-debian-12-r3", "", (17, 6, 0), 3, None, "debian-12"),
        ("17.6.0-r3", "", (17, 6, 0), 3, None, ""),
        ("8u502-b07-jre", "", (8, 502), 7, None, "jre"),
        ("3.15.0rc1", "", (3, 15, 0), None, (4, 1), ""),
        ("3.15-rc", "", (3, 15), None, (4, 0), ""),
        ("1.2.3-rc.1", "", (1, 2, 3), None, (4, 1), ""),
        ("18beta1", "", (18,), None, (2, 1), ""),
        ("3.14.0a2", "", (3, 14, 0), None, (1, 2), ""),
        ("3.14.0b1-slim", "", (3, 14, 0), None, (2, 1), "slim"),
        ("8.10-rc2-alpine3.23", "", (8, 10), None, (4, 2), "alpine3.23"),
        ("v3.7.0-ea.2-nanoserver-ltsc2022", "v", (3, 7, 0), None, (1, 2), "nanoserver-ltsc2022"),
        ("1.0-alpha", "", (1, 0), None, (1, 0), ""),
        ("2.0-dev", "", (2, 0), None, (0, 0), ""),
        ("1.0-preview", "", (1, 0), None, None, "preview"),
        ("noble-20260810", "noble-", (20260810,), None, None, ""),
        ("jammy-20260731.1", "jammy-", (20260731,), 1, None, ""),
        ("tip-20250524-bullseye", "tip-", (20250524,), None, None, "bullseye"),
        ("20260805", "", (20260805,), None, None, ""),
        ("2024.11.18", "", (2024, 11, 18), None, None, ""),
    ],
)
def test_tag_anatomy(tag, prefix, numbers, build, pre, suffix):
    version = parse_tag(tag)
    assert version is not None
    assert (version.prefix, version.numbers, version.build, version.pre, version.suffix) == (
        prefix, numbers, build, pre, suffix,
    )


@pytest.mark.parametrize(
    "tag",
    ["latest", "stable", "mainline", "lts", "bookworm", "noble", "edge", "sha-1a2b3c", "alpine3.23", "jod-alpine",
     "lts-alpine3.23", "rc-alpine3.12", "1.2.3.4.5", "1a2b3c4", "windowsservercore-ltsc2022", "main", ""],
)
def test_floating_tags_have_no_version(tag):
    assert parse_tag(tag) is None


@pytest.mark.parametrize(
    ("tag", "date"),
    [("20241118", True), ("noble-20241118", True), ("2024.11.18", True), ("2024.1", False), ("2024.13.1", False),
     ("1.27", False)],
)
def test_date_tags(tag, date):
    assert parse_tag(tag).is_date is date


@pytest.mark.parametrize(
    "ascending",
    [
        ["1.2", "1.10", "2.0"],
        ["3.14.0a1", "3.14.0b2", "3.14.0rc1", "3.14.0rc2", "3.14.0", "3.14.1"],
        ["2.0-dev", "2.0-alpha", "2.0-beta", "2.0-rc", "2.0"],
        ["21.0.5_9-jdk", "21.0.5_11-jdk", "21.0.6_7-jdk"],
        ["17.6.0-debian-12-r3", "17.6.0-debian-12-r12", "17.7.0-debian-12-r0"],
        ["8u412-b08-jre", "8u492-b09-jre", "8u502-b07-jre"],
        ["noble-20240407", "noble-20240407.1", "noble-20250101"],
        ["2023.12.31", "2024.1.15", "2024.11.18"],
    ],
)
def test_order(ascending):
    versions = [parse_tag(tag) for tag in ascending]
    assert sorted(versions, key=order_key) == versions


@pytest.mark.parametrize(
    ("current", "candidate", "follow_suffix", "expected"),
    [
        ("1.27", "1.28", False, True),
        ("1.27", "1.28.0", False, False),
        ("1", "2", False, True),
        ("1.27-alpine", "1.28-alpine", False, True),
        ("1.27-alpine", "1.28", False, False),
        ("1.27-alpine", "1.28-alpine-slim", False, False),
        ("v1.2", "1.3", False, False),
        ("20.10.0-alpine3.18", "20.18.1-alpine3.21", False, False),
        ("20.10.0-alpine3.18", "20.18.1-alpine3.21", True, True),
        ("20.10.0-alpine3.18", "20.18.1-alpine3.17", True, False),
        ("20.10.0-alpine3.18", "20.18.1-slim", True, False),
        ("3.12-slim-bookworm", "3.13-slim-trixie", True, False),
        ("21.0.5_11-jdk", "21.0.6-jdk", False, False),
        ("17.2.0-debian-12-r3", "17.3.0-debian-12-r0", False, True),
        ("17.2.0-debian-12-r3", "17.3.0-debian-13-r0", True, True),
        ("noble-20241118", "jammy-20250101", False, False),
        ("20241118", "3", False, False),
        ("3.14.0rc1", "3.14.0", False, True),
    ],
)
def test_compatibility(current, candidate, follow_suffix, expected):
    assert compatible(parse_tag(current), parse_tag(candidate), follow_suffix=follow_suffix) is expected


@pytest.mark.parametrize(
    ("current", "candidate", "kind"),
    [
        ("1.27.3", "2.0.0", "major"),
        ("1.27.3", "1.28.0", "minor"),
        ("1.27.3", "1.27.4", "patch"),
        ("1.2.3.4", "1.2.3.5", "patch"),
        ("1.27", "1.28", "minor"),
        ("1.27", "2.0", "major"),
        ("1", "2", "major"),
        ("21.0.5_9-jdk", "21.0.5_11-jdk", "patch"),
        ("3.14.0rc1", "3.14.0", "patch"),
        ("noble-20240407", "noble-20250101", "patch"),
        ("20.10.0-alpine3.18", "20.10.0-alpine3.21", "patch"),
    ],
)
def test_update_type(current, candidate, kind):
    assert update_type(parse_tag(current), parse_tag(candidate)) == kind


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("^1.25", [(1, 25), (1, 25, 0), (1, 99, 9)], [(1, 24, 9), (2, 0)]),
        ("^0.3", [(0, 3, 1)], [(0, 4), (0, 2)]),
        ("^0.0.3", [(0, 0, 3)], [(0, 0, 4)]),
        ("~1.27", [(1, 27), (1, 27, 9)], [(1, 28), (1, 26)]),
        ("~1", [(1, 9)], [(2,)]),
        ("~1.2.3", [(1, 2, 3), (1, 2, 9)], [(1, 3, 0), (1, 2, 2)]),
        ("1.x", [(1,), (1, 99)], [(2, 0)]),
        ("1.27.*", [(1, 27, 5)], [(1, 28)]),
        ("1.27", [(1, 27, 5)], [(1, 28)]),
        (">=1.25 <2", [(1, 25), (1, 99)], [(1, 24), (2,)]),
        (">=1.25,<2", [(1, 30)], [(2, 0, 1)]),
        (">= 1.25, < 2", [(1, 30)], [(2,)]),
        ("=1.2.3", [(1, 2, 3)], [(1, 2, 4)]),
        ("<2 || >=3", [(1, 9), (3, 0)], [(2, 5)]),
        ("^16 || ^17", [(16, 4), (17, 0)], [(18, 0), (15, 9)]),
        ("*", [(0,), (99, 1)], []),
        ("v1.x", [(1, 2)], [(2, 0)]),
    ],
)
def test_ranges(text, inside, outside):
    allowed = parse_range(text)
    assert all(numbers in allowed for numbers in inside)
    assert not any(numbers in allowed for numbers in outside)


@pytest.mark.parametrize("text", ["", "abc", "1.x.2", ">=1.x", "||", "^", ">=", "1 ||"])
def test_bad_ranges(text):
    with pytest.raises(RangeError):
        parse_range(text)


# Tag-shaped text: hypothesis explores the grammar's corners, not just random noise.
_PIECES = st.sampled_from(["", "v", "1", "2", "10", "0", ".", "-", "_", "rc", "beta", "a", "b", "alpine", "3.20",
                           "slim", "debian-12", "-r", "u", "-b0", "2024", "1118", "noble-", "20241118"])
TAGS = st.lists(_PIECES, min_size=1, max_size=8).map("".join)


@given(st.lists(TAGS, min_size=1, max_size=12))
def test_order_is_total_and_consistent_with_compatibility(tags):
    versions = [v for v in map(parse_tag, tags) if v is not None]
    ordered = sorted(versions, key=order_key)
    for low, high in zip(ordered, ordered[1:]):
        assert order_key(low) <= order_key(high)
        if low.tag != high.tag:
            assert order_key(low) != order_key(high)  # distinct tags never tie
    for a in versions:
        assert compatible(a, a)
        for b in versions:
            assert compatible(a, b) == compatible(b, a)  # without follow_suffix: an equivalence
            for c in versions:
                if compatible(a, b) and compatible(b, c):
                    assert compatible(a, c)


@given(TAGS)
def test_parsing_never_crashes_and_round_trips(tag):
    version = parse_tag(tag)
    if version is not None:
        assert version.tag == tag
        assert 1 <= len(version.numbers) <= 4
        assert tag.endswith(version.suffix) or version.build is not None
