"""Every error tabledag raises on purpose.

```
* TabledagError
  + DeclarationError (ValueError)    the flow as written cannot run: fix the code that builds it
    - DuplicateNameError             two tables or tasks share a name in one stage
    - DebugTaintedError              a task materialized one table twice (debugging)
  + ConfigError (ValueError)         tabledag.yaml or a config argument is wrong
  + HookError (TypeError)            no table hook can write or read an object of this type
  + TaskFailedError                  a task raised or returned something unusable (wraps the cause)
  + TableValidationError (ValueError)  a table fails the schema its task's annotation names
  + StoreError                       the database refused or lost something
    - StoreConnectionError           the database cannot be reached or opened
    - UnsupportedTypeError (TypeError)  a column type this store cannot hold
    - CommitError                    a stage could not be committed (nothing of it became visible)
    - LockError                      another run holds the lock for too long
```

Leaves also subclass the builtin a caller would naturally catch (the ibis habit). An error
raised because of a driver error keeps it as `__cause__`; where SQLAlchemy is installed, a
`StoreError` for a statement the database refused is also the `sqlalchemy.exc` class of its
PEP 249 category (`ProgrammingError`, `IntegrityError`...), which pipedag code catches
(`tabledag.stores.sql.statement_errors`).
"""

from __future__ import annotations


class TabledagError(Exception):
    """Root of every error tabledag raises on purpose."""


class DeclarationError(TabledagError, ValueError):
    """The flow, stage or task declaration is inconsistent."""


class DuplicateNameError(DeclarationError):
    """Two tables (or tasks) would get the same name in one stage."""


class ConfigError(TabledagError, ValueError):
    """The configuration is missing, unreadable or inconsistent."""


class TableOptionsError(DeclarationError):
    """A table's options do not fit the table or its store (a column the table lacks, an
    option set the store's config does not define)."""


class AutoVersionError(DeclarationError):
    """A task with `version=AUTO_VERSION` could not be traced on placeholder inputs."""


class DebugTaintedError(DeclarationError):
    """A task materialized one table twice (`Table(...).materialize()`, pipedag's
    interactive debugging): it ran, but its cache key cannot stand for what it wrote."""


class HookError(TabledagError, TypeError):
    """No registered table hook can materialize or retrieve the given type."""


class TaskFailedError(TabledagError):
    """A task failed; `__cause__` holds the original exception."""

    def __init__(self, message: str, *, task: str | None = None, stage: str | None = None) -> None:
        super().__init__(message)
        self.task = task
        self.stage = stage


class TableValidationError(TabledagError, ValueError):
    """A task's input or output table fails the dataframely / colspec schema its annotation
    names. `failures` maps each table (`stage.table`) to its failed rules and row counts."""

    def __init__(
        self, message: str, *, task: str = "", failures: dict[str, dict[str, int]] | None = None
    ) -> None:
        super().__init__(message)
        self.task = task
        self.failures = failures or {}


class StoreError(TabledagError):
    """The table store could not complete an operation."""


class StoreConnectionError(StoreError):
    """The database could not be reached, opened or created."""


class UnsupportedTypeError(StoreError, TypeError):
    """A column has a type the store cannot hold; raised before anything is written."""


class CommitError(StoreError):
    """A stage commit failed; the stage still shows its previous generation."""


class LockError(StoreError):
    """A lock could not be acquired in time."""


class WorkerDiedError(TaskFailedError):
    """The worker process running a task died before the task finished."""
