"""The subscription forms and the account page's links (issue 21, item 6), read as HTML (lxml) on each backend: every
radio button and checkbox inside its own label, one choice per line; a visitor without an account never sees the
sections that need one ticked; ``/account`` links to the email settings; invite links are absolute when
``DAILYPAPERS_PUBLIC_URL`` is set, on the account page and from ``dailypapers users invite``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import lxml.html
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.demo import cli_env, demo_embedder
from tests.web.small_library import build_small, sign_in, token_of

PUBLIC = "https://papers.example.org"
ACCOUNT_ONLY = ("picks", "saved")


@pytest.fixture
def lib(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Library]:
    url = request.getfixturevalue("db_config").database_url  # a copy of the migrated database
    config = Config(data_dir=tmp_path, database_url=url, password_hash="cheapest", public_url=PUBLIC + "/")
    library = build_small(config, demo_embedder())
    yield library
    library.close()


def choices(page: str) -> dict[str, lxml.html.HtmlElement]:
    """``{"name=value": input}`` of the form's radio buttons and checkboxes, after checking each one's label: the
    input sits inside a ``label.choice`` (one choice per line in the stylesheet) with its text and no other input."""
    tree = lxml.html.fromstring(page)
    found = {}
    for box in tree.xpath("//form[@class='stacked']//input[@type='radio' or @type='checkbox']"):
        labels = box.xpath("ancestor::label")
        assert len(labels) == 1, lxml.html.tostring(box)
        label = labels[0]
        assert "choice" in label.classes and label.text_content().strip(), lxml.html.tostring(label)
        assert len(label.xpath(".//input")) == 1, lxml.html.tostring(label)
        found[f"{box.get('name')}={box.get('value')}"] = box
    assert found, "no choices on the page"
    return found


def ticked(boxes: dict[str, lxml.html.HtmlElement]) -> set[str]:
    return {key for key, box in boxes.items() if box.get("checked") is not None}


def test_a_visitor_never_sees_account_only_sections_ticked(lib: Library) -> None:
    with TestClient(create_app(lib)) as visitor:
        boxes = choices(visitor.get("/subscribe").text)
        assert {"frequency=daily", "frequency=weekly", "weekends=true", "sections=trending"} <= set(boxes)
        for name in ACCOUNT_ONLY:
            box = boxes[f"sections={name}"]
            assert box.get("checked") is None and box.get("disabled") is not None
        assert "sections=trending" in ticked(boxes) and "frequency=daily" in ticked(boxes)

    with TestClient(create_app(lib)) as ann:  # with an account, they are the default
        sign_in(ann, lib, "ann")
        boxes = choices(ann.get("/subscribe").text)
        assert {f"sections={name}" for name in ACCOUNT_ONLY} <= ticked(boxes)
        assert not any(box.get("disabled") is not None for box in boxes.values())


def test_the_manage_page_of_an_address_alone_never_ticks_account_sections(lib: Library) -> None:
    sub = lib.subscriptions.subscribe("reader@example.org")  # stored with the default sections, picks included
    assert set(ACCOUNT_ONLY) <= set(sub.sections)
    token = lib.links.token("manage", sub)
    with TestClient(create_app(lib)) as visitor:
        boxes = choices(visitor.get("/subscription/manage", params={"token": token}).text)
        assert not {f"sections={name}" for name in ACCOUNT_ONLY} & ticked(boxes)
        assert "sections=trending" in ticked(boxes)


def test_the_account_page_links_to_the_email_settings(lib: Library) -> None:
    with TestClient(create_app(lib)) as ann:
        sign_in(ann, lib, "ann")
        tree = lxml.html.fromstring(ann.get("/account").text)
        link = tree.xpath("//main//a[@href='/account/subscription']")
        assert link and "email digest" in link[0].text_content().lower()
        followed = ann.get("/account/subscription")  # no digest yet: the subscribe form, her address filled in
        assert followed.url.path == "/subscribe" and 'value="ann@example.org"' in followed.text


def test_invite_links_are_absolute_under_the_public_url(lib: Library) -> None:
    with TestClient(create_app(lib)) as root:
        sign_in(root, lib, "root")  # the first account: the admin
        page = root.post("/account/invites", data={"csrf_token": token_of(root, "/account")})
        assert page.status_code == 200
        shown = lxml.html.fromstring(page.text).xpath("//code[@id='invite-url']")[0].text_content()
        assert shown.startswith(f"{PUBLIC}/signup?invite=") and "//signup" not in shown

    env = cli_env(lib.config)
    printed = CliRunner().invoke(main, ["users", "invite"], env={**env, "DAILYPAPERS_PUBLIC_URL": PUBLIC})
    assert printed.exit_code == 0 and printed.output.startswith(f"{PUBLIC}/signup?invite="), printed.output
    relative = CliRunner().invoke(main, ["users", "invite"], env=env)  # without a public address: the path
    assert relative.exit_code == 0 and relative.output.startswith("/signup?invite="), relative.output
