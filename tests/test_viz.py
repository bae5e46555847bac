"""GroupNode / VisualizationStyle (pipedag's semantics), the flow drawn as SVG, and the run
report as HTML: parsed, not grepped, and every user string escaped."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tabledag import (
    DeclarationError,
    Flow,
    GroupNode,
    Stage,
    ThreadEngine,
    VisualizationStyle,
    create_basic_config,
    materialize,
)
from tabledag.core.records import RunDetails
from tabledag.viz.report import concurrency, render_report

SVG_NS = "{http://www.w3.org/2000/svg}"
EVIL = "<b>&'\"x"


@materialize(version="1")
def source() -> pa.Table:
    return pa.table({"n": [1, 2, 3, 4]})


@materialize(lazy=True, input_type=str)
def bigger(t: str) -> str:
    return f"SELECT n FROM {t} WHERE n > 2"


@materialize(input_type=pa.Table)
def explode(t: pa.Table) -> pa.Table:
    raise ValueError(f"<script>alert('{t.num_rows}')</script> & more")


@materialize
def one() -> int:
    return 1


@materialize
def plus(x: int) -> int:
    return x + 1


def config(tmp_path: Path, name: str = "db") -> Any:
    return create_basic_config(f"duckdb:///{tmp_path}/{name}.duckdb")


# -- GroupNode ---------------------------------------------------------------------------------


def test_group_nodes_record_what_they_hold() -> None:
    with Flow("g") as flow:
        with GroupNode("stages") as outer, Stage("s1"):
            a = one()
            with GroupNode("tasks", style=VisualizationStyle(hide_label=True)) as inner:
                b = plus(a)
                with GroupNode("nested") as nested:
                    c = plus.with_name("c")(b)
            d = plus.with_name("d")(c)
        with Stage("s2"):
            plus.with_name("e")(d)
    assert [s.name for s in outer.stages] == ["s1"]
    assert [t.name for t in inner.tasks] == ["plus"]
    assert [t.name for t in inner.all_tasks(flow.groups)] == ["plus", "c"]
    assert nested.parent is inner and inner.parent is outer
    assert flow.groups.of_task[c.call] is nested
    assert d.call not in flow.groups.of_task
    assert "s2" not in flow.groups.of_stage


def test_group_node_outside_a_flow_or_twice_is_refused() -> None:
    with pytest.raises(DeclarationError, match="inside a Flow"), GroupNode("x"):
        pass
    group = GroupNode("once")
    with Flow("f"), Stage("s"):
        with group:
            one()
        with pytest.raises(DeclarationError, match="entered already"), group:
            pass
    with pytest.raises(DeclarationError, match="VisualizationStyle"):
        GroupNode("bad", style={"hide_box": True})  # type: ignore[arg-type]


_log: list[str] = []
_lock = threading.Lock()


def _note(event: str) -> None:
    with _lock:
        _log.append(event)


@materialize
def slow_first() -> int:
    _note("first:start")
    threading.Event().wait(0.2)  # long enough that, unordered, the group would start first
    _note("first:end")
    return 1


@materialize
def grouped() -> int:
    _note("grouped:start")
    _note("grouped:end")
    return 2


@materialize
def after_group() -> int:
    _note("after:start")
    return 3


@materialize
def failing() -> int:
    raise RuntimeError("before the barrier")


@pytest.mark.parametrize("barrier", [True, False])
def test_ordering_barrier_orders_tasks_on_threads(tmp_path: Path, barrier: bool) -> None:
    _log.clear()
    with Flow("barrier") as flow, Stage("s"):
        slow_first()
        with GroupNode("g", ordering_barrier=barrier):
            grouped()
        after_group()
    result = flow.run(config=config(tmp_path), engine=ThreadEngine(3))
    assert result.successful
    order = flow.groups.ordering()
    if barrier:
        assert _log.index("grouped:start") > _log.index("first:end")
        assert _log.index("after:start") > _log.index("grouped:end")
        assert {c.name for c in order[flow.tasks[1]]} == {"slow_first"}
    else:
        assert order == {}


def test_a_barrier_orders_but_does_not_skip(tmp_path: Path) -> None:
    with Flow("barrier") as flow, Stage("s"):
        failing()
        with GroupNode("g", ordering_barrier=True):
            grouped()
    result = flow.run(config=config(tmp_path), engine=ThreadEngine(2))
    assert result.task_states["s.failing"].name == "FAILED"
    assert result.task_states["s.grouped"].name == "COMPLETED"


# -- the graph ---------------------------------------------------------------------------------


def visual_flow() -> tuple[Flow, dict[str, Any]]:
    with Flow("visual") as flow:
        with Stage("raw"):
            s = source()
            with GroupNode(EVIL, style=VisualizationStyle(box_color_always="#ccccff")):
                big = bigger(s)
        with GroupNode("later", style=VisualizationStyle(hide_box=True)), Stage("model"):
            bad = explode(big)
            with GroupNode("hidden", style=VisualizationStyle(hide_content=True)):
                plus.with_name("h1")(one())
        with Stage("report"):
            plus.with_name("after_bad")(bad)
    return flow, {"big": big, "bad": bad}


def parse_svg(text: str) -> ET.Element:
    return ET.fromstring(text)  # fails on anything unescaped


def groups_of(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG_NS}g") if cls in g.get("class", "").split()]


def test_the_flow_draws_as_svg_with_boxes_and_arrows(tmp_path: Path) -> None:
    flow, _ = visual_flow()
    path = tmp_path / "flow.svg"
    svg = flow.visualize(path=path)
    assert path.read_text() == str(svg) == svg._repr_svg_()
    root = parse_svg(str(svg))
    tasks = {g.get("data-key"): g for g in groups_of(root, "task")}
    assert set(tasks) == {"raw.source", "raw.bigger", "model.explode", "report.after_bad"}
    labels = {g.find(f"{SVG_NS}text").text for g in tasks.values()}  # type: ignore[union-attr]
    assert labels == {"source", "bigger", "explode", "after_bad"}
    boxes = {g.get("data-label"): g.get("class") for g in groups_of(root, "box")}
    assert boxes == {
        "raw": "box stage",
        "model": "box stage",
        "report": "box stage",
        EVIL: "box group",  # the label survived escaping intact
    }
    (hidden,) = groups_of(root, "group-node")  # a group with hidden content is one node
    assert hidden.find(f"{SVG_NS}text").text == "hidden"  # type: ignore[union-attr]
    edges = {(p.get("data-from"), p.get("data-to")) for p in root.iter(f"{SVG_NS}path")}
    assert ("raw.source", "raw.bigger") in edges
    assert ("raw.bigger", "model.explode") in edges
    assert ("model.explode", "report.after_bad") in edges
    assert ("raw.source", "model.explode") not in edges
    assert not any(state for g in tasks.values() if (state := g.get("data-state")))


def test_boxes_contain_their_nodes_and_rows_follow_inputs() -> None:
    flow, _ = visual_flow()
    root = parse_svg(str(flow.visualize()))

    def rect(g: ET.Element) -> tuple[float, float, float, float]:
        r = g.find(f"{SVG_NS}rect")
        assert r is not None
        x, y = float(r.get("x", 0)), float(r.get("y", 0))
        return x, y, x + float(r.get("width", 0)), y + float(r.get("height", 0))

    boxes = {g.get("data-label"): rect(g) for g in groups_of(root, "box")}
    tasks = {g.get("data-key"): rect(g) for g in groups_of(root, "task")}

    def inside(inner: tuple[float, ...], outer: tuple[float, ...]) -> bool:
        return (
            outer[0] <= inner[0]
            and outer[1] <= inner[1]
            and inner[2] <= outer[2]
            and (inner[3] <= outer[3])
        )

    assert inside(tasks["raw.bigger"], boxes[EVIL])
    assert inside(boxes[EVIL], boxes["raw"])
    assert not inside(tasks["raw.source"], boxes[EVIL])
    assert inside(tasks["model.explode"], boxes["model"])
    assert tasks["raw.source"][3] < tasks["raw.bigger"][1]  # an input is drawn above its user
    assert boxes["raw"][3] < boxes["model"][1] < boxes["model"][3] < boxes["report"][1]


def test_result_visualize_colours_tasks_and_groups_by_state(tmp_path: Path) -> None:
    flow, _ = visual_flow()
    cfg = config(tmp_path)
    flow.run(config=cfg)
    result = flow.run(config=cfg)
    root = parse_svg(str(result.visualize()))
    states = {g.get("data-key"): g.get("data-state") for g in groups_of(root, "task")}
    assert states == {
        "raw.source": "CACHE_VALID",
        "raw.bigger": "CACHE_VALID",
        "model.explode": "FAILED",
        "report.after_bad": "SKIPPED",
    }
    (hidden,) = groups_of(root, "group-node")
    assert hidden.get("data-state") == "COMPLETED"  # no task of it was cache valid
    fills = {
        g.get("data-key"): (g.find(f"{SVG_NS}rect").get("style") or "")  # type: ignore[union-attr]
        for g in groups_of(root, "task")
    }
    assert "#ff453a" in fills["model.explode"]
    assert result.visualize_url().startswith("data:image/svg+xml;base64,")


def test_a_style_tag_picks_a_style() -> None:
    with Flow("tags") as flow, Stage("s"), GroupNode("tagged", style_tag="collapse"):
        one()
    styles = {"collapse": VisualizationStyle(hide_content=True)}
    root = parse_svg(str(flow.visualize(styles=styles)))
    assert len(groups_of(root, "group-node")) == 1 and not groups_of(root, "task")
    root = parse_svg(str(flow.visualize()))
    assert len(groups_of(root, "task")) == 1


# -- the report --------------------------------------------------------------------------------


class Page(HTMLParser):
    """Tags (with attributes) and the text a person reads."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join(self.text)

    def with_attr(self, name: str) -> list[dict[str, str | None]]:
        return [a for _, a in self.tags if name in a]


