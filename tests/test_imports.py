"""`import tabledag` is light, and its public names are exactly the documented ones."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import tabledag

PUBLIC_NAMES = {
    "LiveProgress",
    "AUTO_VERSION",
    "Task",
    "TaskGetItem",
    "Blob",
    "View",
    "SortCol",
    "SortOrder",
    "ExternalTableReference",
    "FileBlobStore",
    "CacheValidationMode",
    "FreshInputError",
    "Schema",
    "materialize_table",
    "input_stage_versions",
    "AutoVersionError",
    "DebugTaintedError",
    "PlainProgress",
    "ArrowTableStore",
    "CanMatResult",
    "CommitError",
    "CanRetResult",
    "Config",
    "ConfigError",
    "DeclarationError",
    "DuplicateNameError",
    "FinalTaskState",
    "Flow",
    "HookError",
    "LockError",
    "RawSql",
    "Result",
    "ParquetTableStore",
    "SQLTableStore",
    "Stage",
    "StoreConnectionError",
    "StoreError",
    "Table",
    "TableHook",
    "TabledagError",
    "TaskFailedError",
    "TableValidationError",
    "UnsupportedTypeError",
    "create_basic_config",
    "materialize",
    "SequentialEngine",
    "ThreadEngine",
    "ProcessEngine",
    "DaskEngine",
    "TaskEvent",
    "WorkerDiedError",
    "TableOptionsError",
    "GroupNode",
    "VisualizationStyle",
    # pipedag's spellings (tabledag.pipedag)
    "create_basic_pipedag_config",
    "ConfigContext",
    "StageLockContext",
    "PipedagConfig",
    "IgnoredConfigWarning",
    "ParquetTableCache",
}

HEAVY = ["pandas", "polars", "duckdb", "ibis", "dataframely", "pydiverse.colspec"]


def test_import_loads_no_heavy_library() -> None:
    script = textwrap.dedent(
        f"""
        import json, sys
        import tabledag
        from tabledag import Flow, Stage, materialize, Table, RawSql, create_basic_config, Config
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_declaring_a_flow_loads_no_heavy_library() -> None:
    script = textwrap.dedent(
        f"""
        import json, sys
        from tabledag import Flow, Stage, materialize, create_basic_config

        @materialize(version="1")
        def a():
            return None

        @materialize
        def b(x):
            return x

        with Flow("f") as flow:
            with Stage("one"):
                x = a()
            with Stage("two"):
                b(x)
        create_basic_config("duckdb:///:memory:")
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_all_matches_public_names() -> None:
    assert set(tabledag.__all__) == PUBLIC_NAMES
    assert len(tabledag.__all__) == len(set(tabledag.__all__))


ALIASES = {"Task": "TaskRef", "TaskGetItem": "TaskRef"}
"""pipedag's names for tabledag's own types (documented as aliases)."""


def test_every_name_in_all_resolves() -> None:
    for name in tabledag.__all__:
        value = getattr(tabledag, name)
        assert value is not None, name
        if isinstance(value, type) or callable(value):
            assert value.__name__ == ALIASES.get(name, name), (name, value)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        tabledag.no_such_name  # noqa: B018


def test_dir_lists_public_names() -> None:
    assert set(dir(tabledag)) >= PUBLIC_NAMES
