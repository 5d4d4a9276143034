"""Comments through the web, on each backend: the paper page's forms (comment, reply, edit, delete), the JSON API,
escaping of hostile text in pages and JSON, counts on the lists and the Hugging Face compatible API, length
limits, rate limits (429 + Retry-After) and CSRF.

Each test gets a small library of its own (``build_small`` of the vote tests). Its first user, ``root``, is the
admin; ``ann`` and ``bob`` are members.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.demo import demo_embedder
from tests.web.conftest import assert_error_json
from tests.web.small_library import ADAM, LORA, PASSWORD, SMALL_DAY, STRINGS, build_small, sign_in, token_of

XSS = "<script>alert(1)</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) *ok*"
_ANCHOR = re.compile(r"#c-([0-9a-f]{26})$")


@pytest.fixture
def lib(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Library]:
    url = request.getfixturevalue("db_config").database_url  # a copy of the migrated database
    library = build_small(Config(password_hash="cheapest", data_dir=tmp_path, database_url=url), demo_embedder())
    library.accounts.create_user("root", "root@example.org", PASSWORD)  # the first user: the admin
    yield library
    library.close()


@pytest.fixture
def ann(lib: Library) -> Iterator[TestClient]:
    with TestClient(create_app(lib)) as c:
        sign_in(c, lib, "ann")
        yield c


def other(client: TestClient, name: str) -> TestClient:
    """Another browser on the same app, signed in as ``name``."""
    second = TestClient(client.app)
    sign_in(second, client.app.state.library, name)  # type: ignore[attr-defined]
    return second


def post_comment(client: TestClient, paper_id: str, body: str, **extra: str) -> Any:
    data = {"body": body, "csrf_token": token_of(client, f"/papers/{paper_id}"), **extra}
    return client.post(f"/papers/{paper_id}/comments", data=data, follow_redirects=False)


def comment_id(response: Any) -> str:
    assert response.status_code == 303, response.text[:300]
    found = _ANCHOR.search(response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def api_token(client: TestClient) -> dict[str, str]:
    """``Authorization`` headers of a new API token of the client's user."""
    headers = {"X-CSRF-Token": token_of(client, "/")}
    secret = client.post("/api/tokens", json={"name": "t"}, headers=headers).json()["token"]
    return {"Authorization": f"Bearer {secret}"}


def test_comment_reply_and_page(ann: TestClient) -> None:
    done = post_comment(ann, STRINGS, "A *first* look at `dualities`", next=f"/papers/{STRINGS}")
    first = comment_id(done)
    assert done.headers["location"] == f"/papers/{STRINGS}#c-{first}"  # the old-style id keeps its slash
    bob = other(ann, "bob")
    reply = comment_id(post_comment(bob, STRINGS, "Agreed", parent_id=first))
    deeper = comment_id(post_comment(ann, STRINGS, "Thanks", parent_id=reply))
    page = bob.get(f"/papers/{STRINGS}").text
    assert "Comments (3)" in page and "<em>first</em>" in page and "<code>dualities</code>" in page
    thread = page[page.index(f'id="c-{first}"') :]
    assert thread.index(f'id="c-{reply}"') < thread.index(f'id="c-{deeper}"')  # both replies under the first
    assert page.count('name="parent_id"') == 1  # one reply form: one thread, one level deep
    api = bob.get(f"/api/comments/{STRINGS}").json()
    assert api["count"] == 3 and [r["id"] for r in api["threads"][0]["replies"]] == [reply, deeper]
    assert api["threads"][0]["author"] == "ann" and api["threads"][0]["replies"][0]["parent_id"] == first
    day = ann.get(f"/papers/date/{SMALL_DAY}").text
    assert f'href="/papers/{STRINGS}#comments">3 comments</a>' in day
    assert f'href="/papers/{ADAM}#comments">0 comments</a>' in day
    assert f'href="/papers/{ADAM}#comments">0 comments</a>' in ann.get("/search", params={"q": "Adam"}).text


def test_visitors_are_sent_to_log_in(lib: Library) -> None:
    with TestClient(create_app(lib)) as visitor:
        page = visitor.get(f"/papers/{LORA}").text
        assert "Log in</a> to comment" in page and 'name="body"' not in page
        sent = post_comment(visitor, LORA, "Hello")
        assert sent.status_code == 303 and sent.headers["location"] == f"/login?next=/papers/{LORA}%23comments"
        csrf = {"X-CSRF-Token": visitor.get("/api/csrf").json()["csrf_token"]}
        assert_error_json(visitor.post(f"/api/comments/{LORA}", json={"body": "x"}, headers=csrf), 401, "Sign in")
    assert set(lib.comments.counts([p.pk or 0 for p in lib.store.iter_papers()]).values()) == {0}