def test_the_report_shows_tasks_states_sql_and_errors(tmp_path: Path) -> None:
    flow, _refs = visual_flow()
    cfg = config(tmp_path)
    first = flow.run(config=cfg)
    again = flow.run(config=cfg)
    with cfg.store.session() as session:
        (record,) = session.run_records(again.run_id)
    page = Page(render_report(record, path=tmp_path / "run.html"))
    assert (tmp_path / "run.html").is_file()
    assert again.run_id in page.words and "visual" in page.words
    bars = {a["data-task"]: a["data-state"] for a in page.with_attr("data-state")}
    assert bars["raw.source"] == "CACHE_VALID"
    assert bars["model.explode"] == "FAILED"
    assert bars["report.after_bad"] == "SKIPPED"
    assert "cache hit" in page.words
    assert "ValueError" in page.words
    assert "<script>alert('2')</script> & more" in page.words  # shown as text...
    assert not any(tag == "script" for tag, _ in page.tags)  # ...never as markup
    assert "SELECT" in page.words and "raw.bigger" in page.words  # the lazy task's SQL
    errors = page.words[page.words.index("Errors") :]
    assert "model" in errors and "explode" in errors
    assert first.report() != again.report()  # each run its own page


_meet = threading.Barrier(2, timeout=60)


