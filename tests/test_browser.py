"""The report and the graph opened in headless Chromium: what a person sees there (task names,
states, the timeline, the boxes), with screenshots kept in test-artifacts/."""

from __future__ import annotations

import os
import re
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest

from . import browser

pytestmark = pytest.mark.skipif(
    browser.chromium() is None and not os.environ.get("CI"),
    reason="no Chromium: `apt-get install chromium` (nox -s browser and .ci/run install it)",
)


class Visible(HTMLParser):
    """Text outside <style>/<title>, and the data-* attributes of the elements."""

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.skip = 0
        self.text: list[str] = []
        self.marks: list[dict[str, str | None]] = []
        self.feed(dom)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "title", "script"):
            self.skip += 1
        found = {k: v for k, v in attrs if k.startswith("data-")}
        if found:
            self.marks.append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title", "script"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and data.strip():
            self.text.append(data.strip())

    @property
    def words(self) -> str:
        return " ".join(self.text)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return browser.showcase(tmp_path_factory.mktemp("showcase"))


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_the_report_in_a_browser(pages: tuple[Path, Path]) -> None:
    report, _ = pages
    seen = Visible(browser.dump_dom(report))
    for task in ("raw.customers", "raw.orders", "model.big_orders", "model.revenue"):
        assert task in seen.words
    assert re.search(r"\bFAILED\b", seen.words) and "CACHE_VALID" in seen.words
    assert "cache hit" in seen.words and "written" in seen.words
    assert "PermissionError in stage publish , task export" in seen.words
    assert "At most 2 tasks ran at the same time." in seen.words  # the timeline's overlap
    bars = {m["data-task"]: m["data-state"] for m in seen.marks if "data-state" in m}
    assert bars["model.revenue"] == "CACHE_VALID" and bars["publish.export"] == "FAILED"
    shot = browser.screenshot(report, browser.ARTIFACTS / "report.png", (1100, 1000))
    assert png_size(shot) == (1100, 1000)
    assert shot.stat().st_size > 20_000  # a page with content, not a blank one


def test_the_graph_in_a_browser(pages: tuple[Path, Path]) -> None:
    _, graph = pages
    seen = Visible(browser.dump_dom(graph))
    for label in ("raw", "model", "publish", "reporting", "customers", "revenue", "export"):
        assert label in seen.text
    states = {m["data-key"]: m.get("data-state") for m in seen.marks if "data-key" in m}
    assert states["publish.export"] == "FAILED" and states["model.revenue"] == "CACHE_VALID"
    shot = browser.screenshot(graph, browser.ARTIFACTS / "graph.png", (420, 520))
    assert png_size(shot) == (420, 520)
    assert shot.stat().st_size > 5_000
