"""One run as one self-contained HTML page: a timeline of its tasks (tasks that ran at once
overlap), a table of tasks and tables (state, times, rows, bytes, cache hits), each lazy task's
SQL and every error with its task and table.

Nothing is fetched when the page opens: the CSS is inline and the timeline is inline SVG, so the
file can be mailed or attached to a CI run. Every piece of text that came from a user (task,
stage and table names, SQL, error messages) is escaped.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from html import escape
from pathlib import Path

from ..core.records import RunDetails, TaskRun
from ..stores.base import RunRecord

STATE_COLORS = {
    "COMPLETED": "#4caf50",
    "CACHE_VALID": "#b5e48c",
    "FAILED": "#e53935",
    "SKIPPED": "#bdbdbd",
    "RUNNING": "#64b5f6",
}
_HIT = '<span class="hit">cache hit</span>'
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

_CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 24px;
       color: #212121; }
h1 { font-size: 20px; margin-bottom: 4px; } h2 { font-size: 16px; margin-top: 28px; }
.meta { color: #555; font-size: 13px; } .meta span { margin-right: 18px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
         font-weight: 600; color: #1b1b1b; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border-bottom: 1px solid #e0e0e0; padding: 4px 10px; text-align: left;
         vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.hit { color: #33691e; font-weight: 600; }
pre { background: #f7f7f9; border: 1px solid #e3e3e8; padding: 8px; overflow-x: auto;
      font-size: 12px; white-space: pre-wrap; }
.error { border-left: 4px solid #e53935; padding-left: 10px; margin-bottom: 12px; }
.timeline text { font-size: 11px; fill: #424242; }
.legend span { margin-right: 12px; font-size: 12px; }
"""


def render_report(
    record: RunRecord | RunDetails, *, path: str | os.PathLike[str] | None = None
) -> str:
    """The page for one run (a record from `StoreSession.run_records` or `Result.record`)."""
    run = record if isinstance(record, RunDetails) else RunDetails.of(record)
    page = _page(run)
    if path is not None:
        Path(path).write_text(page, encoding="utf-8")
    return page


def _page(run: RunDetails) -> str:
    started = dt.datetime.fromtimestamp(run.started_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    outcome = "successful" if run.successful else "failed"
    counts: dict[str, int] = {}
    for task in run.tasks:
        counts[task.state] = counts.get(task.state, 0) + 1
    summary = " ".join(_badge(state, f"{n} {state}") for state, n in sorted(counts.items()))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>tabledag run {escape(run.run_id[:12])} of {escape(run.flow)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Flow <code>{escape(run.flow)}</code>: run {_badge_outcome(run.successful)}</h1>",
        '<div class="meta">',
        f'<span>run <code id="run-id">{escape(run.run_id)}</code></span>',
        f"<span>started {escape(started)}</span>",
        f"<span>took {_duration(run.duration)}</span>",
        f"<span>instance {escape(run.instance)}</span>" if run.instance else "",
        f"<span>engine {escape(run.engine)}</span>" if run.engine else "",
        f'<span id="outcome" data-outcome="{outcome}">{len(run.tasks)} tasks: {summary}</span>',
        "</div>",
        "<h2>Timeline</h2>",
        _timeline(run),
        "<h2>Tasks and tables</h2>",
        _task_table(run),
    ]
    parts += _errors(run)
    parts += _queries(run)
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def _badge(state: str, text: str) -> str:
    color = STATE_COLORS.get(state, "#e0e0e0")
    return f'<span class="badge" style="background: {color}">{escape(text)}</span>'


def _badge_outcome(successful: bool) -> str:
    return _badge("COMPLETED", "successful") if successful else _badge("FAILED", "failed")


def _duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def _clean(text: str) -> str:
    return _ANSI.sub("", text)


def concurrency(tasks: tuple[TaskRun, ...]) -> int:
    """The most tasks that ran at the same moment."""
    events = sorted(
        [(t.start, 1) for t in tasks if t.duration > 0]
        + [(t.start + t.duration, -1) for t in tasks if t.duration > 0]
    )
    most = current = 0
    for _, change in events:
        current += change
        most = max(most, current)
    return most


def _timeline(run: RunDetails) -> str:
    tasks = sorted(run.tasks, key=lambda t: (t.start, t.id))
    if not tasks:
        return "<p>No task ran.</p>"
    label_width, plot_width, row, top = 240, 640, 20, 24
    origin = min(t.start for t in tasks)  # before it: opening the store, setting it up
    span = max(t.start + t.duration for t in tasks) - origin or 1e-3
    height = top + row * len(tasks) + 8
    scale = plot_width / span
    out = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" '
        f'width="{label_width + plot_width + 20}" height="{height}" role="img" '
        'aria-label="timeline of the tasks">'
    ]
    for i in range(6):  # the time axis
        x = label_width + plot_width * i / 5
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 4}" stroke="#eeeeee"/>'
            f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle">{_duration(span * i / 5)}'
            "</text>"
        )
    for i, task in enumerate(tasks):
        y = top + i * row
        x = label_width + (task.start - origin) * scale
        width = max(task.duration * scale, 2.0)
        color = STATE_COLORS.get(task.state, "#e0e0e0")
        hit = " (cache hit)" if task.state == "CACHE_VALID" else ""
        title = f"{task.id}: {task.state}{hit}, {_duration(task.duration)}"
        out.append(
            f'<g class="bar" data-task="{escape(task.id)}" data-state="{escape(task.state)}">'
            f"<title>{escape(title)}</title>"
            f'<text x="{label_width - 8}" y="{y + 13}" text-anchor="end">{escape(task.id)}</text>'
            f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" rx="2" '
            f'fill="{color}"/></g>'
        )
    out.append("</svg>")
    legend = " ".join(_badge(state, state) for state in STATE_COLORS if state != "RUNNING")
    at_once = concurrency(run.tasks)
    note = (
        f"At most {at_once} task{'s' if at_once != 1 else ''} ran at the same time. The first "
        f"task started {_duration(origin)} after the run (opening and setting up the store)."
    )
    return "\n".join(out) + f'\n<div class="legend">{legend}</div><p id="concurrency">{note}</p>'


