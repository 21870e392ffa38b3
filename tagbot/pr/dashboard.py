"""The dependency dashboard: one issue, rewritten by each run, that says what tagbot is doing
and why it is not doing more: open pull requests, updates waiting, updates held back, declined
versions (each with a box that un-declines it on the next run) and images it could not look
up. Stable for a stable run, so a run with nothing new leaves it untouched."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tagbot.model import Action, HeldBack, LifeWarning
from tagbot.pr.body import held_back_line, life_line
from tagbot.pr.markdown import plain
from tagbot.pr.state import DASHBOARD_MARK, Proposal, undecline_box

WAITING_FOR_SCHEDULE = "waiting for schedule"  # how a skipped group's detail starts when only the schedule holds it

_MOST = 100  # rows a section lists; an issue body holds 65,536 characters


def dashboard_body(actions: Sequence[Action], held_back: Sequence[HeldBack], declined: Mapping[Proposal, Any],
                   errors: Sequence[str], life: Sequence[LifeWarning] = ()) -> str:
    lines = [DASHBOARD_MARK, "tagbot rewrites this issue on every run: what it proposes, and why not more.", ""]
    open_pulls = sorted((a for a in actions if a.url and a.kind in ("open", "update", "unchanged")), key=lambda a: a.branch)
    waiting = sorted((a for a in actions if a.kind in ("skip", "failed") and "declined in" not in a.detail),
                     key=lambda a: a.branch)
    scheduled = [a for a in waiting if a.detail.startswith(WAITING_FOR_SCHEDULE)]
    waiting = [a for a in waiting if a not in scheduled]
    lines += _section("Open pull requests", [f"- [{a.title}]({a.url}) `{a.branch}`" for a in open_pulls])
    lines += _section("Waiting", [f"- {a.title} `{a.branch}`: {plain(a.detail)}" for a in waiting])
    if scheduled:  # only for a repository with a schedule: the rest never see the section
        whens = {a.branch: a.detail.removeprefix(WAITING_FOR_SCHEDULE).lstrip(": ") for a in scheduled}
        if len(set(whens.values())) == 1:
            lines += _section("Waiting for schedule", [f"- {a.title} `{a.branch}`" for a in scheduled],
                              f"Opened when the schedule allows: {plain(whens[scheduled[0].branch])}.")
        else:  # rules give groups schedules of their own
            lines += _section("Waiting for schedule", [f"- {a.title} `{a.branch}`: {plain(whens[a.branch])}"
                                                       for a in scheduled], "Opened when their schedules allow.")
    merging = sorted((a for a in actions if a.automerge), key=lambda a: a.branch)
    if merging:  # only for a repository with automerge: the rest never see the section
        lines += _section("Automerge", [f"- [{a.title}]({a.url}) `{a.branch}`: {plain(a.automerge)}" if a.url
                                        else f"- {a.title} `{a.branch}`: {plain(a.automerge)}" for a in merging],
                          "Pull requests whose updates all may merge themselves (automerge), and where each stands.")
    lines += _section("Held back", sorted({held_back_line(h) for h in held_back}))
    lines += _section("End of life", sorted({life_line(w) for w in life}),
                      "Release lines that ended or end soon (eol_warning), moved and deprecated images with no "
                      "replacement to propose, and images nothing was pushed to for abandoned_after.")
    boxes = [undecline_box(p, f"{p.short_image} `{p.version}` (closed without merging in #{pull.number})")
             for p, pull in sorted(declined.items(), key=lambda item: item[0])]
    lines += _section("Declined", boxes, "Tick a box and tagbot proposes that version again on its next run.")
    lines += _section("Errors", [f"- {plain(error)}" for error in sorted(errors)])
    return "\n".join(lines).rstrip("\n") + "\n"


def _section(title: str, rows: Sequence[str], intro: str = "") -> list[str]:
    if not rows:
        return [f"## {title}", "", "None.", ""]
    shown = list(rows[:_MOST]) + ([f"- and {len(rows) - _MOST} more"] if len(rows) > _MOST else [])
    return [f"## {title}", "", *([intro, ""] if intro else []), *shown, ""]