def test_hostile_text_is_escaped_in_pages_and_json(ann: TestClient) -> None:
    cid = comment_id(post_comment(ann, LORA, XSS))
    page = ann.get(f"/papers/{LORA}").text
    section = page[page.index('id="comments"') :]
    assert "<script>alert" not in section and "<img" not in section and 'href="javascript' not in section.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section and "<em>ok</em>" in section
    assert "[click](javascript:alert(1))" in section  # not a link: shown as the text it is
    assert "onerror=alert(1)&gt;" in section  # the text is shown, as text
    item = ann.get(f"/api/comments/{LORA}").json()["threads"][0]
    assert item["body"] == XSS  # the source as written: a JSON string, escaped by the encoder
    assert "<script" not in item["html"] and "<img" not in item["html"] and "href" not in item["html"]
    raw = ann.get(f"/api/comments/{LORA}").content
    assert (
        b"<script>" in raw
        and b"</script>" in raw
        and ann.get(f"/api/comments/{LORA}").headers["content-type"].startswith("application/json")
    )  # JSON, never HTML: no browser renders it
    edit = ann.get(f"/comments/{cid}/edit").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in edit and "<script>alert" not in edit
    breakout = comment_id(post_comment(ann, LORA, "</textarea><script>alert(2)</script>"))
    assert "</textarea><script>" not in ann.get(f"/comments/{breakout}/edit").text


