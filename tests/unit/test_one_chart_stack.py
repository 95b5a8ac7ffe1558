"""One chart stack for the pages and the report: earlypath.svg_chart (hand-written SVG)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_no_module_imports_another_plotting_library() -> None:
    plotting = re.compile(r"^\s*(?:import|from)\s+(matplotlib|altair|plotly|bokeh)\b", re.M)
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "earlypath").rglob("*.py")
        if plotting.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_matplotlib_is_not_a_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any(d.startswith("matplotlib") for d in project["dependencies"])


def test_the_report_and_the_impact_page_draw_with_the_same_module() -> None:
    for module in ("audit/funnel.py", "audit/report_charts.py", "impact/plot.py"):
        text = (ROOT / "earlypath" / module).read_text(encoding="utf-8")
        assert "from earlypath.svg_chart import" in text, module
