"""The public API, the CLI command (through a local Typer app), the HTML page and the plot."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
import typer
from typer.testing import CliRunner

import earlypath.impact as impact
from earlypath.impact.command import impact_command
from earlypath.impact.page import render_impact_page
from earlypath.impact.plot import save_tornado, tornado_svg


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()
    a.command("impact")(impact_command)

    @a.command("other")
    def _other() -> None:  # a second command keeps "impact" as a subcommand name
        pass

    return a


runner = CliRunner()


def test_all_is_exported_and_resolvable():
    assert len(impact.__all__) == len(set(impact.__all__))
    for name in impact.__all__:
        assert getattr(impact, name) is not None


def test_cli_json(app):
    res = runner.invoke(app, ["impact", "--json", "--draws", "500", "--seed", "3"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["scenario"] == "nice-2021" and data["headline"]["reproduced"] is True
    assert data["outputs"]["eligible_women"]["point"] == pytest.approx(7200)
    assert {t["group"] for t in data["trials"]} == {
        "prism-all",
        "prism-prev-1plus",
        "prism-prev-0",
        "promise-all",
    }
    assert data["provenance_counts"]["implied"] == 1


def test_cli_json_is_reproducible(app):
    args = ["impact", "-s", "coomarasamy-2020", "--json", "--draws", "300", "--seed", "9"]
    assert runner.invoke(app, args).stdout == runner.invoke(app, args).stdout


def test_cli_table(app):
    res = runner.invoke(
        app,
        ["impact", "-s", "coomarasamy-2020", "--draws", "300", "--trials"],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 0, res.output
    assert "reproduces the published 8,450" in res.stdout
    assert "implied" in res.stdout and "1.079" in res.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "bogus=1"], "unknown parameter 'bogus'"),
        (["--set", "uptake=-1"], "'uptake' must be between"),
        (["-s", "nope"], "unknown scenario 'nope'"),
        (["--plot", "x.pdf"], "--plot must end in .svg"),
        (["--plot", "x.png"], "--plot must end in .svg"),
        (["--tornado-output", "x"], "--tornado-output"),
    ],
)
def test_cli_errors_exit_2_on_stderr(app, args, message):
    res = runner.invoke(app, ["impact", *args])
    assert res.exit_code == 2
    assert message in res.stderr and res.stdout == ""


def test_cli_plot(app, tmp_path):
    out = tmp_path / "t.svg"
    res = runner.invoke(app, ["impact", "--draws", "100", "--plot", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text().lstrip().startswith("<?xml") or "<svg" in out.read_text()


def test_plot_file_is_svg_only(tmp_path):
    """One chart stack (hand-written SVG, earlypath.svg_chart): PNG went with matplotlib."""
    r = impact.run_impact("nice-2021", draws=100)
    path = save_tornado(r.tornado, tmp_path / "t.svg")
    svg = path.read_text()
    assert svg.startswith("<svg") and svg.count("<rect") >= 2 * len(r.tornado.bars)
    for b in r.tornado.bars:
        assert b.parameter in svg
    with pytest.raises(ValueError, match=".svg"):
        save_tornado(r.tornado, tmp_path / "t.png")


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append((tag, dict(attrs)))


def test_page_is_self_contained_and_accessible():
    html = render_impact_page("coomarasamy-2020", draws=300)
    p = _Collect()
    p.feed(html)
    tags = [t for t, _ in p.tags]
    assert html.startswith("<!DOCTYPE html>")
    assert dict(p.tags)["html"]["lang"] == "en-GB"
    assert tags.count("h1") == 1 and "h2" in tags
    assert all(a.get("scope") in ("col", "row") for t, a in p.tags if t == "th")
    svg = [a for t, a in p.tags if t == "svg"]
    assert (
        svg and svg[0].get("role") == "img" and "Tornado chart" in (svg[0].get("aria-label") or "")
    )
    # no external resources
    assert not re.search(r'<(script|link|img)\b[^>]*(src|href)="https?:', html)
    for word in ("sourced", "implied", "assumed", "reproduces", "Counts not verified"):
        assert word in html


def test_tornado_svg_is_inline_ready():
    r = impact.run_impact("nice-2021", draws=50)
    assert tornado_svg(r.tornado).startswith("<svg")
