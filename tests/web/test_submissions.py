"""Submitting papers and setting their links through the web, on each backend, against a real local fake arXiv
API: the form (sign-in, success onto today's list, mistakes shown again with what was typed, duplicates, the
window, arXiv down), its JSON twin with API tokens, the rate limits per user and per address, the links form and
API (who may, bad links, resets), and hostile text from arXiv and from users escaped on the page.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.demo import demo_embedder
from tests.fakes_arxiv import ArxivById, FakePaper, arxiv_by_id, days_ago
from tests.web.conftest import assert_error_json
from tests.web.small_library import PASSWORD, build_small, sign_in, token_of

FRESH, STALE, XSS = "2611.01234", "2611.05555", "2611.06666"
HOSTILE = '<script>alert("t")</script> & <b>Bold</b> Claims'
GITHUB, PROJECT = "https://github.com/example/sparse", "https://example.org/sparse"


@pytest.fixture
def fake() -> Iterator[ArxivById]:
    with arxiv_by_id() as server:
        server.add(FakePaper(FRESH, "Fresh Results on Sparse Attention", days_ago(1), version=2))
        server.add(FakePaper(STALE, "An Old Friend", datetime(2021, 6, 17, 12, tzinfo=UTC)))
        server.add(FakePaper(XSS, HOSTILE, days_ago(0), authors=("<img src=x onerror=alert(1)>",)))
        yield server


@pytest.fixture
def lib(backend: str, request: pytest.FixtureRequest, tmp_path: Any, fake: ArxivById) -> Iterator[Library]:
    url = request.getfixturevalue("db_config").database_url  # a copy of the migrated database
    config = Config(
        password_hash="cheapest",
        data_dir=tmp_path,
        database_url=url,
        arxiv_api_url=fake.url,
        arxiv_delay=0.01,
        arxiv_retries=1,
    )
    library = build_small(config, demo_embedder())
    for name in ("root", "ann"):  # root, the first account, is the admin; bob is made when he signs in
        library.accounts.create_user(name, f"{name}@example.org", PASSWORD)
    yield library
    library.close()


@pytest.fixture
def ann(lib: Library) -> Iterator[TestClient]:
    with TestClient(create_app(lib)) as client:
        yield sign_in(client, lib, "ann")  # type: ignore[misc]


def submit_form(client: TestClient, text: str) -> Any:
    return client.post("/submit", data={"id": text, "csrf_token": token_of(client, "/submit")}, follow_redirects=False)


def api_token(lib: Library, name: str) -> dict[str, str]:
    user = lib.accounts.get(name)
    return {"Authorization": f"Bearer {lib.accounts.create_token(user, 'script')[0]}"}


def counts(lib: Library) -> tuple[int, int]:
    return lib.papers.count(), lib.submissions.count()


def test_the_form_needs_a_signed_in_user(lib: Library) -> None:
    with TestClient(create_app(lib)) as anonymous:
        page = anonymous.get("/submit", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/submit"
        assert 'href="/submit"' not in anonymous.get("/").text  # the nav link is for signed-in users
        posted = anonymous.post("/submit", data={"id": FRESH, "csrf_token": token_of(anonymous, "/login")})
        assert posted.url.path == "/login" and lib.papers.get(FRESH) is None


def test_a_submitted_paper_is_on_todays_list_with_its_submitter(ann: TestClient, lib: Library) -> None:
    assert 'href="/submit"' in ann.get("/").text
    form = ann.get("/submit")
    assert form.status_code == 200 and 'name="id"' in form.text and "within 14 days" in form.text
    done = submit_form(ann, f"https://arxiv.org/abs/{FRESH}v2")
    assert done.status_code == 303 and done.headers["location"] == f"/papers/{FRESH}?notice=submitted"
    page = ann.get(done.headers["location"])
    assert "the paper is on today&#39;s list" in page.text and "Submitted by <strong>ann</strong>" in page.text
    today = ann.get("/").text  # the front page is the latest day: today, now
    assert "Fresh Results on Sparse Attention" in today
    assert lib.papers.get(FRESH).added_at == lib.submissions.today()  # type: ignore[union-attr]
    with TestClient(create_app(lib)) as anonymous:  # everybody sees who submitted it, nobody else gets the form
        shown = anonymous.get(f"/papers/{FRESH}").text
        assert "Submitted by <strong>ann</strong>" in shown and "Edit code and project links" not in shown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not an id", "&#39;not an id&#39; is not an arXiv id"),
        ("", "Enter the paper&#39;s arXiv id or link"),
        ("https://evil.example/abs/2611.01234", "Only arxiv.org links can be submitted"),
        ('"><script>alert(1)</script>', "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"),
    ],
)
def test_a_bad_id_shows_the_form_again_with_the_message(ann: TestClient, lib: Library, text: str, message: str) -> None:
    before = counts(lib)
    shown = submit_form(ann, text)
    assert shown.status_code == 400 and 'class="form-error"' in shown.text and message in shown.text
    assert f'value="{html.escape(text, quote=True).replace("&quot;", "&#34;").replace("&#x27;", "&#39;")}"' in (
        shown.text
    )
    assert "<script>alert(1)</script>" not in shown.text and counts(lib) == before


def test_a_duplicate_says_already_here_with_a_link(ann: TestClient, lib: Library, fake: ArxivById) -> None:
    shown = submit_form(ann, "arXiv:2106.09685v1")
    assert shown.status_code == 409 and "Already here" in shown.text
    assert 'href="/papers/2106.09685"' in shown.text and "LoRA: Low-Rank Adaptation" in shown.text
    assert not fake.seen


def test_a_stale_paper_is_refused_with_the_date_and_window(ann: TestClient, lib: Library) -> None:
    before = counts(lib)
    shown = submit_form(ann, STALE)
    assert shown.status_code == 400 and "first published on 2021-06-17, more than 14 days ago" in shown.text
    assert counts(lib) == before


def test_arxiv_down_is_a_502_and_nothing_is_stored(ann: TestClient, lib: Library, fake: ArxivById) -> None:
    before = counts(lib)
    fake.script = [(503, {}, b"down")] * 2
    shown = submit_form(ann, FRESH)
    assert shown.status_code == 502 and "arXiv could not be reached" in shown.text
    assert f'value="{FRESH}"' in shown.text and counts(lib) == before
    unknown = submit_form(ann, "2611.09999")
    assert unknown.status_code == 400 and "arXiv has no paper 2611.09999" in unknown.text
    assert counts(lib) == before


def test_the_json_twin_with_an_api_token(lib: Library) -> None:
    with TestClient(create_app(lib)) as script:
        headers = api_token(lib, "ann")
        made = script.post("/api/submissions", json={"id": FRESH}, headers=headers)
        assert made.status_code == 201
        assert made.json() == {"ok": True, "paper": FRESH, "url": f"/papers/{FRESH}", "duplicate": False}
        again = script.post("/api/submissions", json={"id": f"arXiv:{FRESH}"}, headers=headers)
        assert again.status_code == 200 and again.json()["duplicate"] is True
        csrf = {"X-CSRF-Token": script.get("/api/csrf").json()["csrf_token"]}  # no session, no token
        assert_error_json(script.post("/api/submissions", json={"id": FRESH}, headers=csrf), 401, "Sign in first")
        assert_error_json(script.post("/api/submissions", content=FRESH, headers=headers), 415, "as JSON")
        assert_error_json(script.post("/api/submissions", json={"id": "nope"}, headers=headers), 400, "not an arXiv")
        assert_error_json(script.post("/api/submissions", json={"id": STALE}, headers=headers), 400, "14 days")
        stored = lib.papers.get(FRESH)
        assert stored is not None and stored.pk is not None
        assert lib.submissions.submitted_by([stored.pk]) == {stored.pk: "ann"}


def test_json_submissions_from_a_session_need_the_csrf_token(ann: TestClient, lib: Library) -> None:
    refused = ann.post("/api/submissions", json={"id": FRESH})
    assert refused.status_code == 403 and lib.papers.get(FRESH) is None
    done = ann.post("/api/submissions", json={"id": FRESH}, headers={"X-CSRF-Token": token_of(ann, "/submit")})
    assert done.status_code == 201


def test_rate_limits_per_user_and_per_address(lib: Library) -> None:
    strict = Library(dataclasses.replace(lib.config, submit_rate_limit="2/hour"), store=lib.store)
    with TestClient(create_app(strict)) as client:
        sign_in(client, strict, "ann")
        assert [submit_form(client, t).status_code for t in ("2106.09685", "nonsense")] == [409, 400]
        limited = submit_form(client, FRESH)
        assert limited.status_code == 429 and "Too many submissions" in limited.text
        assert 1 <= int(limited.headers["retry-after"]) <= 3600 and strict.papers.get(FRESH) is None
        headers = api_token(strict, "ann")
        api = client.post("/api/submissions", json={"id": FRESH}, headers=headers)
        assert_error_json(api, 429, "Too many submissions")
        assert "retry-after" in api.headers
    with TestClient(create_app(strict)) as other:  # bob has submitted nothing, but from the same address
        sign_in(other, strict, "bob")
        shared = submit_form(other, FRESH)
        assert shared.status_code == 429 and "Too many submissions from this address" in shared.text


def test_hostile_text_from_arxiv_is_escaped(ann: TestClient) -> None:
    done = submit_form(ann, XSS)
    assert done.status_code == 303
    for page in (ann.get(f"/papers/{XSS}").text, ann.get("/").text):
        assert "<script>alert" not in page and "<b>Bold</b>" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; &amp; &lt;b&gt;Bold&lt;/b&gt; Claims" in page


# -- links ------------------------------------------------------------------------------------------------------------
def links_form(client: TestClient, paper_id: str, code: str, project: str) -> Any:
    data = {"code_url": code, "project_url": project, "csrf_token": token_of(client, f"/papers/{paper_id}")}
    return client.post(f"/papers/{paper_id}/links", data=data, follow_redirects=False)


def test_the_submitter_sets_links_and_empty_resets_them(ann: TestClient) -> None:
    assert submit_form(ann, FRESH).status_code == 303
    assert "Edit code and project links" in ann.get(f"/papers/{FRESH}").text
    saved = links_form(ann, FRESH, GITHUB, PROJECT)
    assert saved.status_code == 303 and saved.headers["location"] == f"/papers/{FRESH}?notice=links#links"
    page = ann.get(saved.headers["location"]).text
    assert "The links were saved" in page and f'href="{GITHUB}"' in page and f'href="{PROJECT}"' in page
    assert f'class="pill" href="{GITHUB}"' in page  # the link pills show the links set here
    listed = ann.get("/").text  # and so do the lists, with who submitted the paper
    assert f'class="pill" href="{GITHUB}"' in listed and 'submitted by <a href="/users/ann">ann</a>' in listed
    assert ann.get("/api/latest").json()["papers"][0]["code_url"] == GITHUB  # and every JSON answer
    assert ann.get("/api/trending").json()["papers"][0]["project_url"] == PROJECT
    assert ann.get("/api/search", params={"q": FRESH}).json()["results"][0]["code_url"] == GITHUB
    hf = ann.get(f"/api/papers/{FRESH}").json()
    assert hf["githubRepo"] == GITHUB and hf["projectPage"] == PROJECT
    assert ann.get("/api/daily_papers").json()[0]["paper"]["githubRepo"] == GITHUB
    assert links_form(ann, FRESH, "", "").status_code == 303
    assert GITHUB not in ann.get(f"/papers/{FRESH}").text
    assert GITHUB not in ann.get("/").text and GITHUB not in ann.get(f"/api/papers/{FRESH}").text


def test_others_may_not_set_links_but_an_admin_may(ann: TestClient, lib: Library) -> None:
    assert submit_form(ann, FRESH).status_code == 303
    with TestClient(create_app(lib)) as bob:
        sign_in(bob, lib, "bob")
        assert "Edit code and project links" not in bob.get(f"/papers/{FRESH}").text
        refused = links_form(bob, FRESH, GITHUB, "")
        assert refused.status_code == 403 and "Only the paper&#39;s submitter" in refused.text
        api = bob.put(f"/api/links/{FRESH}", json={"code_url": GITHUB}, headers=api_token(lib, "bob"))
        assert_error_json(api, 403, "Only the paper's submitter")
    with TestClient(create_app(lib)) as root:
        sign_in(root, lib, "root")
        assert links_form(root, "2106.09685", GITHUB, "").status_code == 303  # any paper, for an admin
        assert f'href="{GITHUB}"' in root.get("/papers/2106.09685").text
    assert GITHUB not in ann.get(f"/papers/{FRESH}").text
    assert links_form(ann, "2611.00000", GITHUB, "").status_code == 404


@pytest.mark.parametrize(
    ("code", "project", "message"),
    [
        ("javascript:alert(1)", "", "The GitHub repository must be an http:// or https:// link"),
        ("", "not a link", "The project page must be an http:// or https:// link"),
        ("https://github.com/" + "x" * 500, "", "too long (at most 500 characters)"),
    ],
)
def test_bad_links_show_the_form_again(ann: TestClient, code: str, project: str, message: str) -> None:
    assert submit_form(ann, FRESH).status_code == 303
    shown = links_form(ann, FRESH, code, project)
    assert shown.status_code == 400 and message in shown.text
    assert f'value="{code or project}"' in shown.text  # what was typed, to correct it
    assert 'href="javascript:' not in shown.text and 'href="javascript:' not in ann.get(f"/papers/{FRESH}").text


def test_links_api_put_and_post(lib: Library) -> None:
    with TestClient(create_app(lib)) as script:
        headers = api_token(lib, "ann")
        assert script.post("/api/submissions", json={"id": FRESH}, headers=headers).status_code == 201
        put = script.put(f"/api/links/{FRESH}", json={"code_url": GITHUB, "project_url": PROJECT}, headers=headers)
        assert put.json() == {"ok": True, "paper": FRESH, "code_url": GITHUB, "project_url": PROJECT}
        post = script.post(f"/api/links/{FRESH}", json={"project_url": PROJECT}, headers=headers)
        assert post.json()["code_url"] is None and post.json()["project_url"] == PROJECT
        bad = script.put(f"/api/links/{FRESH}", json={"code_url": "javascript:alert(1)"}, headers=headers)
        assert_error_json(bad, 400, "must be an http:// or https:// link")
        assert_error_json(script.put("/api/links/2611.00000", json={}, headers=headers), 404, "No paper")


def test_a_hostile_link_is_escaped(ann: TestClient) -> None:
    assert submit_form(ann, FRESH).status_code == 303
    hostile = 'https://github.com/x/"><script>alert(1)</script>'
    assert links_form(ann, FRESH, hostile, "").status_code == 303
    page = ann.get(f"/papers/{FRESH}").text
    assert "<script>alert(1)</script>" not in page and "&#34;&gt;&lt;script&gt;" in page
