"""Configuration: `create_basic_config(url)` in code, or `tabledag.yaml` with instances.

```yaml
instances:
  __any__:                      # the base every instance extends
    instance_id: pipeline
    table_store:
      class: tabledag.SQLTableStore
      args:
        url: "duckdb:///{$HOME}/tabledag/{instance_id}.duckdb"
  postgres:
    instance_id: analytics
    table_store:
      args:
        url: "postgresql://{$PGUSER}:{$PGPASSWORD}@127.0.0.1:5432/{instance_id}"
```

`{instance_id}` and `{$ENV_VAR}` are substituted in strings. A `Config` is a plain frozen value, so
it pickles to worker processes, which build their own store from it.
"""

from __future__ import annotations

import copy
import functools
import importlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..util import mask_url

CONFIG_FILE = "tabledag.yaml"
CONFIG_ENV = "TABLEDAG_CONFIG"
_ENV_PATTERN = re.compile(r"\{\$([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Config:
    """One instance's settings; `.store` is its table store (built on first use)."""

    instance_id: str
    table_store: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict, compare=False)

    @functools.cached_property
    def store(self) -> Any:
        return build_store(self.table_store, self.instance_id)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("store", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        url = self.table_store.get("args", {}).get("url", "")
        return f"Config(instance_id={self.instance_id!r}, url={mask_url(str(url))!r})"

    @staticmethod
    def load(path: str | os.PathLike[str] | None = None) -> ConfigFile:
        """Read `tabledag.yaml` from `path`, `$TABLEDAG_CONFIG`, or the nearest parent directory."""
        return ConfigFile(find_config(path))


def create_basic_config(url: str, instance_id: str = "pipeline", **store_args: Any) -> Config:
    """A config for one SQL database, in code: `create_basic_config("duckdb:///x.duckdb")`."""
    args = {"url": url, **store_args}
    return Config(instance_id, {"class": "tabledag.SQLTableStore", "args": args})


class ConfigFile:
    """A parsed `tabledag.yaml`; `.get(instance)` gives a `Config`."""

    def __init__(self, path: Path) -> None:
        import yaml

        self.path = path
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise ConfigError(f"{path} is not valid YAML: {error}") from error
        instances = data.get("instances")
        if not isinstance(instances, dict) or not instances:
            raise ConfigError(f"{path} needs an `instances:` mapping (with an `__any__` base)")
        self.instances: dict[str, Any] = instances

    def get(self, instance: str | None = None) -> Config:
        names = [n for n in self.instances if n != "__any__"]
        if instance is None:
            instance = "__any__" if "__any__" in self.instances or not names else names[0]
        if instance not in self.instances:
            raise ConfigError(
                f"{self.path} has no instance {instance!r}; it has: {', '.join(self.instances)}"
            )
        merged = _deep_merge(self.instances.get("__any__") or {}, self.instances[instance] or {})
        instance_id = str(
            merged.pop("instance_id", "pipeline" if instance == "__any__" else instance)
        )
        store = merged.pop("table_store", None)
        if not isinstance(store, dict) or "class" not in store:
            raise ConfigError(
                f"{self.path}: instance {instance!r} needs `table_store: {{class: ..., args: ...}}`"
            )
        return Config(instance_id, _expand(store, instance_id), settings=merged)


def find_config(path: str | os.PathLike[str] | None = None) -> Path:
    candidates: list[Path] = []
    if path is not None or os.environ.get(CONFIG_ENV):
        given = Path(path if path is not None else os.environ[CONFIG_ENV]).expanduser()
        candidates.append(given / CONFIG_FILE if given.is_dir() else given)
    else:
        here = Path.cwd().resolve()
        candidates += [d / CONFIG_FILE for d in (here, *here.parents)]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {CONFIG_FILE} found (looked at {candidates[0]} and upwards); create one, set "
        f"${CONFIG_ENV}, or pass config=create_basic_config(url) to flow.run"
    )


def build_store(spec: dict[str, Any], instance_id: str) -> Any:
    """Import `spec["class"]` ("tabledag.SQLTableStore" or "module:Class") and build it."""
    path = spec["class"]
    module_name, _, class_name = path.rpartition(":") if ":" in path else path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"cannot import table store class {path!r}: {error}") from error
    args = dict(spec.get("args") or {})
    args.setdefault("instance_id", instance_id)
    return cls(**args)


def _expand(value: Any, instance_id: str) -> Any:
    if isinstance(value, str):

        def env(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(f"environment variable {name} is not set (used in the config)")
            return os.environ[name]

        return _ENV_PATTERN.sub(env, value).replace("{instance_id}", instance_id)
    if isinstance(value, dict):
        return {k: _expand(v, instance_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, instance_id) for v in value]
    return value


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
