"""``dailypapers topics`` and ``dailypapers map export --png`` on the demo's map; rising topics and key phrases
with a week-over-week rise built on purpose (through the tables the map job writes)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dailypapers.cli import main
from dailypapers.config import Config
from dailypapers.library import Library
from dailypapers.topics.rising import rising, sparkline_svg
from tests.browser.png import is_blank, pixels
from tests.demo import cli_env

# The first test builds the session's demo map (embedding, t-SNE, key phrases): minutes on 2 shared cores.
pytestmark = pytest.mark.timeout(900)

MONDAY = date(2026, 11, 16)


def test_topics_command_lists_the_topics(topics_config: Config, topics_library: Library) -> None:
    result = CliRunner().invoke(main, ["topics", "--json"], env=cli_env(topics_config))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["size"] for r in rows] == sorted((r["size"] for r in rows), reverse=True)
    assert sum(r["size"] for r in rows) == topics_library.papers.count()
    table = CliRunner().invoke(main, ["topics"], env=cli_env(topics_config))
    assert table.exit_code == 0 and ", ".join(rows[0]["terms"]) in table.output


def test_map_export_writes_a_png(topics_config: Config, tmp_path: Path) -> None:
    target = tmp_path / "map.png"
    result = CliRunner().invoke(
        main, ["map", "export", "--png", str(target), "--size", "400"], env=cli_env(topics_config)
    )
    assert result.exit_code == 0, result.output
    assert "298 papers" in result.output
    data = target.read_bytes()
    width, height, _, _ = pixels(data)
    assert (width, height) == (400, 400) and not is_blank(data)


def test_map_export_before_the_map_is_computed_says_so(db_config: Config, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["map", "export", "--png", str(tmp_path / "m.png")], env=cli_env(db_config))
    assert result.exit_code == 1 and "jobs run map" in result.output


def _weeks(counts: dict[str, list[int]]) -> list[tuple[str, str]]:
    """Rows (day, key): ``counts[key][w]`` papers in week w (oldest first, ending with MONDAY's week)."""
    rows = []
    for key, per_week in counts.items():
        for w, n in enumerate(per_week):
            day = MONDAY - timedelta(weeks=len(per_week) - 1 - w)
            rows += [(day.isoformat(), key)] * n
    return rows


def test_a_topic_whose_share_grows_rises() -> None:
    rows = _weeks({"agents": [1, 1, 2, 8], "vision": [9, 9, 8, 4], "audio": [2, 2, 2, 2]})
    found = rising(rows, MONDAY + timedelta(days=3), weeks=4)
    assert [r.key for r in found] == ["agents"]
    top = found[0]
    assert top.counts == [1, 1, 2, 8] and abs(top.shares[-1] - 8 / 14) < 1e-9
    assert abs(top.rise - (8 / 14 - (1 / 12 + 1 / 12 + 2 / 12) / 3)) < 1e-9
    assert rising(rows, MONDAY, weeks=4, min_count=9) == []  # too few papers last week
    svg = sparkline_svg(top.shares, label="share")
    assert svg.startswith("<svg") and svg.count(",") == 4  # the polyline's four points (x,y)


def test_rising_topics_reach_the_service_and_the_api(small: Library) -> None:
    from dailypapers.web.app import create_app

    newest = small.papers.latest_day()
    assert newest is not None
    first, second, third = (p.pk for p in small.papers.by_pks([1, 2, 3]))
    week_before = newest - timedelta(weeks=1)
    # A rise shaped by hand in the tables the map job writes: topic 0 has one of last week's two papers and none
    # of the week before's one.
    days = {first: newest, second: newest, third: week_before}
    points = [
        dict(paper_pk=pk, x=0.3, y=0.5, cluster=0 if pk == first else 1, generation=1, placed="fit",
             day=day.isoformat(), category="cs.LG")
        for pk, day in days.items()
    ]  # fmt: skip
    clusters = [dict(id=0, generation=1, terms="agents; tools", size=1, x=0.1, y=0.5),
                dict(id=1, generation=1, terms="vision; images", size=2, x=0.5, y=0.5)]  # fmt: skip
    small.topics.tables.replace_layout(points, clusters)
    found = small.topics.rising_topics(newest, min_count=1)
    assert [t.cluster.terms for t in found] == [["agents", "tools"]]
    assert found[0].rising is not None and found[0].rising.counts[-2:] == [0, 1]
    body = TestClient(create_app(small)).get("/api/topics/rising").json()
    assert set(body) == {"topics", "keyphrases"}  # one paper a week is below the API's minimum of three
    page = TestClient(create_app(small)).get("/map").text
    assert "Topics" in page and "agents, tools" in page