def test_only_the_author_edits_or_deletes(ann: TestClient) -> None:
    cid = comment_id(post_comment(ann, LORA, "Original"))
    bob = other(ann, "bob")
    token = token_of(bob, "/")
    assert bob.get(f"/comments/{cid}/edit").status_code == 403
    for action, data in (("edit", {"body": "Hijacked"}), ("delete", {})):
        refused = bob.post(f"/comments/{cid}/{action}", data={**data, "csrf_token": token}, follow_redirects=False)
        assert refused.status_code == 403 and "Only its author" in refused.text
    headers = {"X-CSRF-Token": token}
    assert_error_json(bob.patch(f"/api/comments/item/{cid}", json={"body": "x"}, headers=headers), 403)
    assert_error_json(bob.delete(f"/api/comments/item/{cid}", headers=headers), 403)
    assert_error_json(bob.delete("/api/comments/item/0000000000000000000000", headers=headers), 404)
    assert bob.get("/comments/0000000000000000000000/edit").status_code == 404
    assert 'href="/comments/' not in bob.get(f"/papers/{LORA}").text  # no edit link on another's comment
    assert f'href="/comments/{cid}/edit"' in ann.get(f"/papers/{LORA}").text
    edited = ann.post(
        f"/comments/{cid}/edit",
        data={"body": "Better **now**", "csrf_token": token_of(ann, "/")},
        follow_redirects=False,
    )
    assert edited.status_code == 303 and edited.headers["location"] == f"/papers/{LORA}#c-{cid}"
    page = ann.get(f"/papers/{LORA}").text
    assert "<strong>now</strong>" in page and 'class="edited"' in page and "Original" not in page
    reply = comment_id(post_comment(bob, LORA, "A reply", parent_id=cid))
    gone = ann.post(f"/comments/{cid}/delete", data={"csrf_token": token_of(ann, "/")}, follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"] == f"/papers/{LORA}#comments"
    page = ann.get(f"/papers/{LORA}").text
    assert "[deleted]" in page and "Better" not in page and f'id="c-{reply}"' in page and "Comments (1)" in page


def test_deleting_an_account_keeps_the_replies_of_others(ann: TestClient) -> None:
    """Issue 21 #19: deleting an account deleted other people's replies to its comments."""
    question = comment_id(post_comment(ann, LORA, "Does it work on *convolutions*?"))
    bob = other(ann, "bob")
    answer = comment_id(post_comment(bob, LORA, "Yes, see section 7", parent_id=question))
    assert "replies by others stay" in ann.get("/account").text  # said before the deletion
    done = ann.post("/account/delete", data={"password": PASSWORD, "csrf_token": token_of(ann, "/account")},
                    follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    page = bob.get(f"/papers/{LORA}").text
    assert f'id="c-{question}"' in page and "[deleted]" in page and "convolutions" not in page
    assert f'id="c-{answer}"' in page and "Yes, see section 7" in page and "Comments (1)" in page
    [thread] = bob.get(f"/api/comments/{LORA}").json()["threads"]
    assert thread["author"] == "[deleted]" and thread["body"] == "" and thread["deleted"]
    assert [r["id"] for r in thread["replies"]] == [answer]


def test_json_api_with_a_token(ann: TestClient) -> None:
    headers = api_token(ann)
    script = TestClient(ann.app)
    made = script.post(f"/api/comments/{LORA}v2", json={"body": "From a *script*"}, headers=headers)
    assert made.status_code == 201, made.text
    item = made.json()["comment"]
    assert item["paper"] == LORA and item["author"] == "ann" and item["html"] == "<p>From a <em>script</em></p>"
    reply = script.post(f"/api/comments/{LORA}", json={"body": "More", "parent_id": item["id"]}, headers=headers)
    assert reply.json()["comment"]["parent_id"] == item["id"]
    patched = script.patch(f"/api/comments/item/{item['id']}", json={"body": "Edited"}, headers=headers)
    assert patched.json()["comment"]["body"] == "Edited" and patched.json()["comment"]["edited_at"]
    assert_error_json(script.post("/api/comments/9999.99999", json={"body": "x"}, headers=headers), 404)
    assert_error_json(script.get("/api/comments/9999.99999"), 404, "9999.99999")
    unknown_parent = {"body": "x", "parent_id": "0000000000000000000000"}
    assert_error_json(script.post(f"/api/comments/{ADAM}", json=unknown_parent, headers=headers), 404)
    assert script.get(f"/api/papers/{LORA}").json()["numComments"] == 2
    daily = {i["paper"]["id"]: i["numComments"] for i in script.get("/api/daily_papers").json()}
    assert daily == {LORA: 2, STRINGS: 0, ADAM: 0}
    searched = script.get("/api/papers/search", params={"q": "LoRA"}).json()
    assert {i["paper"]["id"]: i["numComments"] for i in searched}[LORA] == 2
    assert script.delete(f"/api/comments/item/{reply.json()['comment']['id']}", headers=headers).json() == {"ok": True}
    assert script.get(f"/api/papers/{LORA}").json()["numComments"] == 1


def test_length_limits_say_why(ann: TestClient) -> None:
    too_long = post_comment(ann, LORA, "x" * 5001)
    assert too_long.status_code == 400 and "at most 5,000 characters; this one has 5,001" in too_long.text
    empty = post_comment(ann, LORA, "   \n ")
    assert empty.status_code == 400 and "A comment cannot be empty." in empty.text
    headers = {"X-CSRF-Token": token_of(ann, "/")}
    assert_error_json(ann.post(f"/api/comments/{LORA}", json={"body": "y" * 5001}, headers=headers), 400, "5,000")
    cid = comment_id(post_comment(ann, LORA, "z" * 5000))  # the limit itself is fine
    form = ann.post(f"/comments/{cid}/edit", data={"body": "w" * 6000, "csrf_token": headers["X-CSRF-Token"]})
    assert form.status_code == 400 and "at most 5,000 characters" in form.text and "w" * 6000 in form.text
    assert ann.get(f"/api/comments/{LORA}").json()["threads"][0]["body"] == "z" * 5000


def test_rate_limit_per_user_and_per_address(lib: Library) -> None:
    strict = Library(dataclasses.replace(lib.config, comment_rate_limit="2/minute"), store=lib.store)
    with TestClient(create_app(strict)) as client:
        sign_in(client, strict, "ann")
        assert [comment_id(post_comment(client, ADAM, f"c{i}")) for i in range(2)]
        limited = post_comment(client, ADAM, "third")
        assert limited.status_code == 429 and "Too many comments" in limited.text
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        headers = {"X-CSRF-Token": token_of(client, "/")}
        api = client.post(f"/api/comments/{ADAM}", json={"body": "x"}, headers=headers)
        assert_error_json(api, 429, "Too many comments")
        assert api.headers["retry-after"]
        with TestClient(create_app(strict), client=("203.0.113.9", 5000)) as elsewhere:  # bob at another address
            sign_in(elsewhere, strict, "bob")
            assert comment_id(post_comment(elsewhere, ADAM, "bob's"))
        with TestClient(create_app(strict)) as same_address:  # carol, from ann's address: its limit is spent
            sign_in(same_address, strict, "carol")
            refused = post_comment(same_address, ADAM, "carol's")
            assert refused.status_code == 429 and "from this address" in refused.text
    adam = lib.papers.get(ADAM)
    assert adam is not None and adam.pk is not None
    assert lib.comments.counts([adam.pk]) == {adam.pk: 3}  # ann's two and bob's; nothing refused was stored


def test_comment_forms_need_the_csrf_token(ann: TestClient) -> None:
    cid = comment_id(post_comment(ann, LORA, "Mine"))
    for path, data in (
        (f"/papers/{LORA}/comments", {"body": "x"}),
        (f"/comments/{cid}/edit", {"body": "x"}),
        (f"/comments/{cid}/delete", {}),
    ):
        refused = ann.post(path, data={**data, "csrf_token": "forged"}, follow_redirects=False)
        assert refused.status_code == 403 and "CSRF token is missing or wrong" in refused.text
    assert_error_json(ann.post(f"/api/comments/{LORA}", json={"body": "x"}), 403)
    assert_error_json(ann.patch(f"/api/comments/item/{cid}", json={"body": "x"}), 403)
    assert ann.get(f"/api/comments/{LORA}").json()["count"] == 1
