"""A flow drawn as SVG in pure Python: stages and group nodes as boxes, tasks as nodes, inputs
as arrows; with a `Result`, tasks coloured by their final state.

Why not graphviz: it is a system package, and pipedag's way round a missing one is sending the
graph to a web service (kroki). A flow's shape makes a simple layout enough: a task can only use
tasks declared before it, so declaration order is a topological order. Boxes are stacked top to
bottom in declaration order (a stage, or a group, is one block); inside a box, its loose tasks
are layered by their inputs within the block, one row per layer. Every arrow therefore points
down, and boxes never overlap.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.group import GroupNode, VisualizationStyle

if TYPE_CHECKING:
    from ..core.flow import Flow, Stage
    from ..core.result import Result
    from ..core.task import TaskCall

STATE_COLORS = {
    "COMPLETED": "#adef9b",
    "CACHE_VALID": "#e8ffc6",
    "FAILED": "#ff453a",
    "SKIPPED": "#ffffff",
}
"""pipedag's colours (skipped: white, as pipedag draws a task that did not run)."""

CHAR_WIDTH = 7.4
NODE_HEIGHT = 30
NODE_GAP = 18
ROW_GAP = 34
PAD = 12
LABEL_HEIGHT = 22


@dataclass
class Node:
    """A drawn node: a task, or a group whose content is hidden."""

    key: str
    label: str
    kind: str  # "task" or "group"
    fill: str = "#ffffff"
    state: str | None = None
    dashed: bool = False
    x: float = 0.0
    y: float = 0.0

    @property
    def width(self) -> float:
        return max(60.0, len(self.label) * CHAR_WIDTH + 24)


@dataclass
class Box:
    """A drawn box (a stage or a group) and what it holds, in order."""

    label: str | None
    kind: str  # "flow", "stage" or "group"
    items: list[Node | Box] = field(default_factory=list)
    fill: str | None = None
    dashed: bool = False
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