def _task_table(run: RunDetails) -> str:
    rows = [
        '<table id="tasks"><thead><tr><th>Stage</th><th>Task</th><th>State</th><th>Start</th>'
        "<th>Duration</th><th>Table</th><th>Rows</th><th>Bytes</th><th>Cache</th></tr></thead>"
        "<tbody>"
    ]
    for task in run.tasks:
        tables = task.tables or ()
        span = max(len(tables), 1)
        head = (
            f'<tr data-task="{escape(task.id)}"><td rowspan="{span}">{escape(task.stage)}</td>'
            f'<td rowspan="{span}">{escape(task.task)}</td>'
            f'<td rowspan="{span}">{_badge(task.state, task.state)}</td>'
            f'<td class="num" rowspan="{span}">{_duration(task.start)}</td>'
            f'<td class="num" rowspan="{span}">{_duration(task.duration)}</td>'
        )
        if not tables:
            rows.append(head + "<td></td><td></td><td></td><td></td></tr>")
            continue
        for i, table in enumerate(tables):
            cells = (
                f"<td>{escape(table.name)}</td>"
                f'<td class="num">{"" if table.rows is None else f"{table.rows:,}"}</td>'
                f'<td class="num">{"" if table.bytes is None else _bytes(table.bytes)}</td>'
                f"<td>{_HIT if table.hit else 'written'}</td>"
            )
            rows.append((head if i == 0 else "<tr>") + cells + "</tr>")
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _errors(run: RunDetails) -> list[str]:
    if not run.errors:
        return []
    parts = ['<h2>Errors</h2><div id="errors">']
    for error in run.errors:
        where = [f"stage <code>{escape(error.stage)}</code>" if error.stage else ""]
        where.append(f"task <code>{escape(error.task)}</code>" if error.task else "")
        where.append(f"table <code>{escape(error.table)}</code>" if error.table else "")
        parts.append(
            '<div class="error">'
            f"<div>{escape(error.type or 'Error')} in {', '.join(w for w in where if w)}</div>"
            f"<pre>{escape(_clean(error.message))}</pre></div>"
        )
    parts.append("</div>")
    return parts


def _queries(run: RunDetails) -> list[str]:
    lazy = [(task, name, sql) for task in run.tasks for name, sql in task.sql.items()]
    if not lazy:
        return []
    parts = ['<h2>SQL of the lazy tasks (as it ran)</h2><div id="sql">']
    for task, name, sql in lazy:
        parts.append(
            f'<h3 data-task="{escape(task.id)}"><code>{escape(task.id)}</code> &rarr; table '
            f"<code>{escape(name)}</code></h3><pre>{escape(sql)}</pre>"
        )
    parts.append("</div>")
    return parts
