"""`schedule:` and `timezone:`: the hours new pull requests may open, read in local time across
time zones and DST changes, and every way of writing one wrong named in one line."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tagbot.config import parse_config
from tagbot.errors import ConfigError
from tagbot.schedule import parse_schedule


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(("texts", "zone", "instant", "allowed"), [
    (["before 6am on monday"], "Europe/Berlin", "2026-12-07T04:30Z", True),  # 05:30 in Berlin, winter
    (["before 6am on monday"], "Europe/Berlin", "2026-12-07T05:00Z", False),
    (["before 6am on monday"], "Europe/Berlin", "2026-12-06T23:30Z", True),  # Sunday in UTC, Monday there
    (["before 6am on monday"], "Europe/Berlin", "2026-06-01T03:30Z", True),  # 05:30 in summer is 03:30Z
    (["before 6am on monday"], "Europe/Berlin", "2026-06-01T04:30Z", False),
    (["every weekday"], "America/New_York", "2026-12-05T04:30Z", True),  # Friday 23:30 in New York
    (["every weekday"], "America/New_York", "2026-12-05T05:30Z", False),  # Saturday there too
    (["every weekend"], None, "2026-12-05T12:00Z", True),
    (["after 10pm and before 5am"], "Asia/Tokyo", "2026-12-02T14:00Z", True),  # 23:00 in Tokyo
    (["after 10pm and before 5am"], "Asia/Tokyo", "2026-12-02T21:00Z", False),  # 06:00
    (["on the first day of the month"], "UTC", "2026-12-01T23:59Z", True),
    (["on the first day of the month"], "UTC", "2026-12-02T00:00Z", False),
    (["on the last day of the month"], "UTC", "2027-02-28T10:00Z", True),
    (["* 0-5 * * 1-5"], "UTC", "2026-12-04T05:59Z", True),  # Friday; cron counts Sunday 0
    (["* 0-5 * * 1-5"], "UTC", "2026-12-06T03:00Z", False),  # Sunday
    (["* 9 1,15 * *"], "UTC", "2026-12-15T09:10Z", True),
    (["* * * * sun"], "UTC", "2026-12-06T09:10Z", True),
    (["before 6am on monday", "every weekend"], "UTC", "2026-12-05T12:00Z", True),  # any of them
    (["weekly on monday and friday after 6pm"], "UTC", "2026-12-04T19:00Z", True),
])
def test_a_schedule_allows_the_local_hours_it_names(texts: list[str], zone: str | None, instant: str, allowed: bool):
    assert parse_schedule(texts, zone).allows(at(instant)) is allowed


def test_the_hours_around_a_dst_change_are_the_clocks():
    early = parse_schedule(["before 6am"], "Europe/Berlin")
    # 29 March 2026, 01:00Z: clocks go from 02:00 to 03:00; 03:30Z is already 05:30 there.
    assert [early.allows(at(f"2026-03-29T0{h}:30Z")) for h in range(6)] == [True, True, True, True, False, False]
    # 25 October 2026, 01:00Z: 03:00 becomes 02:00 again; 04:30Z is 05:30 there.
    assert [early.allows(at(f"2026-10-25T0{h}:30Z")) for h in range(6)] == [True, True, True, True, True, False]


def test_the_next_opening_is_the_first_allowed_hour_in_local_time():
    schedule = parse_schedule(["before 6am on monday"], "Europe/Berlin")
    assert schedule.next_opening(at("2026-12-02T20:00Z")) == at("2026-12-06T23:00Z")  # Monday 00:00 in Berlin
    assert schedule.next_opening(at("2026-03-25T12:00Z")) == at("2026-03-29T22:00Z")  # Monday 00:00 CEST
    assert parse_schedule(["* * 31 2 *"]).next_opening(at("2026-12-02T20:00Z")) is None  # never


@pytest.mark.parametrize(("text", "message"), [
    ("schedule: on funday\n", "tagbot.yaml:1: schedule: 'on funday': cannot read 'on funday' (write, say, "
                              "\"before 6am on monday\", \"every weekday\", \"on the first day of the month\", "
                              "or cron \"* 0-5 * * 1-5\")"),
    ("schedule: before 6:30am\n", "tagbot.yaml:1: schedule: 'before 6:30am': 6:30am: a schedule is by the hour "
                                  "(runs are hours apart), write 6am"),
    ("schedule: '0 5 * * *'\n", "tagbot.yaml:1: schedule: '0 5 * * *': the minute field must be * (a schedule is "
                                "by the hour: runs are hours apart)"),
    ("schedule: '* 25 * * *'\n", "tagbot.yaml:1: schedule: '* 25 * * *': '25' is out of range (0-23)"),
    ("schedule: before 13pm\n", "tagbot.yaml:1: schedule: 'before 13pm': '13pm' is not a time"),
    ("schedule: every weekday on sunday\n", "tagbot.yaml:1: schedule: 'every weekday on sunday': no day is both"),
    ("timezone: Mars/Olympus\n", "tagbot.yaml:1: timezone: 'Mars/Olympus' is not an IANA time zone "
                                 "(Europe/Berlin, America/New_York, UTC)"),
    ("timezone: 3\n", "tagbot.yaml:1: timezone: expected an IANA time zone name, such as Europe/Berlin"),
])
def test_a_schedule_that_cannot_be_read_is_one_line_naming_the_setting(text: str, message: str):
    with pytest.raises(ConfigError) as raised:
        parse_config(text, name="tagbot.yaml")
    assert str(raised.value) == message


def test_a_config_without_a_schedule_allows_any_time():
    config = parse_config("timezone: Europe/Berlin\n", name="tagbot.yaml")
    assert config.run.schedule(config.defaults.pull.schedule).allows(datetime(2026, 12, 2, 3, tzinfo=timezone.utc))
    config = parse_config("schedule: [every weekend]\ntimezone: Pacific/Auckland\n", name="tagbot.yaml")
    weekend = config.run.schedule(config.defaults.pull.schedule)
    assert weekend.describe() == "every weekend (Pacific/Auckland)"
    assert weekend.allows(at("2026-12-04T12:00Z"))  # Saturday 01:00 in Auckland
