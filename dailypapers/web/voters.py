"""What the pages need to draw vote buttons: the CSRF token of the page's forms and the caller's upvoted papers
(and, next to each button, the paper's comment count: every list draws both).

Who may vote, and as whom, is the security layer's (:func:`dailypapers.web.security.identity.voter_id`): a
signed-in user, or an anonymous browser only when ``DAILYPAPERS_ANONYMOUS_VOTES`` is on. A visitor who may not
vote still sees the buttons; pressing one leads to the log-in page and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from dailypapers.papers.models import Paper
from dailypapers.web.security.csrf import csrf_token
from dailypapers.web.security.identity import voter_id


@dataclass
class VoteButtons:
    """``token``: the CSRF token for the vote forms; ``voted``: keys of the papers on the page the caller upvoted
    (their buttons show as pressed); ``comments``: each paper's visible comment count."""

    token: str
    voted: set[int] = field(default_factory=set)
    comments: dict[int, int] = field(default_factory=dict)


def vote_buttons(request: Request, papers: list[Paper]) -> VoteButtons:
    """Vote buttons for ``papers`` (the caller's votes among them, and their comment counts, one query each)."""
    voter = voter_id(request, create=False)
    pks = [p.pk for p in papers if p.pk is not None]
    library = request.app.state.library
    voted = library.votes.voted(voter, pks) if voter and pks else set()
    return VoteButtons(csrf_token(request), voted, library.comments.counts(pks) if pks else {})
