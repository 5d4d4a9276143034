"""What a list page needs beside its papers: the CSRF token of the vote forms and the caller's upvoted papers, and
for each paper its comment count, its submitter and the code/project links people set (every list draws them;
one query each for the whole list).

Who may vote, and as whom, is the security layer's (:func:`dailypapers.web.security.identity.voter_id`): a
signed-in user, or an anonymous browser only when ``DAILYPAPERS_ANONYMOUS_VOTES`` is on. A visitor who may not
vote still sees the buttons; pressing one leads to the log-in page and back.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from fastapi import Request

from dailypapers.community.submissions import Links, effective_links
from dailypapers.library import Library
from dailypapers.papers.models import Paper
from dailypapers.web.security.csrf import csrf_token
from dailypapers.web.security.identity import voter_id


@dataclass
class VoteButtons:
    """``token``: the CSRF token for the vote forms; ``voted``: keys of the papers on the page the caller upvoted
    (their buttons show as pressed); ``comments``: each paper's visible comment count; ``submitters``: the username
    of who submitted it; ``links``: the code/project links set by its submitter or authors."""

    token: str
    voted: set[int] = field(default_factory=set)
    comments: dict[int, int] = field(default_factory=dict)
    submitters: dict[int, str] = field(default_factory=dict)
    links: dict[int, Links] = field(default_factory=dict)

    def shown(self, paper: Paper) -> Paper:
        """``paper`` with the links people set in place of the abstract's (for display only)."""
        return show_links(paper, self.links.get(paper.pk or 0))


def show_links(paper: Paper, set_here: Links | None) -> Paper:
    """A copy of ``paper`` showing the code/project links set by its submitter or authors, where there are any (the
    stored paper keeps the abstract's: clearing a link brings it back)."""
    if set_here is None:
        return paper
    code, project = effective_links(paper, set_here)
    return dataclasses.replace(paper, code_url=code, project_url=project)


def with_set_links(library: Library, papers: list[Paper]) -> list[Paper]:
    """``papers`` as the JSON answers show them: with the links people set (one query for the list)."""
    overrides = library.submissions.link_overrides([p.pk for p in papers if p.pk is not None])
    return [show_links(p, overrides.get(p.pk or 0)) for p in papers]


def vote_buttons(request: Request, papers: list[Paper]) -> VoteButtons:
    """Vote buttons for ``papers`` (the caller's votes among them, and their comment counts, one query each)."""
    voter = voter_id(request, create=False)
    pks = [p.pk for p in papers if p.pk is not None]
    library = request.app.state.library
    if not pks:
        return VoteButtons(csrf_token(request))
    voted = library.votes.voted(voter, pks) if voter else set()
    submissions = library.submissions
    return VoteButtons(
        csrf_token(request),
        voted,
        library.comments.counts(pks),
        submissions.submitted_by(pks),
        submissions.link_overrides(pks),
    )
