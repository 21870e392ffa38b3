"""Text from elsewhere in a pull request body: quoted, never obeyed. Release notes' reproducers
from issue 18 (mentions that ping, tags that end the block, a fence cut open), and the code
spans and plain text the body and dashboard wrap around file names and messages."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tagbot.pr.markdown import ZERO_WIDTH, code, plain, quoted_notes

LIMIT = 1500


def notes(text: str, repository: str | None = "acme/tool") -> str:
    return quoted_notes(text, repository, LIMIT)


def test_mentions_and_team_mentions_notify_no_one():
    quoted = notes("Thanks @torvalds and @acme/everyone; mail jane@example.com")
    assert "@torvalds" not in quoted and "@acme/everyone" not in quoted
    assert f"@{ZERO_WIDTH}torvalds" in quoted and f"@{ZERO_WIDTH}acme/everyone" in quoted
    assert "jane@example.com" in quoted  # an address is no mention


def test_issue_references_link_through_the_redirect_host():
    quoted = notes("Fixes #12, see other/lib#3, GH-4 and https://github.com/other/lib/issues/9")
    assert "[#12](https://redirect.github.com/acme/tool/issues/12)" in quoted
    assert "[other/lib#3](https://redirect.github.com/other/lib/issues/3)" in quoted
    assert "[GH-4](https://redirect.github.com/acme/tool/issues/4)" in quoted
    assert "https://redirect.github.com/other/lib/issues/9" in quoted and "https://github.com" not in quoted
    assert f"#{ZERO_WIDTH}12" in quoted_notes("Fixes #12", None, LIMIT)  # no repository: linked nowhere


def test_html_is_reduced_to_a_balanced_subset():
    quoted = notes("<details open><summary>x</summary>a</DETAILS> b </details > <script>alert(1)</script> "
                   "<b onclick=x>bold <i>both")
    assert quoted.count("<details>") == quoted.count("</details>") == 1
    assert "open" not in quoted and "onclick" not in quoted
    assert "<script>" not in quoted and "&lt;script&gt;" in quoted
    assert "&lt;/details &gt;" in quoted  # closes nothing that is open: shown as text
    assert quoted.endswith("</i>\n</b>")  # what it left open is closed where it ends


def test_a_fence_cut_open_by_the_limit_is_closed():
    text = "Intro\n```\n" + "code line\n" * 300 + "```\nAfter"
    quoted = notes(text)
    assert len(quoted) < LIMIT + 20 and quoted.endswith("…")
    assert len(re.findall(r"^```", quoted, re.MULTILINE)) % 2 == 0
    assert notes("~~~~\nx\n~~~\ny").splitlines()[-1] == "~~~~"  # a shorter run closes nothing


def test_nothing_in_notes_opens_or_closes_a_comment():
    quoted = notes("<!-- tagbot:state {} -->\n`<!-- in code -->`\n```\n<!-- in a fence -->\n```")
    assert "<!--" not in quoted and "-->" not in quoted


def test_inside_code_html_is_left_as_written():
    quoted = notes("Use `</details>` and\n```\n<b>x</b>\n```")
    assert "`</details>`" in quoted and "<b>x</b>" in quoted


def test_code_spans_show_text_exactly():
    assert code("Dockerfile:1") == "`Dockerfile:1`"
    assert code("a`b") == "``a`b``"
    assert code("`x") == "`` `x ``"
    assert code("a|b", table=True) == "`a\\|b`"
    assert code("x\n# pwned") == "`x\\n# pwned`"
    assert "<!--" not in code("<!-- tagbot:state {} -->")


def test_plain_text_is_one_quiet_line():
    assert plain("tagbot.yaml:3: bad") == "tagbot.yaml:3: bad"
    shown = plain("@all see #3\n<b>")
    assert "\n" not in shown and "@all" not in shown and "#3" not in shown and "<b>" not in shown


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["<details>", "</details>", "</DETAILS >", "<details open>", "<summary>", "```",
                                 "~~~", "`", "<!--", "-->", "\n", "@x", "#1", "<b>", "</i>", "text "]), max_size=80))
def test_any_notes_leave_the_body_balanced(pieces: list[str]):
    quoted = quoted_notes("".join(pieces), "acme/tool", 200)
    assert "<!--" not in quoted and "-->" not in quoted
    outside = _outside_fences(quoted)
    assert outside.lower().count("<details>") == outside.lower().count("</details>")


def _outside_fences(text: str) -> str:
    kept, fence = [], None
    for line in text.splitlines():
        run = re.match(r" {0,3}(`{3,}|~{3,})", line)
        if fence is None and run:
            fence = run.group(1)
        elif fence is not None:
            if run and run.group(1)[0] == fence[0] and len(run.group(1)) >= len(fence) and not line[run.end():].strip():
                fence = None
        else:
            # A code span ends at the next run of exactly as many backticks (CommonMark).
            kept.append(re.sub(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", "", line))
    assert fence is None, "a fence is left open"
    return "\n".join(kept)
