"""A realistic load on the real server: N concurrent clients for T seconds on 127.0.0.1, on each backend.

``python -m bench.load`` (defaults: 100 clients, 60 s, ``--workers 2``, both backends) builds the demo library (its
298 papers, embedded with the configured model) in a fresh data folder / database per backend, creates one account
and API token per client, starts ``dailypapers serve --workers 2`` (``tests.demo.running_server``), warms every
worker up, and runs the clients (``httpx.AsyncClient``, one connection each) through a mix of what people do: the
daily page (HTML and JSON), paper pages, short searches (HTML and JSON), pasted abstracts (``POST /api/search``),
trending, the Atom feed, "For you", votes and comments. It reports, per request kind, the count and p50/p95/p99 in
ms; the errors (a 5xx or a connection failure; a 4xx is the request's own fault and counted apart); and **lost
writes**: every vote and comment the server acknowledged is compared with the database afterwards (a vote's last
acknowledged state per user and paper must be the stored one; every acknowledged comment must be stored). A write
whose request failed has an unknown outcome and is left out of the comparison.

The rate limits of votes and comments are lifted for the run (it measures the server, not the limits). The clients
run on the same machine as the server, so their CPU counts against it. Results: ``bench/results/load.json`` and a
table on standard output. Smoke run: ``python -m bench.load --clients 10 --seconds 10 --backends sqlite``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench.backends import Backends
from bench.measure import summarize
from dailypapers.config import Config
from dailypapers.db.schema import comments, users, votes
from dailypapers.library import Library

RESULTS = Path(__file__).parent / "results" / "load.json"
SHORT_QUERIES = [
    "attention",
    "graph neural networks",
    "diffusion models for images",
    "reinforcement learning",
    "language model alignment",
    "contrastive learning",
    "sparse mixture of experts",
    "protein folding",
]
# What a visit is made of, by weight (%): reads dominate; writes are votes and comments of signed-in users.
MIX = {
    "daily_html": 12,
    "daily_json": 8,
    "paper": 15,
    "search": 15,
    "search_html": 6,
    "pasted": 5,
    "trending": 5,
    "feed": 5,
    "for_you": 7,
    "vote": 15,
    "comment": 7,
}
SERVER_ENV = {"DAILYPAPERS_VOTE_RATE_LIMIT": "0", "DAILYPAPERS_COMMENT_RATE_LIMIT": "1000000/minute"}


@dataclass
class Client:
    """One simulated person: an account, its API token, and what the server acknowledged to it."""

    name: str
    token: str
    votes: dict[str, bool] = field(default_factory=dict)  # paper id -> last acknowledged state
    unknown_votes: set[str] = field(default_factory=set)  # papers whose last vote request failed
    comments: set[str] = field(default_factory=set)  # acknowledged comment ids


@dataclass
class Tally:
    ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # 5xx and connection failures
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # 4xx
    samples: list[str] = field(default_factory=list)  # a few error descriptions


def prepare(config: Config, clients: int) -> tuple[list[Client], list[str], list[str]]:
    """The demo library on ``config`` (migrated, imported, embedded), one account + token per client; returns the
    clients, the paper ids and some abstracts to paste."""
    from dailypapers.demo import import_demo

    lib = Library(config)
    try:
        lib.init()
        import_demo(lib, None, date.today(), progress=False)
        made = []
        for i in range(clients):
            user = lib.accounts.create_user(f"load{i}", f"load{i}@example.org", f"load test password {i} xyzzy")
            made.append(Client(user.id, lib.accounts.create_token(user, "load")[0]))
        papers = list(lib.store.iter_papers())
    finally:
        lib.close()
    return made, [p.id for p in papers], [p.abstract for p in papers if len(p.abstract) > 600][:50]


def _request(kind: str, rng: random.Random, ids: list[str], abstracts: list[str], me: Client) -> dict[str, Any]:
    """The method, URL, parameters or body of one request of ``kind``."""
    paper = rng.choice(ids)
    auth = {"Authorization": f"Bearer {me.token}"}
    return {
        "daily_html": {"method": "GET", "url": "/"},
        "daily_json": {"method": "GET", "url": "/api/latest"},
        "paper": {"method": "GET", "url": f"/papers/{paper}"},
        "search": {"method": "GET", "url": "/api/search", "params": {"q": rng.choice(SHORT_QUERIES)}},
        "search_html": {"method": "GET", "url": "/search", "params": {"q": rng.choice(SHORT_QUERIES)}},
        "pasted": {"method": "POST", "url": "/api/search", "json": {"q": rng.choice(abstracts)}, "headers": auth},
        "trending": {"method": "GET", "url": "/api/trending"},
        "feed": {"method": "GET", "url": "/feeds/latest.atom"},
        "for_you": {"method": "GET", "url": "/api/for-you", "headers": auth},
        "vote": {"method": "POST", "url": f"/api/votes/{paper}", "json": {"up": rng.random() < 0.8}, "headers": auth},
        "comment": {
            "method": "POST",
            "url": f"/api/comments/{paper}",
            "headers": auth,
            "json": {"body": f"Load test comment {rng.random():.6f} on {paper}."},
        },
    }[kind]


async def _client(
    http: httpx.AsyncClient, me: Client, seed: int, deadline: float, tally: Tally, ids: list[str], abstracts: list[str]
) -> None:
    rng = random.Random(seed)
    kinds, weights = list(MIX), list(MIX.values())
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        spec = _request(kind, rng, ids, abstracts, me)
        started = time.perf_counter()
        try:
            answer = await http.request(**spec)
        except httpx.HTTPError as exc:
            tally.ms[kind].append((time.perf_counter() - started) * 1000)
            _failed(tally, kind, f"{type(exc).__name__}: {exc}", me, spec)
            continue
        tally.ms[kind].append((time.perf_counter() - started) * 1000)
        if answer.status_code >= 500:
            _failed(tally, kind, f"{answer.status_code} {spec['url']}: {answer.text[:200]}", me, spec)
        elif answer.status_code >= 400:
            tally.refused[kind] += 1
            if len(tally.samples) < 20:
                tally.samples.append(f"{answer.status_code} {spec['url']}: {answer.text[:200]}")
        elif kind == "vote":
            body = answer.json()
            me.votes[body["paper"]] = bool(body["voted"])
            me.unknown_votes.discard(body["paper"])
        elif kind == "comment":
            me.comments.add(answer.json()["comment"]["id"])


def _failed(tally: Tally, kind: str, what: str, me: Client, spec: dict[str, Any]) -> None:
    tally.errors[kind] += 1
    if len(tally.samples) < 20:
        tally.samples.append(what)
    if kind == "vote":  # the server may or may not have stored it
        me.unknown_votes.add(spec["url"].removeprefix("/api/votes/"))


def lost_writes(config: Config, clients: list[Client]) -> dict[str, int]:
    """Acknowledged writes missing from the database (and votes stored against the last acknowledgement)."""
    lib = Library(config)
    try:
        with lib.db.read() as conn:
            ids = {r.id: r.id for r in conn.execute(select(users.c.id))}
            stored_votes = {(str(r.voter), int(r.paper_pk)) for r in conn.execute(select(votes))}
            stored_comments = {str(r.id) for r in conn.execute(select(comments.c.id))}
        pks = {p.id: p.pk for p in lib.store.iter_papers()}
    finally:
        lib.close()
    lost_votes = wrong_votes = acked = lost_comments = 0
    for me in clients:
        assert me.name in ids
        for paper, up in me.votes.items():
            if paper in me.unknown_votes:
                continue
            acked += 1
            there = (f"user:{me.name}", pks[paper]) in stored_votes
            lost_votes += up and not there
            wrong_votes += there and not up
        lost_comments += len(me.comments - stored_comments)
    comments_acked = sum(len(me.comments) for me in clients)
    return {
        "votes_acknowledged": acked,
        "votes_lost": lost_votes,
        "votes_wrong": wrong_votes,
        "comments_acknowledged": comments_acked,
        "comments_lost": lost_comments,
    }


async def _warm_up(base: str, ids: list[str], workers: int, max_s: float = 300.0) -> None:
    """Every worker loads the model and the indexes before the clock starts (a worker's first search does): rounds
    of concurrent searches on fresh connections, until a whole round answers within a second or two."""
    deadline = time.monotonic() + max_s
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            async with httpx.AsyncClient(base_url=base, timeout=max_s, limits=httpx.Limits(keepalive_expiry=4)) as h:
                queries = [SHORT_QUERIES[i % len(SHORT_QUERIES)] for i in range(4 * workers)]
                await asyncio.gather(*(h.get("/api/search", params={"q": q}) for q in queries))
                await h.get(f"/papers/{ids[0]}")
        except httpx.HTTPError:  # a worker still starting: not the load's to count, try another round
            continue
        if time.perf_counter() - started < 2.0:
            return


async def _drive(base: str, clients: list[Client], seconds: float, ids: list[str], abstracts: list[str]) -> Tally:
    tally = Tally()
    # uvicorn closes a connection idle for 5 s (--timeout-keep-alive): the clients let go of one idle for 4 s first,
    # or a request sent on it as the server closes it fails with "Server disconnected" (a race, not an error).
    limits = httpx.Limits(max_connections=len(clients), max_keepalive_connections=len(clients), keepalive_expiry=4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(_client(http, me, n, deadline, tally, ids, abstracts) for n, me in enumerate(clients)))
    return tally


def run_backend(backends: Backends, backend: str, clients: int, seconds: float, workers: int) -> dict[str, Any]:
    from tests.demo import running_server

    config = backends.config(backend, "load")
    people, ids, abstracts = prepare(config, clients)
    with running_server(config, workers=workers, timeout=180, env=SERVER_ENV) as base:
        asyncio.run(_warm_up(base, ids, workers))
        servers = _server_pids(base, backends if backend == "postgres" else None)
        cpu_before, started = _cpu_seconds(servers), time.perf_counter()
        tally = asyncio.run(_drive(base, people, seconds, ids, abstracts))
        elapsed, cpu = time.perf_counter() - started, _cpu_seconds(servers) - cpu_before
    kinds = {k: _kind(v, tally.errors[k], tally.refused[k]) for k, v in sorted(tally.ms.items())}
    every = [ms for v in tally.ms.values() for ms in v]
    kinds["all"] = _kind(every, sum(tally.errors.values()), sum(tally.refused.values()))
    return {
        "backend": backend,
        "clients": clients,
        "workers": workers,
        "seconds": round(elapsed, 1),
        "requests": len(every),
        "rps": round(len(every) / elapsed, 1),
        "errors": kinds["all"]["errors"],
        # CPU the server spent (web workers; on PostgreSQL its processes too) per request of this mix, in ms
        "server_cpu_s": round(cpu, 2),
        "server_cpu_ms_per_request": round(1000 * cpu / max(len(every), 1), 2),
        "kinds": kinds,
        "writes": lost_writes(config, people),
        "error_samples": tally.samples,
    }


def _kind(ms: list[float], errors: int, refused: int) -> dict[str, Any]:
    """Count, errors and latency percentiles (ms) of one kind of request."""
    found = {"requests": len(ms), "errors": errors, "refused_4xx": refused}
    if ms:
        found |= {f"{k}_ms": round(v, 1) for k, v in summarize(ms).items() if k in ("p50", "p95", "p99", "mean")}
    return found


def _server_pids(base: str, backends: Backends | None) -> list[int]:
    """The processes that serve: ``dailypapers serve`` and its workers, and the PostgreSQL server's (if any)."""
    from bench.http_load import _children, _serve_pid

    serve = _serve_pid(base.rsplit(":", 1)[1])
    pids = [serve, *_children(serve)]
    if backends is not None:
        postmaster = int((backends.workdir / "pgdata" / "postmaster.pid").read_text().split()[0])
        pids += [postmaster, *_children(postmaster)]
    return pids


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and of their children that ended (``/proc/<pid>/stat``)."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in pids:
        try:
            fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended since: its time went to its parent's children's time
            continue
        total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / tick


def table(result: dict[str, Any]) -> str:
    """The run as a text table: one row per kind of request, then the writes."""
    r = result
    rows = [
        f"{r['backend']}: {r['clients']} clients, {r['seconds']} s, {r['workers']} workers, "
        f"{r['requests']} requests ({r['rps']}/s), {r['errors']} errors, server CPU {r['server_cpu_ms_per_request']} ms"
        " a request",
        f"{'kind':12} {'requests':>8} {'errors':>6} {'4xx':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}",
    ]
    for kind, k in r["kinds"].items():
        p50, p95, p99 = (k.get(f"{p}_ms", 0.0) for p in ("p50", "p95", "p99"))
        rows.append(
            f"{kind:12} {k['requests']:>8} {k['errors']:>6} {k['refused_4xx']:>5} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}"
        )
    w = r["writes"]
    rows.append(
        f"writes: {w['votes_acknowledged']} votes acknowledged, {w['votes_lost']} lost, {w['votes_wrong']} "
        f"wrong; {w['comments_acknowledged']} comments acknowledged, {w['comments_lost']} lost"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dailypapers-load"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    backends = Backends(args.workdir)
    runs = []
    try:
        for backend in args.backends.split(","):
            result = run_backend(backends, backend, args.clients, args.seconds, args.workers)
            print(table(result), flush=True)
            runs.append(result)
    finally:
        backends.close()
    command = "python -m bench.load " + " ".join(sys.argv[1:] if argv is None else argv)
    out = {
        "command": command.strip(),
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
