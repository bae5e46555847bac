"""The migration rule we promise pipedag users, and the local-URL edits every run needs.

The rule (README, "Coming from pipedag"), and nothing else:
- `from pydiverse.pipedag[.any.submodule] import X` becomes `from tabledag import X`;
- `import pydiverse.pipedag as dag` becomes `import tabledag as dag`;
- `pipedag.yaml` becomes `tabledag.yaml` (also where a program names the file), and each class
  path `pydiverse.pipedag.<...>.<Name>` in it becomes `tabledag.<Name>`.

`localize` is applied to pipedag's original and to the migrated copy alike: the examples expect
a docker-compose Postgres at 127.0.0.1:6543 and write under /tmp/pipedag; here each run gets the
local server, databases of its own (a suffix) and a directory of its own.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

_FROM_IMPORT = re.compile(r"^(\s*)from\s+pydiverse\.pipedag(?:\.[\w.]+)?\s+import\b", re.M)
_IMPORT_AS = re.compile(r"^(\s*)import\s+pydiverse\.pipedag\s+as\b", re.M)
_CLASS_PATH = re.compile(r"pydiverse\.pipedag(?:\.\w+)*\.(\w+)")
_PG_URL = re.compile(r"postgresql://(?P<auth>[^@\s\"']*)@(?P<host>[^/\s\"']+)/(?P<db>[\w{}$]+)")


def migrate_program(source: str) -> str:
    source = _FROM_IMPORT.sub(r"\1from tabledag import", source)
    source = _IMPORT_AS.sub(r"\1import tabledag as", source)
    return source.replace("pipedag.yaml", "tabledag.yaml")


def migrate_config(text: str) -> str:
    return _CLASS_PATH.sub(r"tabledag.\1", text)


def migrate_folder(folder: Path) -> None:
    """Apply the rule in place to a copied example folder."""
    for path in folder.rglob("*.py"):
        path.write_text(migrate_program(path.read_text()))
    for path in folder.rglob("*.yaml"):
        if "docker-compose" in path.name:
            continue
        text = migrate_config(path.read_text())
        # the rule renames `pipedag.yaml` only: another config file keeps the name its
        # program opens it by (e.g. `pipedag_with_instances.yaml`)
        target = path.with_name("tabledag.yaml") if path.name == "pipedag.yaml" else path
        target.write_text(text)
        if target != path:
            path.unlink()


def localize(folder: Path, workdir: Path, db_suffix: str) -> set[str]:
    """Point `folder`'s configs at the local Postgres (port 5432 for the compose file's 6543;
    the test server trusts any password) with `db_suffix` on every database name, and at
    `workdir` for files; return the literal database names the configs now name (templated
    ones are created by the stores themselves)."""
    databases: set[str] = set()

    def url(match: re.Match[str]) -> str:
        db = match["db"]
        if "{" not in db:
            databases.add(f"{db}{db_suffix}")
        host = match["host"].replace(":6543", ":5432")
        return f"postgresql://{match['auth']}@{host}/{db}{db_suffix}"

    for path in [*folder.rglob("*.yaml"), *folder.rglob("*.py")]:
        if "docker-compose" in path.name:
            continue
        text = path.read_text()
        changed = _PG_URL.sub(url, text).replace("/tmp/pipedag/", f"{workdir}/")
        if path.name == "postgres_password.yaml":
            changed = changed.replace("6543", "5432")
        if changed != text:
            path.write_text(changed)
    return databases


def copy_example(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("pixi.*", ".git*"))
    return target
