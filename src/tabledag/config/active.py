"""The config a `with cfg:` block makes current (pipedag's `ConfigContext` spelling).

tabledag passes its config explicitly (`flow.run(config)`); pipedag programs instead enter
the config and call `flow.run()`, and call `ConfigContext.get()` inside tasks. `Flow.run`
asks `current()` before it looks for a file, so both spellings run the same flow, and the
runner (and each engine's worker, around each task) enters the run's config, so that tasks
find it on every engine. The one other place config is ambient; tabledag's own code reads it
only in `Flow.run` and the pipedag adapters.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Config

_current: ContextVar[Config | None] = ContextVar("tabledag_config", default=None)


def current() -> Config | None:
    return _current.get()


def enter(config: Config) -> Token[Config | None]:
    return _current.set(config)


def leave(token: Token[Config | None]) -> None:
    _current.reset(token)
