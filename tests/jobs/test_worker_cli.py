"""The jobs from the command line, as real processes on both backends: ``dailypapers worker --once`` started twice
at the same moment runs each due job once; ``jobs run`` killed with SIGKILL mid-run shows as interrupted in
``dailypapers status`` and is recorded so by the next run; ``jobs list``, ``status`` and ``status --json``; and a
fresh instance whose server runs the schedule in-process fills its daily page by itself from the feed host.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.jobs.registry import JOBS
from dailypapers.jobs.runs import JobRuns, utc_now
from dailypapers.library import Library
from dailypapers.mail.digests import DigestReport
from dailypapers.mail.outbox import DeliveryReport
from tests.demo import cli_env, running_server, server_env
from tests.jobs.conftest import BlockingFeed

ROOT = Path(__file__).resolve().parents[2]


def _env(config: Config, feed: BlockingFeed, **extra: str) -> dict[str, str]:
    return server_env(
        config,
        DAILYPAPERS_CATEGORIES="cs.LG",
        DAILYPAPERS_ARXIV_FEED_URL=feed.url,
        **extra,
    )


def _cli(config: Config, feed: BlockingFeed, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dailypapers", *args],
        cwd=ROOT,
        env=_env(config, feed, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _runs(config: Config) -> list[tuple[str, str, str]]:
    lib = Library(config)
    try:
        return sorted((r.job, r.trigger, r.status) for r in JobRuns(lib.db).recent())
    finally:
        lib.close()


@pytest.mark.slow  # two worker processes
def test_two_workers_started_together_run_each_due_job_once(db_config: Config, feed: BlockingFeed) -> None:
    schedule = {"DAILYPAPERS_SCHEDULE": "ingest.announcements=0 * * * *"}  # the slot: the start of this hour
    feed.gate.clear()  # hold the winner at the feed until both workers have looked
    workers = [_cli(db_config, feed, "worker", "--once", **schedule) for _ in range(2)]
    assert feed.arrived.wait(60), "no worker asked the feed"
    time.sleep(1.0)  # the loser has looked by now (it needs no feed)
    feed.gate.set()
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    # The loser either saw the winner's claim (nothing due) or looked a moment before it and then found the lock
    # held ("busy") or the slot taken: whichever, one worker ran the job, and the feed was read once.
    assert sum("ingest.announcements: ok" in out for out in outputs) == 1, outputs
    loser = next(out for out in outputs if "ingest.announcements: ok" not in out)
    assert "no job was due" in loser or any(f"ingest.announcements: {r}" in loser for r in ("busy", "taken")), outputs
    assert len(feed.seen) == 1
    assert _runs(db_config) == [("ingest.announcements", "schedule", "ok")]


def test_a_killed_run_shows_as_interrupted_and_is_recorded_so(db_config: Config, feed: BlockingFeed) -> None:
    feed.gate.clear()
    proc = _cli(db_config, feed, "jobs", "run", "ingest.announcements")
    assert feed.arrived.wait(60), "the job never asked the feed"
    os.kill(proc.pid, signal.SIGKILL)  # mid-request: the run row says "running", and nobody holds the lock
    proc.wait(30)
    feed.gate.set()
    env = {**cli_env(db_config), "DAILYPAPERS_CATEGORIES": "cs.LG", "DAILYPAPERS_ARXIV_FEED_URL": feed.url}
    status = CliRunner().invoke(main, ["status", "--json"], env=env)
    assert status.exit_code == 0, status.output
    jobs = {j["name"]: j for j in json.loads(status.stdout)["jobs"]}
    assert jobs["ingest.announcements"]["last"]["status"] == "interrupted"
    assert _runs(db_config) == [("ingest.announcements", "manual", "running")]  # stored: still as the dead run left it

    again = CliRunner().invoke(main, ["jobs", "run", "ingest.announcements"], env=env)
    assert again.exit_code == 0, again.output
    assert "ingest.announcements: ok" in again.output and '"added": 3' in again.output
    job = "ingest.announcements"
    assert _runs(db_config) == [(job, "manual", "interrupted"), (job, "manual", "ok")]


def test_jobs_list_and_status_print_every_job(db_config: Config, feed: BlockingFeed) -> None:
    env = {**cli_env(db_config), "DAILYPAPERS_SCHEDULE": "index.embed=*/10 * * * *"}
    listed = CliRunner().invoke(main, ["jobs", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    names = [line.split()[0] for line in lines]
    assert names == sorted(JOBS) and {"index.embed", "ingest.announcements", "mail.deliver"} <= set(names)
    embed, announcements = lines[names.index("index.embed")], lines[names.index("ingest.announcements")]
    assert "*/10 * * * *" in embed and "never run" in embed and "by hand" in announcements

    assert CliRunner().invoke(main, ["jobs", "run", "index.embed"], env=env).exit_code == 0
    printed = CliRunner().invoke(main, ["status"], env=env)
    assert printed.exit_code == 0, printed.output
    assert "papers            0" in printed.output and "last announcement none yet" in printed.output
    assert any(line.startswith("index.embed") and " ok " in line for line in printed.output.splitlines())
    bad = CliRunner().invoke(main, ["jobs", "run", "nope"], env=env)
    assert bad.exit_code == 2 and "'nope' is not one of" in bad.output
    broken = CliRunner().invoke(main, ["worker", "--once"], env={**env, "DAILYPAPERS_SCHEDULE": "nope=* * * * *"})
    assert broken.exit_code == 1 and "unknown job 'nope'" in broken.output


def test_status_prints_a_runs_counts_as_words(db_config: Config) -> None:
    """``dailypapers status`` says what a digest run did in words, its delivery's report too, never as a Python
    dict (issue 21 item 8)."""
    lib = Library(db_config)
    try:
        runs = JobRuns(lib.db)
        run_id = runs.claim("digest.send", slot=None, attempt=1, trigger="manual", now=utc_now())
        assert run_id is not None
        counts = DigestReport(subscriptions=3, delivery=DeliveryReport(sent=2, skipped_locked=True)).counts()
        runs.finish(run_id, "ok", counts=counts, now=utc_now())
    finally:
        lib.close()
    printed = CliRunner().invoke(main, ["status"], env=cli_env(db_config))
    assert printed.exit_code == 0, printed.output
    line = next(line for line in printed.output.splitlines() if line.startswith("digest.send"))
    assert "{" not in line and "'" not in line and "True" not in line, line
    assert line.endswith(
        "3 subscriptions, 0 due, 0 recorded, 0 already, 0 empty, 0 failed; delivery: 2 sent,"
        " 0 retried, 0 failed, skipped: locked, 0 held, 0 recovered, 0 cancelled"
    ), line


@pytest.mark.slow
def test_a_fresh_instance_fills_its_daily_page_by_itself(db_config: Config, feed: BlockingFeed) -> None:
    """`dailypapers serve` with categories and a schedule, nothing else: the in-process scheduler reads the feed at
    the start and embeds the papers, so Monday's list has them and search finds them by
    meaning."""
    every_minute = "ingest.announcements=* * * * *; index.embed=* * * * *"
    config = replace(db_config)
    settings = {"DAILYPAPERS_CATEGORIES": "cs.LG", "DAILYPAPERS_ARXIV_FEED_URL": feed.url}
    with running_server(config, env={**settings, "DAILYPAPERS_SCHEDULE": every_minute}) as url:
        deadline = time.monotonic() + 90
        while True:
            day = httpx.get(f"{url}/api/days/2024-12-02", timeout=10)
            status = httpx.get(f"{url}/healthz", timeout=10).json()
            embedded = _embedded(config)
            if day.status_code == 200 and len(day.json()["papers"]) == 3 and embedded == 3:
                break
            assert time.monotonic() < deadline, (day.status_code, status, embedded)
            time.sleep(0.5)
        titles = {p["title"] for p in day.json()["papers"]}
        assert "Sparse Mixtures of Tiny Experts" in titles
        found = httpx.get(f"{url}/api/search", params={"q": "routing tokens to small experts", "mode": "semantic"})
        assert found.status_code == 200
        assert found.json()["results"][0]["title"] == "Sparse Mixtures of Tiny Experts"


def _embedded(config: Config) -> int:
    lib = Library(config)
    try:
        return lib.papers.embedding_counts().get(lib.embedder.name, 0)
    finally:
        lib.close()


def test_serve_refuses_a_bad_schedule_before_starting(db_config: Config) -> None:
    env = {**cli_env(db_config), "DAILYPAPERS_SCHEDULE": "index.embed=every day"}
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code == 1
    assert "'every day' (for index.embed) is not a five-field cron expression" in result.output
