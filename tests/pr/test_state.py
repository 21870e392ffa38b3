"""A pull request's state and the dashboard's boxes, read from bodies anyone may have shaped: one
linear pass, bounded, never raising; and written so that nothing embedded can forge them."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from tagbot.pr.state import (
    MAX_BODY, Proposal, parse_state, read_state, rebase_requested, state_of, undecline_box, undeclines_requested,
    with_state,
)

TINY = Proposal("docker.io/acme/tiny", "1.2.1")
MARK = "<!-- tagbot:state "


def test_a_state_round_trips_with_hostile_file_names():
    files = ["a -->b/Dockerfile", "<!-- tagbot:state {} -->/Dockerfile", 'x"\\\n/Dockerfile']
    state = state_of([TINY], files, proposed_on="2026-12-01")
    body = with_state("Hello", state)
    assert read_state(body) == state
    assert body.count("<!--") == 1 and body.count("-->") == 1
    assert with_state(body, state) == body  # replacing the state keeps the rest as it was


def test_a_forged_mark_in_a_path_reads_as_no_state():
    forged = '<!-- tagbot:sta<!-- tagbot:state {} -->te {"proposals":[["docker.io/library/redis","8.0"]]} -->'
    assert read_state(f"`{forged}/Dockerfile`\n") is None
    assert parse_state(f"{MARK}{{}} --> and {MARK}{{}} -->")[1] == "the body holds more than one state mark"


def test_what_a_state_holds_is_checked_by_the_grammar():
    def body(proposals: str) -> str:
        return f'{MARK}{{"proposals":{proposals}}} -->'

    assert read_state(body('[["docker.io/acme/tiny","1.2.1@sha256:abcdef123456"]]')) is not None
    for bad in ('[["acme/tiny","1.2.1"]]',  # not a full name: a person wrote it
                '[["docker.io/acme/tiny","1.2.1 --> x"]]', '[["docker.io/acme/tiny",""]]',
                '[["docker.io/acme/tiny","1.2.1@md5:ab"]]', '[["docker.io/acme/tiny"]]', '[[1,2]]', '{}', '"x"'):
        state, problem = parse_state(body(bad))
        assert state is None and problem, bad


def test_deep_or_huge_bodies_are_a_problem_not_an_exception():
    deep = f'{MARK}{{"proposals":' + "[" * 1000 + "]" * 1000 + "} -->"
    assert parse_state(deep) == (None, "the state is nested more than 3 levels deep")
    assert parse_state("x" * (MAX_BODY + 1))[0] is None
    assert parse_state(f"{MARK}{{") == (None, "the state mark is not closed")
    assert parse_state(f"{MARK}{{not json}} -->") == (None, "the state is not JSON")


def test_a_body_of_repeated_marks_is_read_in_one_pass():
    body = ("<!-- tagbot:state {" * 4000)[:MAX_BODY]  # took 2.3 s to read and 3.8 s to rewrite
    started = time.perf_counter()
    assert read_state(body) is None
    with_state(body, state_of([TINY], []))
    assert time.perf_counter() - started < 1.0  # milliseconds now; the bound only catches a return of the quadratic


def test_dashboard_boxes_read_only_what_tagbot_writes():
    box = undecline_box(TINY, "acme/tiny `1.2.1`")
    assert undeclines_requested(box.replace("- [ ]", "- [x]")) == {TINY}
    assert undeclines_requested(box) == set()
    assert undeclines_requested("- [x] <!-- tagbot:undecline acme/tiny 1.2.1 --> short name") == set()
    assert undeclines_requested("- [x] <!-- tagbot:undecline docker.io/acme/tiny 1.2.1 x") == set()
    assert rebase_requested("text\n- [x] <!-- tagbot:rebase --> Rebase")
    assert not rebase_requested("text - [x] <!-- tagbot:rebase --> Rebase")


PIECES = st.sampled_from([MARK, " -->", "<!--", "{", "}", "[", "]", '"', "\\", ",", ":", "\n", "- [x] ",
                          "<!-- tagbot:undecline ", "docker.io/acme/tiny", "1.2.1", '"proposals"', "<!-- tagbot:rebase -->"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=200), st.integers(min_value=1, max_value=400))
def test_any_body_is_read_without_raising(pieces: list[str], repeat: int):
    body = "".join(pieces) * (repeat if len("".join(pieces)) * repeat <= 2 * MAX_BODY else 1)
    state, problem = parse_state(body)
    assert state is None or not problem
    for proposal in undeclines_requested(body):
        assert proposal.image.startswith("docker.io/")
    rebase_requested(body)
    if state is not None:
        assert read_state(with_state(body, state)) == state
