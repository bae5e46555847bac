"""SQLMesh on the chain and the frame load (its own venv: `nox -s bench_peer-sqlmesh`), in
process: a generated project, `Context.plan(auto_apply=True)` on the prod environment.

The chain: 200 FULL SQL models. No change: a new Context's plan (nothing to apply). One change:
model 100's filter edited, a new Context's plan (it and the models after it rebuilt). The frame
load: a Python model returning the pandas frame read from the parquet file; on Postgres
SQLMesh inserts frames as batches of `INSERT ... VALUES` (156 s for 1M rows in the survey), so
there it loads the first 100k rows, against the ceiling on the same 100k rows.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from . import common

PG_FRAME_ROWS = 100_000


def write_project(root: Path, db: common.Db, tasks: int, changed: bool, frame: str | None) -> None:
    models = root / "models"
    models.mkdir(parents=True, exist_ok=True)
    for old in models.iterdir():
        old.unlink()
    if db.store == "duckdb":
        connection = f"      type: duckdb\n      database: {db.path}\n"
        dialect = "duckdb"
    else:
        from urllib.parse import urlsplit

        u = urlsplit(db.url)
        connection = (
            f"      type: postgres\n      host: {u.hostname}\n      port: {u.port or 5432}\n"
            f"      user: {u.username}\n      password: '{u.password or ''}'\n"
            f"      database: {u.path.lstrip('/')}\n"
        )
        dialect = "postgres"
    (root / "config.yaml").write_text(
        "gateways:\n  local:\n    connection:\n" + connection
        + "default_gateway: local\nmodel_defaults:\n  dialect: " + dialect + "\n"
    )  # fmt: skip
    if frame is not None:
        (models / "frame.py").write_text(FRAME_MODEL.format(path=frame, limit=_limit(db)))
        return
    previous = None
    for name, sql in common.chain_sql(tasks, changed):
        stage = name.split("_")[0].replace("t", "s")
        text = sql if previous is None else sql.format(prev=previous)
        (models / f"{name}.sql").write_text(f"MODEL (name {stage}.{name}, kind FULL);\n{text}\n")
        previous = f"{stage}.{name}"


def _limit(db: common.Db) -> str:
    return "None" if db.store == "duckdb" else str(PG_FRAME_ROWS)


FRAME_MODEL = """
import pandas as pd
import pyarrow.parquet as pq
from sqlmesh import model


@model(
    "load.frame",
    kind="FULL",
    columns={{
        "id": "bigint", "customer_id": "bigint", "quantity": "bigint", "price": "double",
        "discount": "double", "score": "double", "category": "text", "customer": "text",
        "created_at": "timestamp", "updated_at": "timestamptz", "is_active": "boolean",
    }},
)
def execute(context, start, end, execution_time, **kwargs):
    table = pq.read_table("{path}")
    limit = {limit}
    if limit is not None:
        table = table.slice(0, limit)
    return table.to_pandas()
"""


def plan(root: Path) -> None:
    from sqlmesh import Context

    context = Context(paths=str(root))
    context.plan(auto_apply=True, no_prompts=True)


def main(argv: list[str] | None = None) -> int:
    args = common.parser(__doc__.splitlines()[0]).parse_args(argv)
    logging.getLogger("sqlmesh").setLevel(logging.ERROR)
    from importlib.metadata import version

    figures = common.Figures("sqlmesh", args.store, version("sqlmesh"))
    with common.workdir("sqlmesh") as root:
        for _rep in range(args.reps):
            with common.fresh_db(args.store, root) as db:
                figures.sample("raw_chain", common.raw_chain(db, args.tasks))
            with common.fresh_db(args.store, root) as db:
                project = root / "chain"
                write_project(project, db, args.tasks, False, None)
                figures.sample("fresh", common.timed(plan, project))
                figures.sample("no_change", common.timed(plan, project))
                write_project(project, db, args.tasks, True, None)
                figures.sample("one_change", common.timed(plan, project))
            frame = args.frame
            if args.store == "postgres":
                import pyarrow.parquet as pq

                frame = str(root / "frame_100k.parquet")
                pq.write_table(pq.read_table(args.frame).slice(0, PG_FRAME_ROWS), frame)
            with common.fresh_db(args.store, root) as db:
                figures.sample("raw_frame", common.raw_frame_load(db, frame))
            with common.fresh_db(args.store, root) as db:
                project = root / "frame"
                write_project(project, db, args.tasks, False, frame)
                figures.sample("frame", common.timed(plan, project))
            common.progress("sqlmesh", f"{args.store}: fresh {figures.median('fresh'):.1f} s, "
                            f"no change {figures.median('no_change'):.1f} s, one change "
                            f"{figures.median('one_change'):.1f} s, frame "
                            f"{figures.median('frame'):.2f} s")  # fmt: skip
    notes: dict[str, Any] = {"no_change": "a new Context's plan: nothing to apply"}
    if args.store == "postgres":
        notes["frame"] = f"the first {PG_FRAME_ROWS} rows only (INSERT ... VALUES batches)"
    figures.emit(args.tasks, notes)
    figures.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
