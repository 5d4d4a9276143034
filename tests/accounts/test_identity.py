"""Look-alike identities (issue 21 #16), reserved names and the CLI's word on revoked tokens: usernames and account
emails are stored NFKC without invisible or direction-changing characters (so a look-alike meets the account it
copies), usernames mixing alphabets are refused with a sentence, and comments, collection and saved-search names
lose bidi controls and zero-width characters before they are stored — through the sign-up form and the services,
on both backends."""

from __future__ import annotations

import dataclasses
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dailypapers.accounts.models import check_email, check_username
from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.errors import BadInput
from dailypapers.library import Library
from dailypapers.papers.models import Filters, make_paper
from dailypapers.papers.text import free_text, identity, name_text, scripts
from tests.demo import cli_env
from tests.web.account_mail import app_of
from tests.web.small_library import LORA, token_of

PASSWORD = "correct horse battery"
RLO, RLM, ZWSP, BOM, LRI, PDI = "\u202e", "\u200f", "\u200b", "\ufeff", "\u2066", "\u2069"


def test_the_text_rules() -> None:
    assert identity("ａｌｉｃｅ") == "alice" and identity(f"al{ZWSP}ice{RLM}") == "alice"
    assert scripts("alicе") == ["LATIN", "CYRILLIC"] and scripts("a1-b_2") == ["LATIN"] and scripts("42") == []
    assert free_text(f"O(n²) is {RLO}fine{LRI}!{PDI}{BOM}") == "O(n²) is fine!"  # NFC: the superscript stays
    assert name_text(f"ﬁnal {ZWSP}list") == "final list"
    assert free_text("👩\u200d🔬") == "👩\u200d🔬"  # the joiner of an emoji sequence stays in free text


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("Alice", "alice"), ("ａｌｉｃｅ", "alice"), (f"ali{ZWSP}ce", "alice"), (f"alice{RLM}", "alice"),
     (f"{BOM}alice", "alice")],
)  # fmt: skip
def test_usernames_are_stored_in_one_form(typed: str, stored: str) -> None:
    assert check_username(typed) == stored


@pytest.mark.parametrize("typed", ["alicе", "аlice", "bоb-42", "αlice"])  # Cyrillic е, а, о; Greek α
def test_usernames_mixing_alphabets_are_refused_with_a_sentence(typed: str) -> None:
    with pytest.raises(BadInput, match="cannot mix alphabets"):
        check_username(typed)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [(f"alice{ZWSP}@example.org", "alice@example.org"), (f"alice@example.org{RLM}", "alice@example.org"),
     ("ＡＬＩＣＥ@example.org", "alice@example.org"), ("ann@bücher.example", "ann@xn--bcher-kva.example")],
)  # fmt: skip
def test_account_emails_are_stored_in_one_form(typed: str, stored: str) -> None:
    assert check_email(typed) == stored


def test_a_cyrillic_letter_before_the_at_is_refused() -> None:
    with pytest.raises(BadInput, match="plain ASCII"):
        check_email("аlice@example.org")  # Cyrillic а


@pytest.fixture
def lib(db_config: Config) -> Library:
    library = Library(dataclasses.replace(db_config, signup="open", signup_rate_limit="100/hour"))
    library.init()
    library.accounts.create_user("alice", "alice@example.org", PASSWORD)
    return library


def _sign_up(lib: Library, username: str, email: str) -> tuple[int, str]:
    client = TestClient(app_of(lib), follow_redirects=False)
    form = {"username": username, "email": email, "password": PASSWORD, "csrf_token": token_of(client, "/signup")}
    page = client.post("/signup", data=form)
    found = re.search(r'<p class="form-error" role="alert">([^<]*)</p>', page.text)
    return page.status_code, found.group(1) if found else ""


def test_look_alikes_meet_the_account_they_copy_at_sign_up(lib: Library) -> None:
    try:
        assert _sign_up(lib, f"ali{ZWSP}ce", "other@example.org") == (
            409,
            "That username is taken; choose another one.",
        )
        assert _sign_up(lib, "ａｌｉｃｅ", "other@example.org")[0] == 409
        assert _sign_up(lib, "alice2", f"alice{ZWSP}@example.org")[0] == 409  # the same mailbox
        status, message = _sign_up(lib, "alicе", "other@example.org")  # Cyrillic е
        assert status == 400 and "cannot mix alphabets (Latin and Cyrillic letters)" in message
        assert _sign_up(lib, "bob", "bоb@example.org")[0] == 400  # Cyrillic о in the address
        assert [u.username for u in lib.accounts.list_users()] == ["alice"]
    finally:
        lib.close()


@pytest.mark.parametrize("name", ["dailypapers", "admin", "Administrator", "postmaster", "support"])
def test_reserved_names_are_refused_at_sign_up_only(lib: Library, name: str) -> None:
    try:
        status, message = _sign_up(lib, name, f"{name}@example.org")
        assert status == 400 and "is reserved" in message
        made = lib.accounts.create_user(name, f"{name}@example.org", PASSWORD)  # an admin's CLI may
        assert made.username == name.lower()
    finally:
        lib.close()


def test_comments_and_names_lose_invisible_and_bidi_characters(lib: Library) -> None:
    try:
        lib.ingest([make_paper(source="jsonl", arxiv_id=LORA, title="LoRA", abstract="Low-rank.")], index=False)
        alice = lib.accounts.get("alice")
        paper = lib.papers.get(LORA)
        assert paper is not None and paper.pk is not None
        comment = lib.comments.add(paper.pk, alice.id, f"great {RLO}txt.exe{PDI} paper, O(n²){ZWSP}")
        assert comment.body == "great txt.exe paper, O(n²)"
        collection = lib.collections.create(alice.id, f"Ｒeading{ZWSP} {RLO}list", description=f"see {RLM}this")
        assert (collection.name, collection.description) == ("Reading list", "see this")
        saved = lib.saved_searches.save(alice.id, name=f"lora{LRI} alerts{PDI}", query="lora", filters=Filters())
        assert saved.name == "lora alerts"
    finally:
        lib.close()


def test_set_password_says_how_many_api_tokens_were_revoked(db_config: Config) -> None:
    lib = Library(db_config)
    lib.init()
    ada = lib.accounts.create_user("ada", "ada@example.org", PASSWORD)
    lib.accounts.create_token(ada, "laptop")
    lib.accounts.create_token(ada, "server")
    lib.close()
    result = CliRunner().invoke(main, ["users", "set-password", "ada", "--password-stdin"], env=cli_env(db_config),
                                input="a brand new pass phrase\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 API tokens were revoked" in result.output
