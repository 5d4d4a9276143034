"""``dailypapers topics`` (the topics, their sizes and their rise) and ``dailypapers map export --png FILE``.

Both read what the ``map`` job stored (``dailypapers jobs run map`` computes it).
"""

from __future__ import annotations

from pathlib import Path

import click

from dailypapers.cli_common import friendly, open_library


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@friendly
def topics(as_json: bool) -> None:
    """The map's topics: size, label terms, and the rise of their share of new papers this week."""
    import json

    with open_library() as lib:
        clusters = lib.topics.clusters()
        rising = {t.cluster.id: t.rising for t in lib.topics.rising_topics(lib.papers.latest_day(), limit=1000)}
    if not clusters:
        raise click.ClickException("the topic map has not been computed yet: run `dailypapers jobs run map`")
    rises = {c.id: round(r.rise, 4) if (r := rising.get(c.id)) else 0.0 for c in clusters}
    if as_json:
        rows = [{"id": c.id, "size": c.size, "terms": c.terms, "rise": rises[c.id]} for c in clusters]
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(f"{'topic':>5} {'papers':>7} {'rise':>7}  label")
    for c in clusters:
        rise = f"+{rises[c.id] * 100:.1f}" if rises[c.id] else ""
        click.echo(f"{c.id:>5} {c.size:>7} {rise:>7}  {', '.join(c.terms)}")


@click.group("map")
def map_group() -> None:
    """The topic map (computed by the `map` job)."""


@map_group.command("export")
@click.option("--png", "png", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@click.option("--size", type=click.IntRange(200, 8000), default=1600, show_default=True, help="Width = height, px.")
@friendly
def map_export(png: Path, size: int) -> None:
    """Draw the topic map into a PNG file (a figure for slides)."""
    from dailypapers.topics.figure import export_png

    with open_library() as lib:
        points, clusters = lib.topics.points(), lib.topics.clusters()
    if not points.pks:
        raise click.ClickException("the topic map has not been computed yet: run `dailypapers jobs run map`")
    drawn = export_png(points, clusters, png, size=size)
    click.echo(f"wrote {png}: {drawn} papers in {len(clusters)} topics")
