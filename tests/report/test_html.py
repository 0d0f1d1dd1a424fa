"""write_html_report: one self-contained file with the numbers, the chart and the trades."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

from backtestr.report import render_html_report, write_html_report
from backtestr.stats import Statistics, compute_statistics, empty_trades


class _Collector(HTMLParser):
    """Collects tags, resource URLs, table cells and script bodies, and checks nesting."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.urls: list[str] = []
        self.cells: dict[str, str] = {}
        self.scripts: list[str] = []
        self._row_key: str | None = None
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag not in {"meta", "img", "br", "link"}:
            self.stack.append(tag)
        for name in ("src", "href"):
            if values.get(name):
                self.urls.append(str(values[name]))
        if tag == "tr":
            self._row_key = values.get("data-key")
        self._in = tag

    def handle_endtag(self, tag: str) -> None:
        assert self.stack.pop() == tag, f"</{tag}> closes the wrong element"
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "td" and self._row_key:
            self.cells[self._row_key] = data
        if self._in == "script":
            self.scripts.append(data)


def _parse(text: str) -> _Collector:
    collector = _Collector()
    collector.feed(text)
    collector.close()
    assert collector.stack == []
    return collector


def test_report_is_valid_self_contained_html(
    tmp_path: Path, statistics: Statistics, equity: pd.Series, trades: pd.DataFrame
) -> None:
    path = write_html_report(tmp_path / "run.html", statistics, equity, trades, title="SMA <10/20>")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<title>SMA &lt;10/20&gt;</title>" in text
    page = _parse(text)
    # no network: every resource is inline data
    assert page.urls
    assert all(url.startswith("data:image/png;base64,") for url in page.urls)
    png = base64.b64decode(page.urls[0].split(",", 1)[1])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)


def test_report_shows_the_numbers(
    tmp_path: Path, statistics: Statistics, equity: pd.Series, trades: pd.DataFrame
) -> None:
    text = write_html_report(tmp_path / "run.html", statistics, equity, trades).read_text("utf-8")
    cells = _parse(text).cells
    assert cells["total_return_pct"] == f"{statistics.total_return_pct:,.2f} %"
    assert cells["max_drawdown_pct"] == f"{statistics.max_drawdown_pct:,.2f} %"
    assert cells["sharpe_ratio"] == f"{statistics.sharpe_ratio:,.3f}"
    assert cells["win_rate"] == f"{statistics.win_rate * 100:,.2f} %"
    assert cells["total_trades"] == "3"
    assert cells["final_equity"] == f"{statistics.final_equity:,.2f}"
    # every trade is listed with its P&L
    for pnl in trades["pnl"]:
        assert f">{pnl:,.2f}<" in text


def test_report_embeds_the_exact_statistics_as_json(
    statistics: Statistics, equity: pd.Series, trades: pd.DataFrame
) -> None:
    page = _parse(render_html_report(statistics, equity, trades))
    embedded = json.loads(page.scripts[0])
    assert Statistics.from_dict(embedded).same_as(statistics)


def test_report_without_trades_says_so_and_shows_undefined_values_as_dashes(
    tmp_path: Path, equity: pd.Series
) -> None:
    statistics = compute_statistics(equity, empty_trades(), initial_cash=10_000.0)
    text = write_html_report(tmp_path / "r.html", statistics, equity, empty_trades()).read_text(
        "utf-8"
    )
    cells = _parse(text).cells
    assert "No trades." in text
    assert cells["win_rate"] == "—"
    assert cells["max_trade_duration"] == "—"
    assert cells["profit_factor"] == "—"
