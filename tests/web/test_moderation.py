"""Moderation through the web, on each backend: admins hide and unhide comments and papers with the forms, the
moderation page lists what was hidden (escaped), and nobody else may do any of it (403; visitors log in first).

The small library's first user, ``root``, is the admin; ``ann`` and ``bob`` are members.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.web.small_library import ADAM, LORA, STRINGS, sign_in, token_of
from tests.web.test_comments import XSS, comment_id, lib, post_comment

__all__ = ["lib"]  # the fixture, shared with the comment tests


@pytest.fixture
def clients(lib: Library) -> Iterator[tuple[TestClient, TestClient]]:
    """(the admin's browser, ann's browser)."""
    app = create_app(lib)
    with TestClient(app) as root, TestClient(app) as ann:
        yield sign_in(root, lib, "root"), sign_in(ann, lib, "ann")  # type: ignore[misc]


def form(client: TestClient, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": token_of(client, "/"), **data}, follow_redirects=False)


def test_only_admins_see_the_moderation_page(lib: Library, clients: tuple[TestClient, TestClient]) -> None:
    root, ann = clients
    assert ann.get("/moderation").status_code == 403 and "Only admins" in ann.get("/moderation").text
    assert 'href="/moderation"' not in ann.get("/").text
    page = root.get("/moderation")
    assert page.status_code == 200 and "No hidden comments." in page.text and "No hidden papers." in page.text
    assert 'href="/moderation"' in root.get("/").text
    with TestClient(root.app) as visitor:
        sent = visitor.get("/moderation", follow_redirects=False)
        assert sent.status_code == 303 and sent.headers["location"] == "/login?next=/moderation"


def test_admins_hide_and_unhide_a_comment(clients: tuple[TestClient, TestClient]) -> None:
    root, ann = clients
    bad = comment_id(post_comment(ann, LORA, XSS))
    fine = comment_id(post_comment(ann, LORA, "A fine reply", parent_id=bad))
    refused = form(ann, f"/comments/{bad}/hide", reason="mine")
    assert refused.status_code == 403 and "Only admins" in refused.text
    assert form(ann, f"/comments/{bad}/unhide").status_code == 403
    done = form(root, f"/comments/{bad}/hide", reason="<b>spam</b> & scripts")
    assert done.status_code == 303 and done.headers["location"] == f"/papers/{LORA}#c-{bad}"

    public = ann.get(f"/papers/{LORA}").text
    assert "Hidden by a moderator." in public and "alert(1)" not in public and "spam" not in public
    assert f'id="c-{fine}"' in public and "Comments (1)" in public  # the reply stays, the count drops
    api = ann.get(f"/api/comments/{LORA}").json()
    assert api["count"] == 1 and api["threads"][0]["body"] == "" and api["threads"][0]["hidden"] is True
    assert "hidden_reason" not in api["threads"][0] or api["threads"][0]["hidden_reason"] is None
    assert ann.get(f"/api/papers/{LORA}").json()["numComments"] == 1

    admin_view = root.get(f"/papers/{LORA}").text
    assert "Hidden by root" in admin_view and "&lt;b&gt;spam&lt;/b&gt; &amp; scripts" in admin_view
    assert "<script>alert" not in admin_view and 'class="comment is-hidden"' in admin_view
    assert root.get(f"/api/comments/{LORA}").json()["threads"][0]["hidden_reason"] == "<b>spam</b> & scripts"

    moderation = root.get("/moderation").text
    assert "Hidden comments (1)" in moderation and "LoRA: Low-Rank Adaptation" in moderation
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in moderation and "<script>alert" not in moderation
    assert "by root" in moderation and f'action="/comments/{bad}/unhide"' in moderation
    back = form(root, f"/comments/{bad}/unhide", next="/moderation#comments")
    assert back.status_code == 303 and back.headers["location"] == "/moderation#comments"
    assert "Hidden by a moderator." not in ann.get(f"/papers/{LORA}").text
    assert ann.get(f"/api/comments/{LORA}").json()["count"] == 2
    assert form(root, "/comments/0000000000000000000000/hide").status_code == 404


def test_admins_hide_and_unhide_a_paper(clients: tuple[TestClient, TestClient]) -> None:
    root, ann = clients
    assert "Hide this paper" in root.get(f"/papers/{STRINGS}").text
    assert "Hide this paper" not in ann.get(f"/papers/{STRINGS}").text
    refused = form(ann, f"/papers/{STRINGS}/hide", reason="no")
    assert refused.status_code == 403
    done = form(root, f"/papers/{STRINGS}/hide", reason="Off-topic <i>here</i>")
    assert done.status_code == 303 and done.headers["location"] == f"/papers/{STRINGS}"
    assert ann.get(f"/papers/{STRINGS}").status_code == 404
    assert f"/papers/{STRINGS}" not in ann.get("/").text and f"/papers/{ADAM}" in ann.get("/").text
    assert "Unhide this paper" in root.get(f"/papers/{STRINGS}").text
    moderation = root.get("/moderation").text
    assert "Hidden papers (1)" in moderation and "Dualities of Strings" in moderation and "by root" in moderation
    assert "Off-topic &lt;i&gt;here&lt;/i&gt;" in moderation
    assert form(ann, f"/papers/{STRINGS}/unhide").status_code == 403
    back = form(root, f"/papers/{STRINGS}/unhide", next="/moderation#papers")
    assert back.status_code == 303 and back.headers["location"] == "/moderation#papers"
    assert ann.get(f"/papers/{STRINGS}").status_code == 200 and "No hidden papers." in root.get("/moderation").text
    assert form(root, "/papers/9999.99999/hide").status_code == 404


def test_moderation_forms_need_the_csrf_token(clients: tuple[TestClient, TestClient]) -> None:
    root, ann = clients
    cid = comment_id(post_comment(ann, LORA, "Mine"))
    for path in (f"/comments/{cid}/hide", f"/comments/{cid}/unhide", f"/papers/{LORA}/hide", f"/papers/{LORA}/unhide"):
        refused = root.post(path, data={"csrf_token": "forged"}, follow_redirects=False)
        assert refused.status_code == 403 and "CSRF token is missing or wrong" in refused.text
    assert ann.get(f"/api/comments/{LORA}").json()["count"] == 1 and root.get(f"/papers/{LORA}").status_code == 200