class SVG:
    """A drawing: `str()` is the SVG text; a notebook shows it inline; `save` writes it."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text

    def _repr_svg_(self) -> str:
        return self.text

    def save(self, path: str | os.PathLike[str]) -> Path:
        target = Path(path)
        target.write_text(self.text, encoding="utf-8")
        return target

    def url(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.text.encode()).decode()


def draw(
    flow: Flow,
    result: Result | None = None,
    *,
    path: str | os.PathLike[str] | None = None,
    styles: dict[str, Any] | None = None,
) -> SVG:
    """The flow (and, with `result`, its run's states) as an `SVG`; written to `path` if given."""
    svg = SVG(render(layout(build(flow, result, styles or {}))))
    if path is not None:
        svg.save(path)
    return svg


# -- what to draw --------------------------------------------------------------------------


class _Builder:
    def __init__(self, flow: Flow, result: Result | None, styles: dict[str, Any]) -> None:
        self.flow = flow
        self.groups = flow.groups
        self.states = {c: s.name for c, s in result.states.items()} if result else None
        self.styles = styles
        self.nodes: dict[Any, Node] = {}
        """task call or group -> its node."""
        self.edges: set[tuple[str, str]] = set()

    def style(self, group: GroupNode) -> VisualizationStyle:
        if group.style is not None:
            return group.style
        found = self.styles.get(group.style_tag or "")
        return found if isinstance(found, VisualizationStyle) else VisualizationStyle()

    def hidden_by(self, call: TaskCall) -> GroupNode | None:
        """The outermost group that hides `call` (its content drawn as one node)."""
        inner = self.groups.of_task.get(call) or self.groups.of_stage.get(call.stage.name)
        path = self.groups.path(inner)
        if inner is not None and inner.stage is not None:  # a task group: add the stage's
            path = self.groups.path(self.groups.of_stage.get(call.stage.name)) + path
        for group in path:
            if self.style(group).hide_content:
                return group
        return None

    def task_node(self, call: TaskCall) -> Node:
        state = self.states.get(call) if self.states is not None else None
        fill = STATE_COLORS.get(state or "", "#ffffff")
        node = Node(call.id, call.name, "task", fill, state, dashed=state == "SKIPPED")
        self.nodes[call] = node
        return node

    def group_node(self, group: GroupNode) -> Node:
        node = self.nodes.get(group)
        if node is None:
            style = self.style(group)
            label = "" if style.hide_label else (group.label or "")
            fill, state = self.group_fill(group, style)
            node = Node(f"group:{group.id}", label or " ", "group", fill or "#ffffff", state)
            self.nodes[group] = node
        return node

    def group_fill(self, group: GroupNode, style: VisualizationStyle) -> tuple[str | None, str]:
        """pipedag's rules for a group's colour from its tasks' states."""
        if style.box_color_always:
            return style.box_color_always, ""
        if self.states is None:
            return None, ""
        states = {self.states.get(c, "SKIPPED") for c in group.all_tasks(self.groups)}
        if "FAILED" in states:
            return style.box_color_any_failure or STATE_COLORS["FAILED"], "FAILED"
        if states <= {"SKIPPED"}:
            return style.box_color_all_skipped or "#ffffff", "SKIPPED"
        if "CACHE_VALID" not in states:
            return style.box_color_none_cache_valid or STATE_COLORS["COMPLETED"], "COMPLETED"
        if states == {"CACHE_VALID"}:
            return style.box_color_all_cache_valid or STATE_COLORS["CACHE_VALID"], "CACHE_VALID"
        return style.box_color_any_cache_valid or "#caffaf", "CACHE_VALID"

    def endpoint(self, call: TaskCall) -> Node:
        hidden = self.hidden_by(call)
        return self.group_node(hidden) if hidden is not None else self.nodes[call]

    def build(self) -> Box:
        root = Box(self.flow.name, "flow")
        # stages, nested in their groups of stages
        self._nest(
            root,
            self.flow.stages,
            lambda stage: self.groups.of_stage.get(stage.name),
            self._stage_box,
        )
        for call in self.flow.tasks:
            target = self.endpoint(call)
            for up in call.upstream:
                source = self.endpoint(up)
                if source is not target:
                    self.edges.add((source.key, target.key))
        return root

    def _nest(self, root: Box, items: list[Any], group_of: Any, make: Any) -> None:
        """Put `items` into `root`, opening a box per group around consecutive members."""
        open_path: list[tuple[GroupNode, Box | None]] = []
        for item in items:
            group = group_of(item)
            path = [g for g in self.groups.path(group) if self._belongs(g, item)]
            common = 0
            while (
                common < len(open_path)
                and common < len(path)
                and open_path[common][0] is path[common]
            ):
                common += 1
            del open_path[common:]
            for g in path[common:]:
                container = self._container(root, open_path)
                if container is None:
                    open_path.append((g, None))
                    continue
                style = self.style(g)
                if style.hide_content:
                    container.items.append(self.group_node(g))
                    open_path.append((g, None))  # its content is that one node
                elif style.hide_box:
                    open_path.append((g, container))
                else:
                    label = None if style.hide_label else g.label
                    box = Box(label, "group", fill=style.box_color_always)
                    container.items.append(box)
                    open_path.append((g, box))
            container = self._container(root, open_path)
            if container is not None:
                made = make(item)
                if made is not None:
                    container.items.append(made)

    def _belongs(self, group: GroupNode, item: Any) -> bool:
        from ..core.flow import Stage

        return (group.stage is None) == isinstance(item, Stage)

    @staticmethod
    def _container(root: Box, open_path: list[tuple[GroupNode, Box | None]]) -> Box | None:
        if not open_path:
            return root
        return open_path[-1][1]

    def _stage_box(self, stage: Stage) -> Box | None:
        box = Box(stage.name, "stage")
        self._nest(box, stage.tasks, lambda call: self.groups.of_task.get(call), self.task_node)
        return box


def build(flow: Flow, result: Result | None, styles: dict[str, Any]) -> tuple[Box, set[Any]]:
    builder = _Builder(flow, result, styles)
    root = builder.build()
    return root, builder.edges


# -- where to draw it --------------------------------------------------------------------------


def layout(drawing: tuple[Box, set[tuple[str, str]]]) -> tuple[Box, set[tuple[str, str]]]:
    root, edges = drawing
    inputs: dict[str, set[str]] = {}
    for source, target in edges:
        inputs.setdefault(target, set()).add(source)
    _size(root, inputs)
    _place(root, 0.0, 0.0)
    return root, edges


def _size(box: Box, inputs: dict[str, set[str]]) -> None:
    """Width and height of `box`, its children sized and placed relative to it."""
    blocks: list[list[list[Node]] | Box] = []
    run: list[Node] = []
    for item in [*box.items, None]:
        if isinstance(item, Node):
            run.append(item)
            continue
        if run:
            blocks.append(_rows(run, inputs))
            run = []
        if isinstance(item, Box):
            _size(item, inputs)
            blocks.append(item)
    top = float(PAD + (LABEL_HEIGHT if box.label else 0))
    widths = [
        b.width
        if isinstance(b, Box)
        else max(sum(n.width for n in row) + NODE_GAP * (len(row) - 1) for row in b)
        for b in blocks
    ]
    inner = max(widths, default=80.0)
    if box.label:
        inner = max(inner, len(box.label) * CHAR_WIDTH + 8)
    box.width = inner + 2 * PAD
    y = top
    for block, width in zip(blocks, widths, strict=True):
        if isinstance(block, Box):
            block.x, block.y = PAD + (inner - width) / 2, y
            y += block.height + ROW_GAP
            continue
        for row in block:
            row_width = sum(n.width for n in row) + NODE_GAP * (len(row) - 1)
            x = PAD + (inner - row_width) / 2
            for node in row:
                node.x, node.y = x, y
                x += node.width + NODE_GAP
            y += NODE_HEIGHT + ROW_GAP
    box.height = max(y - ROW_GAP + PAD, top + PAD)


def _rows(run: list[Node], inputs: dict[str, set[str]]) -> list[list[Node]]:
    """Layers of a run of nodes: a node goes one row below its lowest input in the run."""
    layer: dict[str, int] = {}
    for node in run:
        ups = [layer[u] for u in inputs.get(node.key, ()) if u in layer]
        layer[node.key] = max(ups, default=-1) + 1
    rows: list[list[Node]] = [[] for _ in range(max(layer.values()) + 1)]
    for node in run:
        rows[layer[node.key]].append(node)
    return rows


def _place(box: Box, x: float, y: float) -> None:
    """Relative positions to absolute ones."""
    box.x, box.y = box.x + x, box.y + y
    for item in box.items:
        if isinstance(item, Box):
            _place(item, box.x, box.y)
        else:
            item.x, item.y = item.x + box.x, item.y + box.y


# -- SVG --------------------------------------------------------------------------

_STYLE = """
text { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; font-size: 12px; }
.box > rect { fill: none; stroke: #606060; stroke-width: 1; }
.stage > rect { fill: #f4f6f8; }
.box > text { font-weight: 600; fill: #303030; }
.node > rect { stroke: #404040; stroke-width: 1; }
.group-node > rect { stroke-width: 2; }
.edge { fill: none; stroke: #505050; stroke-width: 1.2; marker-end: url(#arrow); }
"""


def render(drawing: tuple[Box, set[tuple[str, str]]]) -> str:
    """Boxes first, then arrows, then nodes (an arrow passes behind the nodes it crosses)."""
    root, edges = drawing
    boxes: list[str] = []
    shown: list[str] = []
    nodes: dict[str, Node] = {}
    _render_box(root, boxes, shown, nodes, top=True)
    lines = []
    for source, target in sorted(edges):
        a, b = nodes.get(source), nodes.get(target)
        if a is None or b is None:
            continue
        x1, y1 = a.x + a.width / 2, a.y + NODE_HEIGHT
        x2, y2 = b.x + b.width / 2, b.y - 2
        bend = max((y2 - y1) / 2, 10.0)
        lines.append(
            f'<path class="edge" data-from="{escape(source)}" data-to="{escape(target)}" '
            f'd="M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + bend:.1f} {x2:.1f},{y2 - bend:.1f} '
            f'{x2:.1f},{y2:.1f}"/>'
        )
    width, height = root.width + 2, root.height + 2
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="-1 -1 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="flow {escape(root.label or "")}">'
    )
    marker = (
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#505050"/></marker></defs>'
    )
    body = [head, f"<style>{_STYLE}</style>", marker, *boxes, *lines, *shown, "</svg>"]
    return "\n".join(body) + "\n"


