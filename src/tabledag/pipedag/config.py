"""pipedag's config objects over tabledag's: `PipedagConfig`, `ConfigContext`,
`create_basic_pipedag_config`.

pipedag reads `pipedag.yaml` into a `PipedagConfig` and picks an instance with
`.get(instance, flow, per_user)`, which returns a `ConfigContext`: an immutable config that
`with cfg:` makes current (`flow.run()` inside uses it, `ConfigContext.get()` in a task returns
it), with `.attrs` readable as `attrs.x` or `attrs["x"]`, `.evolve(...)` and `.store.table_store`
(a SQLAlchemy `engine`, `engine_connect()`, `execute()`). Here `PipedagConfig` is tabledag's
`ConfigFile` (the layout is the same, see `tabledag.config.layout`) and `ConfigContext` is a
`Config`, so either spelling runs the same flow.
"""

from __future__ import annotations

import dataclasses
from contextvars import Token
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config, ConfigFile, find_config
from ..config import active as _active
from ..config.layout import deep_merge
from ..errors import ConfigError
from .store import PipedagStore


class Attrs(dict[str, Any]):
    """pipedag's `attrs` (a `Box`): a mapping whose keys also read as attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            value = self[name]
        except KeyError:
            raise AttributeError(f"the config's attrs have no {name!r}") from None
        return Attrs(value) if isinstance(value, dict) and not isinstance(value, Attrs) else value


class _Settings(dict[str, Any]):
    """pipedag's `cache_validation` (a `Box`): `cfg.cache_validation.mode`."""

    __getattr__ = Attrs.__getattr__


@dataclass(frozen=True, repr=False)  # Config.__repr__ masks passwords
class ConfigContext(Config):
    """A `Config` that `with cfg:` makes current (pipedag's `ConfigContext`)."""

    flow_name: str | None = None
    instance_name: str | None = None
    swallow_exceptions: bool = False
    """pipedag's `evolve(swallow_exceptions=True)`: accepted and changes nothing, since
    without `fail_fast` a failure already ends in the `Result` and is not raised."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.attrs, Attrs):
            object.__setattr__(self, "attrs", Attrs(self.attrs))
        if not isinstance(self.cache_validation, _Settings):
            defaults = {"mode": "normal", "disable_cache_function": False}
            settings = _Settings({**defaults, "ignore_task_version": False})
            settings.update(self.cache_validation)
            object.__setattr__(self, "cache_validation", settings)

    def __enter__(self) -> ConfigContext:
        tokens: list[Token[Config | None]] = self.__dict__.setdefault("_tokens", [])
        tokens.append(_active.enter(self))
        return self

    def __exit__(self, *exc: object) -> None:
        _active.leave(self.__dict__["_tokens"].pop())

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_tokens", None)
        state.pop("pipedag_store", None)
        return state

    @classmethod
    def get(cls) -> ConfigContext:
        """The config of the enclosing `with cfg:` block, or of the running flow (in its
        tasks, on every engine); a plain `Config` is given pipedag's surface."""
        config = _active.current()
        if config is None:
            raise ConfigError("no config is active: use `with cfg:` around this code")
        return config if isinstance(config, ConfigContext) else ConfigContext.of(config)

    @classmethod
    def of(cls, config: Config, **names: str | None) -> ConfigContext:
        """`config` as a ConfigContext; its store (if built) is shared, not rebuilt."""
        fields = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
        fields.update(names)
        instance_id, table_store = fields.pop("instance_id"), fields.pop("table_store")
        context = cls(instance_id, table_store, **fields)
        if "store_object" in config.__dict__:
            context.__dict__["store_object"] = config.__dict__["store_object"]
        return context

    def _materialize_interactively(self, table: Any, schema: Any, return_as_type: Any) -> Any:
        """`Table.materialize(cfg, schema)` outside a flow (pipedag.interactive)."""
        from .interactive import materialize_interactively

        return materialize_interactively(table, self, schema, return_as_type)

    @property
    def pipedag_name(self) -> str | None:
        return self.name

    @property
    def store(self) -> PipedagStore:
        """pipedag's store object: `.table_store` (SQLAlchemy access) and `.blob_store`."""
        if "pipedag_store" not in self.__dict__:
            self.__dict__["pipedag_store"] = PipedagStore(self)
        return self.__dict__["pipedag_store"]  # type: ignore[no-any-return]

    def evolve(self, **changes: Any) -> ConfigContext:
        """A copy with `changes`; a mapping is merged into the current one (pipedag's rule)."""
        names = {f.name for f in dataclasses.fields(self)}
        changes = {k.lstrip("_") if k.lstrip("_") in names else k: v for k, v in changes.items()}
        unknown = [k for k in changes if k not in names]  # (attrs' evolve strips a leading _)
        if unknown:
            raise ConfigError(f"ConfigContext.evolve: no setting {', '.join(unknown)}")
        for name, value in list(changes.items()):
            current = getattr(self, name)
            if isinstance(value, dict) and isinstance(current, dict):
                changes[name] = deep_merge(dict(current), value)
        evolved = dataclasses.replace(self, **changes)
        if "table_store" not in changes and "store_object" in self.__dict__:
            evolved.__dict__["store_object"] = self.__dict__["store_object"]
        return evolved


class PipedagConfig(ConfigFile):
    """A config file in pipedag's layout: `PipedagConfig(path_or_dict).get(instance)`.

    `PipedagConfig.default` reads the file `Config.load()` finds (`$TABLEDAG_CONFIG`, else
    `tabledag.yaml` here or in a parent directory).
    """

    def __init__(self, path: str | Path | dict[str, Any]) -> None:
        super().__init__(path if isinstance(path, dict) else Path(path).expanduser())

    def get(
        self, instance: str | None = None, flow: str | None = None, per_user: bool = False
    ) -> ConfigContext:
        config = super().get(instance, flow, per_user)
        return ConfigContext.of(config, flow_name=flow, instance_name=instance)

    class _Default:
        def __get__(self, instance: object, owner: type[PipedagConfig]) -> PipedagConfig:
            return owner(find_config())

    default = _Default()


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
) -> PipedagConfig:
    """pipedag's one-URL config, with pipedag's defaults (`fail_fast=True`); `.get(...)` with
    any instance name gives it, and `.raw_config` is the layout it stands for.

    `auto_table` naming `pydiverse.transform.Table` names bare pdt outputs after the table
    they carry, as pipedag does (`carried_table_names`). Accepted and ignored, as in a config
    file (`tabledag.config.layout.IGNORED`): `network_interface`, `kroki_url`;
    `disable_stage_locking` and
    `file_locking_directory` too: each store takes its database's own lock (a file lock for a
    DuckDB file), which costs nothing and keeps a second run out.
    """
    settings: dict[str, Any] = {
        "instance_id": instance_id,
        "fail_fast": fail_fast,
        "table_store": {"class": "tabledag.SQLTableStore", "args": {"url": engine_url}},
    }
    if blob_directory is not None:
        blob_args = {"base_path": str(blob_directory)}
        settings["blob_store"] = {"class": "tabledag.FileBlobStore", "args": blob_args}
    if auto_table is not None:
        settings["auto_table"] = list(auto_table)
    raw = {"name": name, "strict_instance_lookup": False, "instances": {"__any__": settings}}
    return PipedagConfig(raw)
