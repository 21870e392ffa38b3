"""What a scheduled run leaves in the GitHub Actions UI: a Markdown step summary, `::warning`
annotations on the lines whose images could not be looked up, and the step's outputs
(`pull-requests`, `updates`, `errors`). Plain text from the run's data; the CLI writes it where
the runner's environment says (`$GITHUB_STEP_SUMMARY`, `$GITHUB_OUTPUT`, stdout)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from tagbot.errors import printable
from tagbot.model import Action, Plan
from tagbot.report import knowledge_lines

_DONE = ("open", "update", "merge", "close")


def step_summary(actions: Sequence[Action], plan: Plan) -> str:
    lines = ["## tagbot", ""]
    counts = {kind: sum(a.kind == kind for a in actions) for kind in ("open", "update", "merge", "close", "unchanged", "skip", "failed")}
    lines.append(", ".join(f"{n} {kind}" for kind, n in counts.items() if n) or "no pull requests to open, update or close")
    if actions:
        lines += ["", "| Action | Pull request | Branch | Note |", "|---|---|---|---|"]
        for action in actions:
            pull = f"[{_cell(action.title)}]({action.url})" if action.url else _cell(action.title)
            lines.append(f"| {action.kind} | {pull} | `{action.branch}` | {_cell(action.note)} |")
    if plan.held_back:
        lines += ["", "<details><summary>Held back</summary>", ""]
        lines += [f"- `{h.reference.file}:{h.reference.line}` {_cell(h.reference.found.text)}: {_cell(h.reason)}"
                  for h in plan.held_back]
        lines += ["", "</details>"]
    if plan.life:
        lines += ["", "### End of life", ""]
        lines += [f"- `{_cell(w.reference.file)}:{w.reference.line}` {_cell(w.message)}" for w in plan.life]
    knowledge = knowledge_lines(plan)
    if knowledge:
        lines += [""] + [_cell(line) for line in knowledge]
    problems = [str(e) for e in plan.scan_errors] + [f.text for f in plan.errors]
    if problems:
        lines += ["", "### Errors", ""] + [f"- {_cell(p)}" for p in problems]
    return "\n".join(lines) + "\n"


def warning_annotations(plan: Plan) -> list[str]:
    """`::warning` lines: one per reference whose image could not be looked up, placed on its
    line, and one per file that could not be read."""
    failed = {f.subject: f for f in plan.errors}
    lines = []
    for reference in plan.references:
        image = reference.found.image
        if image is not None and image.name in failed:
            lines.append(_warning(failed[image.name].text, reference.file, reference.line))
    lines += [_warning(error.problem, error.file, error.line) for error in plan.scan_errors]
    return lines


def outputs(actions: Sequence[Action], plan: Plan) -> dict[str, str]:
    pulls = sorted({a.url for a in actions if a.url and a.kind in (*_DONE, "unchanged")})
    return {
        "pull-requests": json.dumps(pulls),
        "updates": str(len(plan.updates)),
        "errors": str(len(plan.errors) + len(plan.scan_errors) + sum(a.kind == "failed" for a in actions)),
    }


def _warning(message: str, file: str, line: int | None) -> str:
    where = f"file={_property(file)}" + (f",line={line}" if line else "")
    return f"::warning {where}::{_data(message)}"


def _data(text: str) -> str:
    """A workflow command's message: `%`, CR and LF escaped as the runner reads them."""
    return printable(text, limit=1000).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """A property (a file name) exactly as it is, so the annotation lands on that file: the
    runner unescapes `%25`, `%0D`, `%0A`, `%3A` and `%2C`."""
    return (text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A")
            .replace(",", "%2C"))


def _cell(text: str) -> str:
    """Text from anywhere (a check's name, a reason) as one table cell of the step summary:
    no HTML (`<!--` would hide the rest of it), no column break."""
    shown = printable(text, limit=300).replace("&", "&amp;").replace("<", "&lt;")
    return shown.replace("|", "\\|").replace("\n", " ")
