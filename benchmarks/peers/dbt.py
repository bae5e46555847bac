"""dbt (dbt-duckdb / dbt-postgres) on the chain and the frame load (its own venv: `nox -s
bench_peer-dbt`), in process through `dbtRunner`, on a generated project.

The chain: 200 table models. No change: `dbt run --select state:modified+` against the fresh
run's manifest (dbt itself has no cache: a plain `dbt run` rebuilds every model). One change:
model 100 edited, the same selection (it and the models after it rebuilt). The frame load: a
dbt-duckdb Python model returning the Arrow table read from the parquet file; dbt-postgres has
no Python models.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from . import common

FRAME_MODEL = """
def model(dbt, session):
    dbt.config(materialized="table")
    import pyarrow.parquet as pq

    return pq.read_table("{path}")
"""


def write_project(root: Path, db: common.Db, tasks: int, changed: bool, frame: str | None) -> None:
    models = root / "models"
    models.mkdir(parents=True, exist_ok=True)
    for old in models.iterdir():
        old.unlink()
    (root / "dbt_project.yml").write_text(
        "name: bench\nversion: '1.0'\nprofile: bench\nmodel-paths: ['models']\n"
        "models:\n  bench:\n    +materialized: table\n"
    )
    if db.store == "duckdb":
        output = f"      type: duckdb\n      path: {db.path}\n      threads: 1\n"
    else:
        from urllib.parse import urlsplit

        u = urlsplit(db.url)
        output = (
            f"      type: postgres\n      host: {u.hostname}\n      port: {u.port or 5432}\n"
            f"      user: {u.username}\n      password: '{u.password or ''}'\n"
            f"      dbname: {u.path.lstrip('/')}\n      schema: public\n      threads: 1\n"
        )
    (root / "profiles.yml").write_text("bench:\n  target: dev\n  outputs:\n    dev:\n" + output)
    if frame is not None:
        (models / "frame.py").write_text(FRAME_MODEL.format(path=frame))
        return
    previous = None
    for name, sql in common.chain_sql(tasks, changed):
        text = sql if previous is None else sql.format(prev="{{ ref('" + previous + "') }}")
        (models / f"{name}.sql").write_text(text + "\n")
        previous = name


def dbt(root: Path, *args: str) -> None:
    from dbt.cli.main import dbtRunner

    base = ["--quiet", "--project-dir", str(root), "--profiles-dir", str(root)]
    result = dbtRunner().invoke([args[0], *base, *args[1:]])
    if not result.success:
        raise RuntimeError(f"dbt {' '.join(args)} failed: {result.exception}")


def main(argv: list[str] | None = None) -> int:
    args = common.parser(__doc__.splitlines()[0]).parse_args(argv)
    from importlib.metadata import version

    figures = common.Figures("dbt", args.store, version("dbt-core"))
    notes: dict[str, Any] = {"no_change": "dbt run --select state:modified+ (nothing selected)",
                             "one_change": "dbt run --select state:modified+"}  # fmt: skip
    with common.workdir("dbt") as root:
        for _rep in range(args.reps):
            with common.fresh_db(args.store, root) as db:
                figures.sample("raw_chain", common.raw_chain(db, args.tasks))
            with common.fresh_db(args.store, root) as db:
                project = root / "chain"
                write_project(project, db, args.tasks, False, None)
                figures.sample("fresh", common.timed(dbt, project, "run"))
                state = root / "state"
                shutil.rmtree(state, ignore_errors=True)
                shutil.copytree(project / "target", state)
                selection = ("--select", "state:modified+", "--state", str(state))
                figures.sample("no_change", common.timed(dbt, project, "run", *selection))
                write_project(project, db, args.tasks, True, None)
                figures.sample("one_change", common.timed(dbt, project, "run", *selection))
            if args.store == "duckdb":
                with common.fresh_db(args.store, root) as db:
                    figures.sample("raw_frame", common.raw_frame_load(db, args.frame))
                with common.fresh_db(args.store, root) as db:
                    project = root / "frame"
                    write_project(project, db, args.tasks, False, args.frame)
                    figures.sample("frame", common.timed(dbt, project, "run"))
            else:
                notes["frame"] = "dbt-postgres has no Python models (dbt seed: CSV)"
            frame = figures.median("frame")
            common.progress("dbt", f"{args.store}: fresh {figures.median('fresh'):.1f} s, no "
                            f"change {figures.median('no_change'):.1f} s, one change "
                            f"{figures.median('one_change'):.1f} s, frame "
                            f"{'-' if frame is None else f'{frame:.2f} s'}")  # fmt: skip
    figures.emit(args.tasks, notes)
    figures.write(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
