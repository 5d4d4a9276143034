"""The JSON twin of authorship claims, with API tokens: claim, list, decide (admins), withdraw (one's own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dailypapers.library import Library
from dailypapers.web.app import create_app
from tests.web.conftest import assert_error_json
from tests.web.test_authors import authored
from tests.web.test_claims import PAPER

__all__ = ["authored"]


@pytest.fixture
def tokens(authored: Library) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """A client and a bearer header per user (root first: the first account is the admin)."""
    headers = {}
    for name in ("root", "ann", "bob"):
        user = authored.accounts.create_user(name, f"{name}@example.org", "correct horse battery")
        secret, _ = authored.accounts.create_token(user, "script")
        headers[name] = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(authored)) as client:
        yield client, headers


def test_claim_list_decide_and_withdraw_over_json(tokens: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, h = tokens
    made = client.post("/api/claims", json={"paper": PAPER, "author_name": "Ada Lovelace"}, headers=h["ann"])
    assert made.status_code == 201, made.text
    claim = made.json()["claim"]
    assert claim["status"] == "pending" and claim["username"] == "ann" and claim["paper"] == PAPER
    assert [c["id"] for c in client.get("/api/claims", headers=h["ann"]).json()["claims"]] == [claim["id"]]
    assert client.get("/api/claims", headers=h["bob"]).json()["claims"] == []  # nobody else's
    assert_error_json(client.get("/api/claims?pending=true", headers=h["bob"]), 403, "Only admins")
    pending = client.get("/api/claims?pending=true", headers=h["root"]).json()["claims"]
    assert [c["id"] for c in pending] == [claim["id"]]
    assert_error_json(client.post(f"/api/claims/{claim['id']}/approve", headers=h["bob"]), 404)  # not an admin
    assert_error_json(client.delete(f"/api/claims/{claim['id']}", headers=h["bob"]), 404)  # not bob's
    approved = client.post(f"/api/claims/{claim['id']}/approve", headers=h["root"]).json()["claim"]
    assert approved["status"] == "approved" and approved["decided_at"]
    assert PAPER in {p["id"] for p in client.get("/api/users/ann").json()["papers"]}
    assert_error_json(client.delete(f"/api/claims/{claim['id']}", headers=h["ann"]), 409)  # decided: stays


def test_bad_claims_are_clear_errors(tokens: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    client, h = tokens
    wrong = client.post("/api/claims", json={"paper": PAPER, "author_name": "Somebody Else"}, headers=h["ann"])
    assert_error_json(wrong, 400)
    unknown = client.post("/api/claims", json={"paper": "2401.99999", "author_name": "Ada"}, headers=h["ann"])
    assert_error_json(unknown, 404, "2401.99999")
    assert_error_json(client.post("/api/claims", json={"paper": PAPER, "author_name": "Ada"}), 403, "CSRF")
    first = client.post("/api/claims", json={"paper": PAPER, "author_name": "Ada Lovelace"}, headers=h["ann"])
    again = client.post("/api/claims", json={"paper": PAPER, "author_name": "Zoë Müller"}, headers=h["ann"])
    assert first.status_code == 201 and again.status_code == 409
    created = client.post("/api/claims", json={"paper": PAPER, "author_name": "Ada Lovelace"}, headers=h["bob"])
    assert created.status_code == 201
    client.delete(f"/api/claims/{created.json()['claim']['id']}", headers=h["bob"])
    assert client.get("/api/claims", headers=h["bob"]).json()["claims"] == []  # withdrawn
