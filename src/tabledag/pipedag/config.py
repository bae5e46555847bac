"""`create_basic_pipedag_config` and `ConfigContext`: pipedag's config objects over `Config`.

pipedag builds a `PipedagConfig` and picks an instance with `.get("default")`, then enters it
(`with cfg: flow.run()`). Here `.get` returns a `ConfigContext`, a `Config` that can be entered.
"""

from __future__ import annotations

from contextvars import Token
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config, create_basic_config
from ..config import active as _active
from ..errors import ConfigError


@dataclass(frozen=True)
class ConfigContext(Config):
    """A `Config` that `with cfg:` makes current: `flow.run()` inside runs with it, and
    `ConfigContext.get()` returns it (pipedag's spelling)."""

    def __enter__(self) -> ConfigContext:
        tokens: list[Token[Config | None]] = self.__dict__.setdefault("_tokens", [])
        tokens.append(_active.enter(self))
        return self

    def __exit__(self, *exc: object) -> None:
        _active.leave(self.__dict__["_tokens"].pop())

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_tokens", None)
        return state

    @classmethod
    def get(cls) -> Config:
        """The config of the enclosing `with cfg:` block."""
        config = _active.current()
        if config is None:
            raise ConfigError("no config is active: use `with cfg:` around this code")
        return config

    @classmethod
    def of(cls, config: Config) -> ConfigContext:
        fields = {name: getattr(config, name) for name in config.__dataclass_fields__}
        instance_id, table_store = fields.pop("instance_id"), fields.pop("table_store")
        return cls(instance_id, table_store, **fields)


class BasicPipedagConfig:
    """What `create_basic_pipedag_config` returns: one instance, whatever name `.get` asks."""

    def __init__(self, config: Config) -> None:
        self._config = config

    def get(
        self, instance: str | None = None, flow: str | None = None, per_user: bool = False
    ) -> ConfigContext:
        return ConfigContext.of(self._config)


def create_basic_pipedag_config(
    engine_url: str,
    blob_directory: str | Path | None = None,
    name: str = "pipeline",
    instance_id: str = "pipeline",
    network_interface: str = "127.0.0.1",
    kroki_url: str | None = None,
    auto_table: Any = None,
    fail_fast: bool = True,
    disable_stage_locking: bool = False,
    file_locking_directory: str | Path | None = None,
) -> BasicPipedagConfig:
    """pipedag's one-URL config, with pipedag's defaults (`fail_fast=True`).

    Accepted and ignored: `network_interface` (tabledag runs no context server), `kroki_url`
    (visualisation is local), `auto_table` (every frame and query type is a table already),
    `file_locking_directory`. `disable_stage_locking` is ignored too: tabledag keeps a DuckDB
    file's lock, which costs nothing and keeps a second process out.
    """
    if blob_directory is not None:
        raise ConfigError("blob_directory: tabledag has no blob store yet (Blob outputs)")
    url = engine_url.replace("{name}", name)
    return BasicPipedagConfig(create_basic_config(url, instance_id, fail_fast=fail_fast))
