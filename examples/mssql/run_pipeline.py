"""The pipeline of examples/postgres on Microsoft SQL Server: frames bulk-loaded through
arrow-odbc (or `bcp`, or pyodbc's fast_executemany), the ibis task run as `SELECT ... INTO`.

    docker compose up -d mssql
    pip install 'tabledag[mssql,pandas,polars]'     # plus the ODBC driver: docs/odbc.md
    python examples/mssql/run_pipeline.py

MSSQL_URL overrides the server (default: the compose service). `{instance_id}` in the URL is
the database; `create_database_if_not_exists` creates it (connecting to `master` first).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "postgres"))  # the same pipeline
from run_pipeline import run

from tabledag import create_basic_config

COMPOSE_URL = (
    "mssql+pyodbc://sa:Tabledag-1234@127.0.0.1:1433/{instance_id}"
    "?driver=ODBC+Driver+18+for+SQL+Server&encrypt=no"
)


def main() -> None:
    url = os.environ.get("MSSQL_URL", COMPOSE_URL)
    run(create_basic_config(url, "tabledag_example", create_database_if_not_exists=True))


if __name__ == "__main__":
    main()