@materialize
def meet() -> int:
    """Returns once the other task is running too: the two ran at the same time."""
    _meet.wait()
    return 1


def test_the_report_of_a_parallel_run_shows_overlap(tmp_path: Path) -> None:
    _meet.reset()
    with Flow("parallel") as flow, Stage("s"):
        meet()
        meet.with_name("meet_too")()
    result = flow.run(config=config(tmp_path), engine=ThreadEngine(2))
    assert result.record is not None
    run = RunDetails.of(result.record)
    assert concurrency(run.tasks) == 2
    page = Page(result.report())
    assert "At most 2 tasks ran at the same time." in page.words


def test_hide_label_and_hide_box() -> None:
    with Flow("styles") as flow, Stage("s"):
        with GroupNode("no label", style=VisualizationStyle(hide_label=True)):
            one()
        with GroupNode("no box", style=VisualizationStyle(hide_box=True)):
            plus.with_name("p")(1)
    root = parse_svg(str(flow.visualize()))
    boxes = groups_of(root, "group")
    (unlabelled,) = [g for g in boxes if "box" in g.get("class", "")]
    assert unlabelled.find(f"{SVG_NS}text") is None  # a box, but no label drawn
    texts = {t.text for t in root.iter(f"{SVG_NS}text")}
    assert "no label" not in texts and "no box" not in texts
    assert {"one", "p"} <= texts
