"""tabledag: data pipelines whose tasks produce tables.

Public names are imported on first use, so `import tabledag` loads neither pandas, polars,
duckdb nor ibis.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Flow": "tabledag.core.flow",
    "Stage": "tabledag.core.flow",
    "materialize": "tabledag.core.task",
    "Result": "tabledag.core.result",
    "FinalTaskState": "tabledag.core.result",
    "Table": "tabledag.outputs",
    "RawSql": "tabledag.outputs",
    "Config": "tabledag.config",
    "create_basic_config": "tabledag.config",
    "SQLTableStore": "tabledag.stores.sql",
    "ParquetTableStore": "tabledag.stores.parquet",
    "ArrowTableStore": "tabledag.stores.memory",
    "ParquetTableCache": "tabledag.stores.table_cache",
    "TableHook": "tabledag.hooks.base",
    "CanMatResult": "tabledag.hooks.base",
    "CanRetResult": "tabledag.hooks.base",
    "TabledagError": "tabledag.errors",
    "DeclarationError": "tabledag.errors",
    "DuplicateNameError": "tabledag.errors",
    "ConfigError": "tabledag.errors",
    "HookError": "tabledag.errors",
    "TaskFailedError": "tabledag.errors",
    "TableValidationError": "tabledag.errors",
    "StoreError": "tabledag.errors",
    "StoreConnectionError": "tabledag.errors",
    "UnsupportedTypeError": "tabledag.errors",
    "CommitError": "tabledag.errors",
    "TableOptionsError": "tabledag.errors",
    "LockError": "tabledag.errors",
    "WorkerDiedError": "tabledag.errors",
    "SequentialEngine": "tabledag.engines",
    "ThreadEngine": "tabledag.engines",
    "ProcessEngine": "tabledag.engines",
    "DaskEngine": "tabledag.engines",
    "TaskEvent": "tabledag.core.progress",
    "AUTO_VERSION": "tabledag.core.auto_version",
    "Task": "tabledag.core.task",
    "TaskGetItem": "tabledag.core.task",
    "Blob": "tabledag.outputs",
    "View": "tabledag.hooks.view",
    "SortCol": "tabledag.hooks.view",
    "SortOrder": "tabledag.hooks.view",
    "ExternalTableReference": "tabledag.outputs",
    "FileBlobStore": "tabledag.stores.blobs",
    "CacheValidationMode": "tabledag.core.fresh",
    "FreshInputError": "tabledag.core.fresh",
    "input_stage_versions": "tabledag.core.stage_versions",
    "AutoVersionError": "tabledag.errors",
    "DebugTaintedError": "tabledag.errors",
    "LiveProgress": "tabledag.viz.progress",
    "PlainProgress": "tabledag.viz.progress",
    "GroupNode": "tabledag.core.group",
    "VisualizationStyle": "tabledag.core.group",
    # pipedag's spellings (thin adapters; see tabledag.pipedag)
    "create_basic_pipedag_config": "tabledag.pipedag.config",
    "ConfigContext": "tabledag.pipedag.config",
    "StageLockContext": "tabledag.pipedag.context",
    "Schema": "tabledag.pipedag.interactive",
    "materialize_table": "tabledag.pipedag.interactive",
    "PipedagConfig": "tabledag.pipedag.config",
    "IgnoredConfigWarning": "tabledag.config.layout",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tabledag' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:
    from .config import Config, create_basic_config
    from .config.layout import IgnoredConfigWarning
    from .core.auto_version import AUTO_VERSION
    from .core.flow import Flow, Stage
    from .core.fresh import CacheValidationMode, FreshInputError
    from .core.group import GroupNode, VisualizationStyle
    from .core.progress import TaskEvent
    from .core.result import FinalTaskState, Result
    from .core.stage_versions import input_stage_versions
    from .core.task import Task, TaskGetItem, materialize
    from .engines import DaskEngine, ProcessEngine, SequentialEngine, ThreadEngine
    from .errors import (
        AutoVersionError,
        CommitError,
        ConfigError,
        DebugTaintedError,
        DeclarationError,
        DuplicateNameError,
        HookError,
        LockError,
        StoreConnectionError,
        StoreError,
        TabledagError,
        TableOptionsError,
        TableValidationError,
        TaskFailedError,
        UnsupportedTypeError,
        WorkerDiedError,
    )
    from .hooks.base import CanMatResult, CanRetResult, TableHook
    from .hooks.view import SortCol, SortOrder, View
    from .outputs import Blob, ExternalTableReference, RawSql, Table
    from .pipedag.config import ConfigContext, PipedagConfig, create_basic_pipedag_config
    from .pipedag.context import StageLockContext
    from .pipedag.interactive import Schema, materialize_table
    from .stores.blobs import FileBlobStore
    from .stores.memory import ArrowTableStore
    from .stores.parquet import ParquetTableStore
    from .stores.sql import SQLTableStore
    from .stores.table_cache import ParquetTableCache
    from .viz.progress import LiveProgress, PlainProgress
