"""The topic map in headless Chromium at 100k papers: first paint and frame times of pan and zoom.

    python -m bench.map_browser [--n 100000]

Builds (once, cached under ``bench/data/map-<n>/``) a SQLite library of ``n`` synthetic papers
(:func:`bench.corpus.synthetic`) whose map points are drawn around 80 topic centres (the drawing is measured, not
the layout: ``bench/topics.py`` measures that), serves it with ``dailypapers serve``, and opens ``/map`` in Debian's
Chromium (Playwright, no GPU: software rendering). Measured: ``/api/map``'s size and time, the time from navigation
to the first drawn frame (``window.mapStats.firstPaint`` counts from the script's start; this bench reports from
navigation start), and the time of each frame of 60 scripted zoom and pan steps (each step redraws all points).
``--static``: the browser's side alone, on a static copy of the page and of ``/api/map``'s JSON in its exact shape
(no library to build: what was run on the shared 2-core machine). Results: ``bench/results/map_browser.json``.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np

from bench.corpus import CACHE, load_demo, synthetic
from dailypapers.config import Config
from dailypapers.library import Library
from tests.demo import running_server

RESULTS = Path(__file__).resolve().parent / "results" / "map_browser.json"
TOPICS = 80


def build(n: int) -> Config:
    """The library of ``n`` synthetic papers with map points (built once)."""
    config = Config(data_dir=CACHE / f"map-{n}", password_hash="cheapest")
    done = config.data_dir / "built"
    if done.exists():
        return config
    lib = Library(config)
    lib.init()
    papers = [p for p, _ in synthetic(load_demo(), n, seed=0)]
    lib.ingest(papers, progress=False, index=False)
    rng = np.random.default_rng(0)
    centres = rng.random((TOPICS, 2)) * 0.8 + 0.1
    keys = sorted(p.pk for p in lib.store.iter_papers() if p.pk is not None)
    topic = rng.integers(TOPICS, size=len(keys))
    xy = np.clip(centres[topic] + rng.normal(scale=0.04, size=(len(keys), 2)), 0, 1)
    points = [dict(paper_pk=pk, x=float(xy[i, 0]), y=float(xy[i, 1]), cluster=int(topic[i]), generation=1,
                   placed="fit", day="2025-01-01", category="cs.LG") for i, pk in enumerate(keys)]  # fmt: skip
    clusters = [dict(id=t, generation=1, terms=f"topic {t}; words", size=int((topic == t).sum()),
                     x=float(centres[t, 0]), y=float(centres[t, 1])) for t in range(TOPICS)]  # fmt: skip
    lib.topics.tables.replace_layout(points, clusters)
    lib.close()
    done.write_text("ok\n")
    return config


def measure(base: str, page: str = "/map", api: str = "/api/map") -> dict[str, object]:
    from playwright.sync_api import sync_playwright

    started = time.perf_counter()
    body = httpx.get(base + api, timeout=120).content
    sizes: dict[str, object] = {"api_map_bytes": len(body), "api_map_s": round(time.perf_counter() - started, 3)}
    started = time.perf_counter()
    httpx.get(base + api, timeout=120)
    sizes["api_map_s_again"] = round(time.perf_counter() - started, 3)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page(viewport={"width": 1100, "height": 1600})
        tab.goto(base + page)
        tab.wait_for_selector('#topic-map[data-ready="1"]', timeout=300_000)
        first = tab.evaluate("window.mapStats.firstPaintAt")  # the first frame drawn, from navigation start
        paint = tab.evaluate("window.mapStats.firstPaint")
        tab.evaluate("window.mapStats.frames = []")
        tab.evaluate("""() => new Promise(done => {
            const c = document.getElementById('topic-map').getBoundingClientRect();
            let i = 0;
            function step() {
                if (i >= 60) { done(); return; }
                window.mapZoomAt(c.left + c.width / 2, c.top + c.height / 2, i < 30 ? 1.08 : 1 / 1.08);
                i++; requestAnimationFrame(() => requestAnimationFrame(step));
            }
            step();
        })""")
        frames = tab.evaluate("window.mapStats.frames")
        browser.close()
    times = {"median": np.median(frames), "p95": np.percentile(frames, 95), "max": max(frames)}
    return {**sizes, "first_frame_from_navigation_ms": round(first), "first_paint_from_script_ms": round(paint),
            "frames": len(frames), **{f"frame_ms_{k}": round(float(v), 1) for k, v in times.items()}}  # fmt: skip


@contextmanager
def static_site(n: int) -> Iterator[str]:
    """``/map``'s script and ``n`` points in ``/api/map``'s exact shape, served by a plain HTTP server (the
    browser's side alone: no library to build)."""
    from dailypapers.web.templating import STATIC_DIR

    folder = CACHE / f"map-static-{n}"
    (folder / "static").mkdir(parents=True, exist_ok=True)
    (folder / "api" / "map").mkdir(parents=True, exist_ok=True)
    shutil.copy(STATIC_DIR / "map.js", folder / "static" / "map.js")
    shutil.copy(STATIC_DIR / "map.css", folder / "static" / "map.css")
    rng = np.random.default_rng(0)
    centres = rng.random((TOPICS, 2)) * 0.8 + 0.1
    topic = rng.integers(TOPICS, size=n)
    xy = np.clip(centres[topic] + rng.normal(scale=0.04, size=(n, 2)), 0, 1)
    body = {
        "generation": 1, "count": n, "days": ["2025-01-01"], "categories": ["cs.LG"], "query": "", "search": [],
        "mine": [], "titles_url": "/api/map/titles.json",
        "topics": [{"id": t, "label": f"topic {t}", "terms": [f"topic {t}", "words"], "size": int((topic == t).sum()),
                    "x": round(centres[t, 0] * 10_000), "y": round(centres[t, 1] * 10_000), "search_url": "/"}
                   for t in range(TOPICS)],
        "points": {"id": [f"2501.{i:05d}" for i in range(n)], "x": [round(v) for v in xy[:, 0] * 10_000],
                   "y": [round(v) for v in xy[:, 1] * 10_000], "topic": topic.tolist(), "day": [0] * n,
                   "category": [0] * n},
    }  # fmt: skip
    (folder / "api" / "map" / "index.json").write_text(json.dumps(body, separators=(",", ":")))
    titles = {
        "generation": 1,
        "titles": [f"A synthetic paper about topic {t}, number {i}" for i, t in enumerate(topic)],
    }
    (folder / "api" / "map" / "titles.json").write_text(json.dumps(titles, separators=(",", ":")))
    (folder / "map.html").write_text(
        '<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/static/map.css">'
        '<script src="/static/map.js" defer></script></head><body style="width:1000px"><div class="map-frame">'
        '<canvas id="topic-map" data-src="/api/map/index.json" data-since="" data-until="" data-category="">'
        '</canvas><p class="map-tip" id="map-tip" hidden></p></div></body></html>'
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--static", action="store_true", help="the browser's side alone, on a static copy")
    args = parser.parse_args()
    started = time.perf_counter()
    result: dict[str, object]
    if args.static:
        with static_site(args.n) as base:
            result = {"n": args.n, "mode": "static", **measure(base, page="/map.html", api="/api/map/index.json")}
    else:
        config = build(args.n)
        built = round(time.perf_counter() - started, 1)
        with running_server(config, timeout=300) as base:
            result = {"n": args.n, "mode": "server", "build_s": built, **measure(base)}
    result["when"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
