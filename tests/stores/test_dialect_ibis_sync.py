"""A dialect copied before ibis's SQL backends were imported still renders ibis's trees the way
ibis extended sqlglot (Postgres: `DateFromParts` as `MAKE_DATE`, not `DATE_FROM_PARTS`).

Runs in a new process: the import order is the point, and this test process has imported ibis
long before.
"""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
from tabledag.stores.sql.dialects.postgres import Postgres  # copies sqlglot's generator first
import ibis.backends.sql.dialects  # then ibis extends sqlglot's Postgres generator
from sqlglot import exp

dialect = Postgres("postgresql://nobody@127.0.0.1:1/none")
tree = exp.DateFromParts(
    year=exp.Literal.number(1998), month=exp.Literal.number(9), day=exp.Literal.number(2)
)
print(dialect.render(tree))
print(dialect.renderer()(tree.copy()))
"""


def test_postgres_renders_ibis_date_literals_after_a_late_ibis_import() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[:2] == ["MAKE_DATE(1998, 9, 2)", "MAKE_DATE(1998, 9, 2)"], out
