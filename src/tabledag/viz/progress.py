"""Watching a run: `flow.run(progress=...)` callbacks that draw its `TaskEvent`s.

- `LiveProgress`: a live view on a terminal or in a notebook (rich): counts of running, done,
  cached and failed tasks, the tasks running now with their elapsed time, and the last tasks
  to end, with rows and MB/s for loads that took over a second.
- `PlainProgress`: one line per task that ended, for logs, pipes and `--quiet`.

```python
with LiveProgress() as progress:
    result = flow.run(progress=progress)
```
"""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..core.progress import TableLoad, TaskEvent

SLOW_LOAD = 1.0
"""Seconds after which a task's load shows its throughput."""

STYLES = {
    "COMPLETED": "green",
    "CACHE_VALID": "cyan",
    "FAILED": "bold red",
    "SKIPPED": "yellow",
    "RUNNING": "blue",
}


def describe_loads(loads: tuple[TableLoad, ...], duration: float) -> str:
    """`1,000,000 rows, 85.2 MB/s` for what a task loaded (the rate only for slow loads);
    empty where nothing passed through this process."""
    rows = sum(t.rows or 0 for t in loads if not t.hit)
    if not rows:
        return ""
    text = f"{rows:,} rows"
    size = sum(t.bytes or 0 for t in loads if not t.hit)
    if size and duration > SLOW_LOAD:
        text += f", {size / duration / 1e6:.1f} MB/s"
    return text


def describe(event: TaskEvent) -> str:
    """One line for a task that ended."""
    line = f"{event.state:<11} {event.duration * 1000:9.1f} ms  {event.task}"
    loads = describe_loads(event.tables, event.duration)
    return f"{line}  ({loads})" if loads else line


def counts_line(event: TaskEvent) -> str:
    c = event.counts
    parts = [f"{c.done + c.cached + c.failed + c.skipped}/{c.total} tasks"]
    for label, n in (
        ("running", c.running),
        ("done", c.done),
        ("cached", c.cached),
        ("failed", c.failed),
        ("skipped", c.skipped),
    ):
        if n:
            parts.append(f"{n} {label}")
    return ", ".join(parts)


class PlainProgress:
    """One line per task that ended (nothing when a task starts)."""

    def __init__(self, file: IO[str] | None = None) -> None:
        self.file = file

    def __call__(self, event: TaskEvent) -> None:
        if event.state == "RUNNING":
            return
        print(describe(event), file=self.file or sys.stderr, flush=True)

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class LiveProgress:
    """A live view of the run, redrawn a few times a second while the `with` block lasts."""

    def __init__(self, console: Any = None, *, finished_shown: int = 8) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self.running: dict[str, float] = {}
        self.finished: deque[TaskEvent] = deque(maxlen=finished_shown)
        self.last: TaskEvent | None = None
        self._live: Any = None

    def __enter__(self) -> LiveProgress:
        from rich.live import Live

        self._live = Live(
            get_renderable=self.render, console=self.console, refresh_per_second=8, transient=False
        )
        self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.update(self.render())
            live.__exit__(*exc)

    def __call__(self, event: TaskEvent) -> None:
        self.last = event
        if event.state == "RUNNING":
            self.running[event.task] = time.perf_counter()
        else:
            self.running.pop(event.task, None)
            self.finished.append(event)
        if self._live is not None:
            self._live.refresh()

    def render(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column()
        for event in self.finished:
            style = STYLES.get(event.state, "")
            loads = describe_loads(event.tables, event.duration)
            grid.add_row(
                Text(event.state, style=style),
                f"{event.duration * 1000:.1f} ms",
                event.task,
                Text(loads, style="dim"),
            )
        now = time.perf_counter()
        for task, since in self.running.items():
            grid.add_row(Text("RUNNING", style=STYLES["RUNNING"]), f"{now - since:.1f} s", task, "")
        head = Text(counts_line(self.last) if self.last else "starting", style="bold")
        outer = Table.grid()
        outer.add_row(head)
        outer.add_row(grid)
        return outer
