"""Access and job log lines: real requests carrying real secrets (signed email links, a private feed token, an
invite, an API token), the lines captured and formatted as text and as JSON: no secret appears in any of them,
a long query is cut, a request's id is the line's, a signed-in user is named by id and never by email."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from dailypapers.jobs.scheduler import run_now
from dailypapers.library import Library
from dailypapers.ops.logs import ACCESS_LOGGER, TEXT_FORMAT, JsonLogFormatter, redact_target
from dailypapers.web.app import create_app
from tests.demo import running_server


@dataclass(frozen=True)
class Sub:  # what a link is signed over (dailypapers.mail.links.Signed)
    id: str = "sub-1"
    nonce: str = "n0nce"


def _secret_targets(lib: Library) -> tuple[list[str], list[str]]:
    """Addresses with secrets in them, as this instance makes them, and the secrets."""
    links, sub = lib.links, Sub()
    urls = [links.confirm_url(sub), links.unsubscribe_url(sub), links.one_click_url(sub), links.manage_url(sub)]
    feed = "Zm9yLXlvdS1mZWVkLXRva2VuLXNlY3JldA"  # the shape of a private feed's token (token_urlsafe)
    invite = "aW52aXRlLXNlY3JldC1vZi0zMi1ieXRlcw"
    targets = [urlsplit(u)._replace(scheme="", netloc="").geturl() for u in urls]
    targets += [f"/feeds/for-you/{feed}.atom", f"/signup?invite={invite}", "/api/me?key=dp_apikeysecret123456"]
    secrets = [links.token("confirm", sub), links.token("unsubscribe", sub), links.token("manage", sub), feed, invite]
    return targets, [*secrets, "dp_apikeysecret123456"]


def test_redaction_of_every_secret_shape(ops_library: Library) -> None:
    targets, secrets = _secret_targets(ops_library)
    for target in targets:
        path, _, query = target.partition("?")
        shown = redact_target(path, query)
        assert "[redacted]" in shown and not any(s in shown for s in secrets), shown
    assert redact_target("/feeds/for-you/abc.def.atom") == "/feeds/for-you/[redacted].atom"
    assert (
        redact_target("/search", "q=" + "x" * 1000 + "&mode=keyword") == f"/search?q={'x' * 200}...(+800)&mode=keyword"
    )
    assert redact_target("/papers/2106.09685", "") == "/papers/2106.09685"  # nothing else changes


def _lines(records: list[logging.LogRecord]) -> list[str]:
    text, as_json = logging.Formatter(TEXT_FORMAT), JsonLogFormatter()
    return [f.format(r) for r in records for f in (text, as_json)]


def test_request_lines_hold_no_secret(ops_library: Library, caplog: pytest.LogCaptureFixture) -> None:
    lib = ops_library
    targets, secrets = _secret_targets(lib)
    user = lib.accounts.create_user("ada", "ada@example.org", "correct horse battery staple")
    api_token, _ = lib.accounts.create_token(user, "logs")
    secrets.append(api_token)
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    with TestClient(create_app(lib)) as client:
        for target in targets:
            client.get(target, follow_redirects=False)
        me = client.get("/api/me", headers={"Authorization": f"Bearer {api_token}"})
        client.get("/search", params={"q": "long " * 400})
    records = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    assert len(records) == len(targets) + 2
    lines = _lines(records)
    leaked = [(s, line) for s in secrets for line in lines if s in line]
    assert not leaked, leaked
    assert not any("ada@example.org" in line for line in lines)
    signed_in = next(r for r in records if r.__dict__["path"] == "/api/me")
    assert signed_in.__dict__["user_id"] == user.id and signed_in.__dict__["status"] == me.status_code == 200
    assert signed_in.__dict__["request_id"] == me.headers["X-Request-ID"]
    as_json = json.loads(JsonLogFormatter().format(signed_in))
    assert {"request_id", "route", "status", "duration_ms", "user_id"} <= set(as_json)
    assert as_json["route"] == "/api/me" and as_json["level"] == "INFO" and as_json["logger"] == ACCESS_LOGGER
    long_query = records[-1].__dict__["path"]
    assert long_query.count("long") == 40 and long_query.endswith("...(+1800)")  # 200 of its 2,000 characters


def test_job_events_are_json_lines_with_a_traceback_field(
    ops_library: Library, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="dailypapers.jobs")
    run_now(ops_library, "index.embed")

    def broken(texts: object) -> object:
        raise RuntimeError("the model is gone")

    monkeypatch.setattr(ops_library.embedder, "embed", broken)  # a job that fails: its traceback, one field
    with ops_library.db.write() as conn:  # a paper to embed, so the job calls the model
        conn.execute(text("DELETE FROM embeddings WHERE paper_pk = (SELECT min(pk) FROM papers)"))
    run_now(ops_library, "index.embed")
    events = [json.loads(JsonLogFormatter().format(r)) for r in caplog.records if getattr(r, "job", None)]
    assert [(e["job"], e["event"]) for e in events] == [
        ("index.embed", e) for e in ("started", "done", "started", "failed")
    ]
    failed = events[-1]
    assert "RuntimeError: the model is gone" in failed["traceback"] and failed["run_id"]
    assert events[1]["counts"]["embedded"] == 0


@pytest.mark.slow  # starts `dailypapers serve` with DAILYPAPERS_LOG_FORMAT=json
def test_the_server_writes_json_lines_without_secrets(ops_library: Library) -> None:
    targets, secrets = _secret_targets(ops_library)
    config = ops_library.config
    with running_server(config, env={"DAILYPAPERS_LOG_FORMAT": "json"}) as url:
        ids = [httpx.get(url + t, timeout=30, follow_redirects=False).headers["x-request-id"] for t in targets]
    logs = "".join(p.read_text() for p in config.data_dir.glob("server-*.log"))
    assert not [s for s in secrets if s in logs]
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    access = {line["request_id"]: line for line in lines if line["logger"] == ACCESS_LOGGER}
    assert set(ids) <= set(access), (ids, list(access))
    assert all(line["path"].count("[redacted]") for rid, line in access.items() if rid in ids)
    assert not [line for line in logs.splitlines() if line.strip() and not line.startswith("{")]  # JSON only
