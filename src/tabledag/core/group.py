"""`GroupNode` and `VisualizationStyle` (pipedag's names): a box around stages or tasks in the
drawn graph, and optionally an ordering barrier.

```python
with Flow() as flow:
    with Stage("stage1"):
        first = any_task()
        with GroupNode("group1", ordering_barrier=True,
                       style=VisualizationStyle(hide_content=True, box_color_always="#ccccff")):
            t = task_within_group()
            task_within_group2(t)
        any_task()
```

A group opened inside a stage groups tasks; opened in a flow outside any stage, it groups
stages. Groups nest. With `ordering_barrier=True` (inside a stage, as in pipedag) the group's
tasks start only after every task declared before it in that stage finished, and the tasks
declared after it only after all of the group's: order only, a failure does not skip them.
The group is declaration state of its flow (`flow.groups`); nothing of it is ambient beyond the
flow being declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import DeclarationError

if TYPE_CHECKING:
    from .flow import Flow, Stage
    from .task import TaskCall


@dataclass(frozen=True)
class VisualizationStyle:
    """How a group node is drawn (pipedag's fields and meaning).

    `box_color_*` apply to a drawn `Result`: `always` whatever the states; the others for a
    group whose content is hidden, by its tasks' states (any failed; none / some / all cache
    valid; all skipped).
    """

    hide_box: bool = False
    """Draw no box: the content is drawn as if not grouped."""
    hide_content: bool = False
    """Draw the group as one node instead of its tasks or stages."""
    hide_label: bool = False
    box_color_always: str | None = None
    box_color_any_failure: str | None = None
    box_color_none_cache_valid: str | None = None
    box_color_any_cache_valid: str | None = None
    box_color_all_cache_valid: str | None = None
    box_color_all_skipped: str | None = None


class GroupNode:
    """A group of stages (in a flow) or tasks (in a stage), drawn as one box.

    Args:
        label: shown on the box.
        style: how it is drawn (`VisualizationStyle`); default a plain box.
        ordering_barrier: inside a stage, tasks before the group finish before it starts, and
            tasks after it start once it finished.
        style_tag: names a style given to `visualize(styles=...)` (pipedag reads these from
            its config's `visualization` section); `style` wins over it.
    """

    def __init__(
        self,
        label: str | None = None,
        style: VisualizationStyle | None = None,
        *,
        ordering_barrier: bool = False,
        style_tag: str | None = None,
    ) -> None:
        if style is not None and not isinstance(style, VisualizationStyle):
            raise DeclarationError(
                f"GroupNode {label!r}: style must be a VisualizationStyle, got {style!r}"
            )
        self.label = label
        self.style = style
        self.ordering_barrier = ordering_barrier
        self.style_tag = style_tag
        self.id = -1
        self.parent: GroupNode | None = None
        self.stage: Stage | None = None
        """The stage it was opened in (None: a group of stages)."""
        self.tasks: list[TaskCall] = []
        """Tasks declared directly in it (not in a nested group)."""
        self.stages: list[Stage] = []
        self.start = 0
        """With `stage`: how many tasks the stage had when the group opened, and closed."""
        self.end = -1
        self._flow: Flow | None = None
        self._entered = False

    def __enter__(self) -> GroupNode:
        from .flow import current_flow, current_stage

        if self._entered:
            raise DeclarationError(
                f"GroupNode {self.label!r} has been entered already; use a new GroupNode"
            )
        flow = current_flow()
        if flow is None:
            raise DeclarationError(f"GroupNode {self.label!r} must be declared inside a Flow")
        self._entered = True
        self._flow = flow
        self.stage = current_stage()
        self.start = len(self.stage.tasks) if self.stage is not None else 0
        flow.groups.open(self)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.stage is not None:
            self.end = len(self.stage.tasks)
        assert self._flow is not None
        self._flow.groups.close(self)

    def all_tasks(self, groups: Groups) -> list[TaskCall]:
        """Every task inside, nested groups and grouped stages included."""
        found = list(self.tasks)
        for stage in self.stages:
            found += stage.tasks
        for child in groups.children(self):
            found += child.all_tasks(groups)
        return list(dict.fromkeys(found))

    def __repr__(self) -> str:
        return f"<GroupNode {self.label!r}>"

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_flow"}


@dataclass
class Groups:
    """A flow's group nodes and what each holds, in declaration order."""

    nodes: list[GroupNode] = field(default_factory=list)
    of_task: dict[TaskCall, GroupNode] = field(default_factory=dict)
    of_stage: dict[str, GroupNode] = field(default_factory=dict)
    """stage name -> the innermost group of stages around it."""
    _open: list[GroupNode] = field(default_factory=list)

    def open(self, group: GroupNode) -> None:
        group.id = len(self.nodes)
        outer = self._open[-1] if self._open else None
        if group.stage is None and outer is not None and outer.stage is not None:
            raise DeclarationError(  # pragma: no cover - a stage cannot be left open here
                f"GroupNode {group.label!r} is outside a stage but inside {outer!r}"
            )
        group.parent = outer
        self.nodes.append(group)
        self._open.append(group)

    def close(self, group: GroupNode) -> None:
        if self._open and self._open[-1] is group:
            self._open.pop()

    def declare_stage(self, stage: Stage) -> None:
        outer = next((g for g in reversed(self._open) if g.stage is None), None)
        if outer is not None:
            outer.stages.append(stage)
            self.of_stage[stage.name] = outer

    def declare_task(self, call: TaskCall) -> None:
        inner = next((g for g in reversed(self._open) if g.stage is call.stage), None)
        if inner is not None:
            inner.tasks.append(call)
            self.of_task[call] = inner

    def children(self, group: GroupNode) -> list[GroupNode]:
        return [g for g in self.nodes if g.parent is group]

    def path(self, group: GroupNode | None) -> list[GroupNode]:
        """Outermost first, ending with `group`."""
        found: list[GroupNode] = []
        while group is not None:
            found.append(group)
            group = group.parent
        return found[::-1]

    def ordering(self) -> dict[TaskCall, set[TaskCall]]:
        """task -> tasks it must wait for (order only), from the ordering barriers."""
        after: dict[TaskCall, set[TaskCall]] = {}
        for group in self.nodes:
            if not group.ordering_barrier or group.stage is None:
                continue
            inside = group.all_tasks(self)
            tasks = group.stage.tasks
            before, later = tasks[: group.start], tasks[max(group.end, group.start) :]
            for call in inside:
                after.setdefault(call, set()).update(before)
            for call in later:
                after.setdefault(call, set()).update(inside)
        return after
