"""The pipeline of examples/postgres on Snowflake (there is no Snowflake in docker compose).

    pip install 'tabledag[snowflake,pandas,polars]'
    SNOWFLAKE_USER=... SNOWFLAKE_PASSWORD=... SNOWFLAKE_ACCOUNT=... \\
        python examples/snowflake/run_pipeline.py

SNOWFLAKE_URL overrides the whole URL; otherwise it is the seed's form, from those variables
(and SNOWFLAKE_WAREHOUSE / SNOWFLAKE_ROLE, default `compute_wh` / `sysadmin`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).parent.parent / "postgres"))  # the same pipeline
from run_pipeline import run

from tabledag import create_basic_config


def snowflake_url() -> str:
    if "SNOWFLAKE_URL" in os.environ:
        return os.environ["SNOWFLAKE_URL"]
    env = os.environ
    user, password = quote(env["SNOWFLAKE_USER"]), quote(env["SNOWFLAKE_PASSWORD"], safe="")
    warehouse = env.get("SNOWFLAKE_WAREHOUSE", "compute_wh")
    role = env.get("SNOWFLAKE_ROLE", "sysadmin")
    return (
        f"snowflake://{user}:{password}@{env['SNOWFLAKE_ACCOUNT']}/tabledag_example"
        f"?warehouse={warehouse}&role={role}"
    )


def main() -> None:
    run(create_basic_config(snowflake_url(), "tabledag_example"))


if __name__ == "__main__":
    main()
