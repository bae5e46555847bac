"""The pipeline of examples/postgres on IBM DB2 LUW, with one schema prefix per instance.

    docker compose up -d db2          # the first start takes a few minutes (see its health)
    pip install 'tabledag[db2,pandas,polars]'
    python examples/db2/run_pipeline.py

DB2_URL overrides the server (default: the compose service, database `testdb`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "postgres"))  # the same pipeline
from run_pipeline import run

from tabledag import create_basic_config

COMPOSE_URL = "db2+ibm_db://db2inst1:password@127.0.0.1:50000/testdb"


def main() -> None:
    url = os.environ.get("DB2_URL", COMPOSE_URL)
    run(create_basic_config(url, "tabledag_example", schema_prefix="{instance_id}_"))


if __name__ == "__main__":
    main()