def _render_box(
    box: Box, boxes: list[str], shown: list[str], nodes: dict[str, Node], *, top: bool = False
) -> None:
    if not top:
        dash = ' stroke-dasharray="5,3"' if box.kind == "group" else ""
        fill = f' style="fill: {escape(box.fill)}"' if box.fill else ""
        label = escape(box.label or "")
        text = f'<text x="{box.x + 8:.1f}" y="{box.y + 17:.1f}">{label}</text>' if box.label else ""
        boxes.append(
            f'<g class="box {box.kind}" data-label="{label}">'
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
            f'height="{box.height:.1f}" rx="6"{dash}{fill}/>{text}</g>'
        )
    for item in box.items:
        if isinstance(item, Box):
            _render_box(item, boxes, shown, nodes)
            continue
        nodes[item.key] = item
        kind = "node task" if item.kind == "task" else "node group-node"
        state = f' data-state="{item.state}"' if item.state else ""
        dash = ' stroke-dasharray="4,3"' if item.dashed else ""
        title = escape(item.key if item.kind == "task" else item.label)
        if item.state:
            title += f" ({item.state})"
        shown.append(
            f'<g class="{kind}" data-key="{escape(item.key)}"{state}><title>{title}</title>'
            f'<rect x="{item.x:.1f}" y="{item.y:.1f}" width="{item.width:.1f}" '
            f'height="{NODE_HEIGHT}" rx="{4 if item.kind == "task" else 0}" '
            f'style="fill: {escape(item.fill)}"{dash}/>'
            f'<text x="{item.x + item.width / 2:.1f}" y="{item.y + 19:.1f}" '
            f'text-anchor="middle">{escape(item.label)}</text></g>'
        )
