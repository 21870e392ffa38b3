"""Who tagbot is, and which pull requests and issues are its own.

Anyone can open a pull request from a fork on a branch named `tagbot/...`, or an issue that
carries tagbot's dashboard mark. Only what tagbot's own identity opened, from a branch of the
repository itself, carries state that tagbot reads or writes; everything else is left alone.

The identity is the token's own login: `GET /user` answers it for a person's token; an
installation token (the Actions `GITHUB_TOKEN`, a GitHub App's) is refused there, and GraphQL's
`viewer` names its bot (`github-actions[bot]`, `my-app[bot]`). Where neither answers, the
environment may name it in $TAGBOT_BOT_LOGIN (the Action's `bot-login` input); never the
repository's config, which a pull request can change.
"""

from __future__ import annotations

from dataclasses import dataclass

BOT_LOGIN_ENV = "TAGBOT_BOT_LOGIN"


@dataclass(frozen=True)
class Identity:
    login: str  # as GitHub writes authors: `tagbot-ci`, `github-actions[bot]`
    repository: str  # owner/name, as GitHub spells it

    def owns_pull(self, author: str | None, head_repository: str | None) -> bool:
        """Whether a pull request is tagbot's: opened by its identity from the repository itself
        (a fork's head, or one whose fork is gone, is never)."""
        return _same(author, self.login) and _same(head_repository, self.repository)

    def owns_issue(self, author: str | None) -> bool:
        return _same(author, self.login)


def _same(name: str | None, expected: str) -> bool:
    # GitHub logins and repository names are case-insensitive.
    return name is not None and name.casefold() == expected.casefold()


def stranger_note(number: int, branch: str, author: str | None, head_repository: str | None, identity: Identity) -> str:
    """What a run says, once, of a pull request on a tagbot branch that is not tagbot's."""
    source = "a deleted fork" if head_repository is None else head_repository
    return (f"left alone: #{number} on {branch} is not tagbot's (opened by {author or 'unknown'} from {source}; "
            f"tagbot is {identity.login} in {identity.repository})")
