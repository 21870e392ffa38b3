"""What a pull request tells later runs about itself, in a hidden comment at the end of its body:
the updates it proposes, the files they touch, and whether tagbot closed it. The pull request
carries it, so a change of grouping, a deleted branch or a lost cache forgets nothing; a pull
request a person closed without merging declines exactly the versions it proposed.

The rebase box is the one part of the body meant for people: ticking it asks for a rebuild.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tagbot.errors import InvalidReference
from tagbot.refs import parse_ref

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_STATE = re.compile(r"<!-- tagbot:state (\{.*?\}) -->", re.DOTALL)
REBASE_BOX = "- [ ] <!-- tagbot:rebase --> Rebase this pull request on its base branch (tick to ask)"
DASHBOARD_MARK = "<!-- tagbot:dashboard -->"
_UNDECLINE_TICKED = re.compile(r"^- \[[xX]\] <!-- tagbot:undecline (\S+) (\S+) -->", re.MULTILINE)
_REBASE_TICKED = re.compile(r"^- \[[xX]\] <!-- tagbot:rebase -->", re.MULTILINE)


@dataclass(frozen=True, order=True)
class Proposal:
    """One update a pull request proposes: the image (its full name) and the version it moves to."""

    image: str
    version: str  # as `short_version` writes it: `1.2.1`, `1.2.1@sha256:abcdef123456`

    @property
    def short_image(self) -> str:
        return short_image_name(self.image)


def short_image_name(name: str) -> str:
    """`postgres` for docker.io/library/postgres: the name as people write it; a name read back
    from a pull request that is no reference is shown as it is."""
    try:
        return parse_ref(name).short_name
    except InvalidReference:
        return name


@dataclass(frozen=True)
class State:
    proposals: tuple[Proposal, ...]
    files: tuple[str, ...] = ()
    closed_by_tagbot: bool = False
    undeclined: bool = False  # a person ticked its box on the dashboard: propose these again
    proposed_on: str = ""  # the day these versions were first proposed (ISO): ages are told as of then

    @property
    def declines(self) -> bool:
        """Whether, closed without merging, it declines its proposals."""
        return not (self.closed_by_tagbot or self.undeclined)

    @property
    def images(self) -> frozenset[str]:
        return frozenset(p.image for p in self.proposals)


def state_of(proposals: Iterable[Proposal], files: Iterable[str], *, proposed_on: str = "") -> State:
    return State(tuple(sorted(set(proposals))), tuple(sorted(set(files))), proposed_on=proposed_on)


def with_state(body: str, state: State) -> str:
    """`body` ending in `state` (replacing any it had)."""
    data = {"proposals": [[p.image, p.version] for p in state.proposals], "files": list(state.files)}
    if state.closed_by_tagbot:
        data["closed_by"] = "tagbot"
    if state.undeclined:
        data["undeclined"] = True
    if state.proposed_on:
        data["proposed_on"] = state.proposed_on
    comment = f"<!-- tagbot:state {json.dumps(data, separators=(',', ':'), sort_keys=True)} -->"
    return _STATE.sub("", body).rstrip("\n") + "\n\n" + comment + "\n"


def read_state(body: str | None) -> State | None:
    """The state a body carries, or None (a pull request of an older tagbot, or a body a person
    rewrote): whatever it holds is checked, never trusted to be well formed."""
    match = _STATE.search(body or "")
    if match is None:
        return None
    try:
        data = json.loads(match.group(1))
        proposals = tuple(Proposal(str(image), str(version)) for image, version in data["proposals"])
        files = tuple(str(f) for f in data.get("files", []))
    except (ValueError, KeyError, TypeError):
        return None
    proposed_on = data.get("proposed_on")
    return State(proposals, files, data.get("closed_by") == "tagbot", data.get("undeclined") is True,
                 proposed_on if isinstance(proposed_on, str) and _DATE.fullmatch(proposed_on) else "")


def undecline_box(proposal: Proposal, text: str) -> str:
    return f"- [ ] <!-- tagbot:undecline {proposal.image} {proposal.version} --> {text}"


def undeclines_requested(body: str | None) -> set[Proposal]:
    """The declined versions whose dashboard box a person ticked."""
    return {Proposal(image, version) for image, version in _UNDECLINE_TICKED.findall(body or "")}


def rebase_requested(body: str | None) -> bool:
    return bool(_REBASE_TICKED.search(body or ""))
