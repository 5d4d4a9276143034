"""Text people wrote, made safe to show: a comment's Markdown as sanitised HTML.

:func:`dailypapers.community.markdown.render_markdown` sanitises (nh3); the result is wrapped in
:class:`~markupsafe.Markup` here, once, and never marked safe in a template.
"""

from __future__ import annotations

from markupsafe import Markup

from dailypapers.community.comments import Comment
from dailypapers.community.markdown import render_markdown


def comment_html(comment: Comment) -> Markup:
    """The comment's text as sanitised HTML (empty for a placeholder)."""
    return Markup(render_markdown(comment.body)) if comment.body else Markup("")
