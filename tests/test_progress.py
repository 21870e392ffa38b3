from __future__ import annotations

import io

from tagbot import progress
from tagbot.progress import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_when_stderr_is_not_a_terminal(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    stream = io.StringIO()
    bar = ProgressBar(stream)
    bar(1, 2)
    bar.close()
    assert stream.getvalue() == ""


def test_quiet_for_runs_shorter_than_a_second():
    now = [10.0]
    stream = Terminal()
    bar = ProgressBar(stream, clock=lambda: now[0])
    now[0] += 0.99
    bar(1, 2)
    assert stream.getvalue() == ""
    now[0] += 0.01
    bar(2, 2)
    bar.close()
    assert stream.getvalue().startswith("\rlooking up images [")


def test_drawn_and_cleared_on_a_terminal(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    stream = Terminal()
    bar = ProgressBar(stream, label="looking up images")
    bar(1, 4)
    bar(4, 4)
    bar.close()
    assert stream.getvalue() == (
        "\rlooking up images [" + "#" * 7 + "." * 23 + "] 1/4"
        "\rlooking up images [" + "#" * 30 + "] 4/4"
        "\r\033[K"
    )
