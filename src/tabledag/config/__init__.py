"""Configuration: `create_basic_config(url)` in code, or `tabledag.yaml` with instances.

```yaml
name: analytics                 # optional: a label for the project, nothing reads it
instances:
  __any__:                      # the base every instance extends
    instance_id: pipeline
    fail_fast: false            # re-raise the first task failure instead of reporting it
    lock_timeout: 600           # seconds to wait for another run's lock (null: the store's own)
    orchestration:              # where tasks run (default: one after another)
      class: tabledag.ThreadEngine
      args: {max_workers: 4}
    attrs: {owner: data-team}   # free-form values for your own code; tabledag does not read them
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

The file is checked strictly, because a misspelt key that is silently ignored runs a pipeline
other than the one written down. Top-level keys are `instances` (required) and `name`; instance
keys are `instance_id`, `table_store`, `fail_fast`, `lock_timeout`, `orchestration` and
`attrs`; `table_store`
keys are `class`, `args` and `local_table_cache` (pipedag's place for it: a local parquet
cache of frame inputs, `{base_path: ..., store_input: true, store_output: false,
use_stored_input_as_cache: true}`, given to the store as its `local_table_cache` argument).
Anything else is a `ConfigError` naming the key and the file. The
store's `args` are checked by building the store when an instance is read (`ConfigFile.get`):
against the class's signature where it takes no `**kwargs`, and by the class itself otherwise.

An instance extends `__any__` by a deep merge (mappings merge key by key, other values replace).
`{instance_id}` and `{$ENV_VAR}` are substituted in the `table_store` strings (not in `attrs`).
A `Config` is a plain frozen value, so it pickles to worker processes, which build their own
store from it.
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import math
import os
import re
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..util import mask_url
from .layout import (
    IGNORED,
    TOP_LEVEL_KEYS,
    merged_instance,
    strip_ignored,
    warn_ignored,
)

CONFIG_FILE = "tabledag.yaml"
CONFIG_ENV = "TABLEDAG_CONFIG"
_ENV_PATTERN = re.compile(r"\{\$([A-Za-z_][A-Za-z0-9_]*)\}")

INSTANCE_KEYS = (
    "instance_id",
    "table_store",
    "blob_store",
    "fail_fast",
    "lock_timeout",
    "orchestration",
    "validation",
    "keep_validation_subqueries",
    "carried_table_names",
    "auto_table",
    "cache_validation",
    "attrs",
    "technical_setup",
    "per_user_template",
    "visualization",
    *(key for key in IGNORED if "." not in key),
)
TABLE_STORE_KEYS = ("class", "args", "local_table_cache", "table_store_connection", "hook_args")
BLOB_STORE_KEYS = ("class", "args", "blob_store_connection")
CACHE_VALIDATION_KEYS = ("mode", "disable_cache_function", "ignore_task_version")
_DEFAULT_STORE = "tabledag.SQLTableStore"


@dataclass(frozen=True)
class Config:
    """One instance's settings; `.store` is its table store (built on first use).

    `fail_fast`: re-raise the first task failure instead of reporting it in the `Result`.
    `lock_timeout`: seconds to wait for another run's lock; `None` leaves it to the store.
    `orchestration`: the engine that runs tasks (`tabledag.engines`): `{class: ..., args: ...}`
        or a short name (`threads`, `processes`, `dask`); default sequential.
    `validation`: what a table failing its task's dataframely / colspec annotation does:
        `fail` (default: the task fails), `warn` (logged, the task goes on) or `off`.
    `keep_validation_subqueries`: a colspec check the database runs (on a query output)
        writes its subqueries as tables of the stage (`_t_<hash>`,
        `_raw_<name>__primary_key_<hash>`) instead of inlining them: for debugging, and
        pipedag's `hook_args: {sql: {cleanup_annotation_action_intermediate_state: false}}`.
    `carried_table_names`: a pydiverse.transform table returned bare is named after the table
        it carries (its input's name, unless aliased), as pipedag names it when its
        `auto_table` lists `pydiverse.transform.Table` (which sets this); default: after the
        task. Two such outputs of one stage from one input then collide: alias one.
    `attrs`: free-form values for the user's own code; tabledag does not read them.
    `name`: the config file's `name` (`{name}` in URLs).
    `cache_validation`: pipedag's `{mode: normal, disable_cache_function: ..., ...}`: the
        default of `flow.run(cache_validation_mode=...)`.
    `blob_store`: where `Blob` outputs go: `{class: tabledag.FileBlobStore, args: ...}`.
    `visualization`: pipedag's graph styles, read by `flow.visualize()`.
    """

    instance_id: str
    table_store: dict[str, Any]
    _: KW_ONLY
    fail_fast: bool = False
    lock_timeout: float | None = None
    orchestration: Any = None
    attrs: dict[str, Any] = field(default_factory=dict)
    validation: str = "fail"
    keep_validation_subqueries: bool = False
    carried_table_names: bool = False
    name: str | None = None
    cache_validation: dict[str, Any] = field(default_factory=dict)
    blob_store: dict[str, Any] | None = None
    visualization: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"the config of instance {self.instance_id!r}"
        _check_settings(self.fail_fast, self.lock_timeout, self.attrs, where)
        _check_validation(self.validation, where)
        for flag in ("keep_validation_subqueries", "carried_table_names"):
            if not isinstance(getattr(self, flag), bool):
                raise ConfigError(f"{where}: `{flag}` must be true or false")
        if self.orchestration is not None:
            from ..engines import engine_from_spec

            engine_from_spec(self.orchestration, where)  # a bad engine fails here, not mid-run
        if self.lock_timeout is not None:  # one type for the runner, whatever the YAML held
            object.__setattr__(self, "lock_timeout", float(self.lock_timeout))

    @functools.cached_property
    def store_object(self) -> Any:
        """The table store, built once per process (a pickled Config builds its own)."""
        return build_store(self.table_store, self.instance_id)

    @property
    def store(self) -> Any:
        return self.store_object

    @functools.cached_property
    def blob_store_object(self) -> Any:
        """Where `Blob` outputs go (None where the instance names no `blob_store`)."""
        if self.blob_store is None:
            return None
        spec = {k: v for k, v in self.blob_store.items() if k != "blob_store_connection"}
        blobs = build_object(spec, "blob_store")
        return blobs.for_instance(self.instance_id) if hasattr(blobs, "for_instance") else blobs

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("store_object", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        args = self.table_store.get("args", {})
        where = [f"{key}={mask_url(str(args[key]))!r}" for key in _SHOWN if args.get(key)]
        return f"Config({', '.join([f'instance_id={self.instance_id!r}', *where])})"

    @staticmethod
    def load(path: str | os.PathLike[str] | None = None) -> ConfigFile:
        """Read `tabledag.yaml` from `path`, `$TABLEDAG_CONFIG`, or the nearest parent directory."""
        return ConfigFile(find_config(path))


_SHOWN = ("url", "parquet_base_path")
"""Store arguments a Config's repr shows (masked): where the tables are."""


def create_basic_config(
    url: str,
    instance_id: str = "pipeline",
    *,
    fail_fast: bool = False,
    lock_timeout: float | None = None,
    orchestration: Any = None,
    attrs: dict[str, Any] | None = None,
    validation: str = "fail",
    **store_args: Any,
) -> Config:
    """A config for one SQL database, in code: `create_basic_config("duckdb:///x.duckdb")`.

    `store_args` go to `SQLTableStore`; the keyword arguments before them are `Config` fields.
    """
    spec = {"class": _DEFAULT_STORE, "args": {"url": url, **store_args}}
    return Config(
        instance_id,
        spec,
        fail_fast=fail_fast,
        lock_timeout=lock_timeout,
        orchestration=orchestration,
        attrs={} if attrs is None else attrs,
        validation=validation,
    )


def _check_settings(fail_fast: Any, lock_timeout: Any, attrs: Any, where: str) -> None:
    """Raise a ConfigError unless the instance settings have types the runner can rely on."""
    if not isinstance(fail_fast, bool):
        raise ConfigError(f"{where}: `fail_fast` must be true or false, not {fail_fast!r}")
    if lock_timeout is not None and not _is_seconds(lock_timeout):
        raise ConfigError(
            f"{where}: `lock_timeout` must be a non-negative number of seconds (or null / None "
            f"for the store's default), not {lock_timeout!r}"
        )
    if not isinstance(attrs, dict):
        raise ConfigError(f"{where}: `attrs` must be a mapping, not {type(attrs).__name__}")


def _check_validation(validation: Any, where: str) -> None:
    modes = ("fail", "warn", "off")  # tabledag.validation.MODES, without importing it here
    if validation not in modes:
        hint = _did_you_mean(str(validation), modes)
        raise ConfigError(
            f"{where}: `validation` must be one of {', '.join(modes)}, not {validation!r}.{hint}"
        )


def _is_seconds(value: Any) -> bool:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return number and math.isfinite(value) and value >= 0


class ConfigFile:
    """A parsed `tabledag.yaml` (or its layout as a dict); `.get(instance)` gives a `Config`."""

    def __init__(self, path: Path | dict[str, Any]) -> None:
        if isinstance(path, dict):
            self.path: Path | None = None
            data = copy.deepcopy(path)
        else:
            self.path = path
            data = _read_yaml(path)
        where = self.where
        _reject_unknown(data, TOP_LEVEL_KEYS, f"{where}: unknown top-level key")
        instances = data.get("instances")
        if not isinstance(instances, dict) or not instances:
            raise ConfigError(f"{where} needs an `instances:` mapping (with an `__any__` base)")
        for name, settings in instances.items():
            _check_instance_keys(settings, f"{where}: instance {name!r}")
        for section in ("technical_setups", "table_store_connections", "blob_store_connections"):
            if not isinstance(data.get(section) or {}, dict):
                raise ConfigError(f"{where}: `{section}` must be a mapping of names to settings")
        for name, settings in (data.get("technical_setups") or {}).items():
            _check_instance_keys(settings, f"{where}: technical setup {name!r}")
        for name, settings in (data.get("flows") or {}).items():
            _check_instance_keys(
                {k: v for k, v in (settings or {}).items() if k != "instances"},
                f"{where}: flow {name!r}",
            )
            for instance, part in ((settings or {}).get("instances") or {}).items():
                _check_instance_keys(part, f"{where}: flow {name!r}, instance {instance!r}")
        if data.get("name") is not None and not isinstance(data["name"], str):
            raise ConfigError(f"{where}: `name` must be a string, not {data['name']!r}")
        self.name: str | None = data.get("name")
        self.instances: dict[str, Any] = instances
        self.raw_config = data

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else "the config"

    def get(
        self, instance: str | None = None, flow: str | None = None, per_user: bool = False
    ) -> Config:
        """The `Config` of `instance` (default: `__any__`, else the first) in `flow`, its
        store checked; `per_user` gives the instance an id of its own per user
        (`per_user_template`, default `{id}_{username}`)."""
        name = self._instance_name(instance)
        where = f"{self.where}: instance {name!r}"
        lookup = None if name == "__any__" else name
        merged = merged_instance(self.raw_config, lookup, flow, self.where)
        warn_ignored(merged, where)
        merged = strip_ignored(merged)
        default_id = "pipeline" if name == "__any__" else name
        instance_id = str(merged.get("instance_id", default_id))
        if per_user:
            template = str(merged.get("per_user_template", "{id}_{username}"))
            instance_id = template.replace("{id}", instance_id).replace("{username}", _username())
        store = merged.get("table_store")
        if not isinstance(store, dict) or "class" not in store:
            raise ConfigError(f"{where} needs `table_store: {{class: ..., args: ...}}`")
        settings = {k: merged[k] for k in _CONFIG_SETTINGS if k in merged}
        store = {k: v for k, v in store.items() if k != "hook_args"}
        if _hook_args(merged["table_store"].get("hook_args"), where):
            settings.setdefault("keep_validation_subqueries", True)
        if _names_pdt_tables(merged.get("auto_table"), where):
            settings.setdefault("carried_table_names", True)
        settings.setdefault("attrs", {})
        _check_settings(
            settings.get("fail_fast", False), settings.get("lock_timeout"), settings["attrs"], where
        )
        variables = {"instance_id": instance_id, "username": _username()}
        if self.name is not None:
            variables["name"] = self.name
        store = _expand(store, variables, where)
        config = Config(instance_id, store, name=self.name, **settings)
        # Build the store now, so a wrong argument is reported with the file it came from.
        config.__dict__["store_object"] = build_store(config.table_store, instance_id, where=where)
        return config

    def _instance_name(self, instance: str | None) -> str:
        names = [n for n in self.instances if n != "__any__"]
        if instance is None:
            return "__any__" if "__any__" in self.instances or not names else names[0]
        return instance


_CONFIG_SETTINGS = (
    "fail_fast",
    "lock_timeout",
    "orchestration",
    "attrs",
    "validation",
    "keep_validation_subqueries",
    "carried_table_names",
    "cache_validation",
    "blob_store",
    "visualization",
)
"""Instance keys that become `Config` fields of the same name."""


def _names_pdt_tables(auto_table: Any, where: str) -> bool:
    """pipedag's `auto_table`: every type a task returns is a table in tabledag already, but
    pipedag names a bare pydiverse.transform table after the table it carries (its input's
    name, unless aliased) when `auto_table` lists it; so does tabledag then."""
    if auto_table is None:
        return False
    if not isinstance(auto_table, list | tuple) or not all(isinstance(t, str) for t in auto_table):
        raise ConfigError(f"{where}: `auto_table` must be a list of type paths")
    return any(path.startswith("pydiverse.transform") for path in auto_table)


_SQL_HOOK_ARGS = ("cleanup_annotation_action_intermediate_state",)


def _hook_args(hook_args: Any, where: str) -> bool:
    """pipedag's `table_store.hook_args` (what `IGNORED` leaves): whether the subqueries of
    a colspec check run in the database are kept as tables of the stage
    (`sql: {cleanup_annotation_action_intermediate_state: false}`)."""
    if not hook_args:
        return False
    if not isinstance(hook_args, dict):
        raise ConfigError(f"{where}: `table_store.hook_args` must be a mapping")
    used = {k: v for k, v in hook_args.items() if v}
    _reject_unknown(used, ("sql",), f"{where}: unknown hook in `hook_args`:")
    sql = hook_args.get("sql") or {}
    if not isinstance(sql, dict):
        raise ConfigError(f"{where}: `table_store.hook_args.sql` must be a mapping")
    _reject_unknown(sql, _SQL_HOOK_ARGS, f"{where}: unknown key in `table_store.hook_args.sql`:")
    cleanup = sql.get("cleanup_annotation_action_intermediate_state", True)
    if not isinstance(cleanup, bool):
        raise ConfigError(
            f"{where}: `hook_args.sql.cleanup_annotation_action_intermediate_state` must be "
            f"true or false, not {cleanup!r}"
        )
    return not cleanup


def _username() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return os.environ.get("USER", "user")


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must be a mapping with `instances:`, not {type(data).__name__}")
    return data


def _check_instance_keys(settings: Any, where: str) -> None:
    if settings is None:
        return
    if not isinstance(settings, dict):
        raise ConfigError(f"{where} must be a mapping, not {type(settings).__name__}")
    _reject_unknown(settings, INSTANCE_KEYS, f"{where}: unknown key")
    store = settings.get("table_store")
    if store is None:
        return
    if not isinstance(store, dict):
        raise ConfigError(f"{where}: `table_store` must be a mapping with `class` and `args`")
    _reject_unknown(store, TABLE_STORE_KEYS, f"{where}: unknown key in `table_store`:")
    sections = (("blob_store", BLOB_STORE_KEYS), ("cache_validation", CACHE_VALIDATION_KEYS))
    for key, known in sections:
        section = settings.get(key)
        if section is not None and not isinstance(section, dict):
            raise ConfigError(f"{where}: `{key}` must be a mapping")
        if section:
            _reject_unknown(section, known, f"{where}: unknown key in `{key}`:")
    if "class" in store and not isinstance(store["class"], str):
        raise ConfigError(
            f"{where}: `table_store.class` must be a string such as {_DEFAULT_STORE!r}"
        )
    if store.get("args") is not None and not isinstance(store["args"], dict):
        raise ConfigError(f"{where}: `table_store.args` must be a mapping of argument names")


def _reject_unknown(mapping: dict[str, Any], known: tuple[str, ...], prefix: str) -> None:
    """Raise for the first key of `mapping` not in `known`, with the closest known name."""
    for key in mapping:
        if key not in known:
            hint = _did_you_mean(str(key), known)
            raise ConfigError(
                f"{prefix} {key!r}.{hint} Known keys: {', '.join(known)}; "
                "fix the spelling or remove it"
            )


def _did_you_mean(name: str, known: Any) -> str:
    import difflib  # on error paths only: it costs the import of tabledag ~1 ms

    close = difflib.get_close_matches(name, [str(k) for k in known], n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def find_config(path: str | os.PathLike[str] | None = None) -> Path:
    """The config file: `path` or `$TABLEDAG_CONFIG` (a file or a directory), else discovery."""
    if path is not None:
        return _given_config(Path(path).expanduser().absolute(), "passed to Config.load")
    if os.environ.get(CONFIG_ENV):
        given = Path(os.environ[CONFIG_ENV]).expanduser().absolute()
        return _given_config(given, f"named by ${CONFIG_ENV}")
    here = Path.cwd().resolve()
    for directory in (here, *here.parents):
        if (directory / CONFIG_FILE).is_file():
            return directory / CONFIG_FILE
    raise ConfigError(
        f"no {CONFIG_FILE} found (looked at {here / CONFIG_FILE} and upwards); create one, set "
        f"${CONFIG_ENV}, or pass config=create_basic_config(url) to flow.run"
    )


def _given_config(given: Path, how: str) -> Path:
    """A path the user named: say exactly what is wrong with it rather than search elsewhere."""
    if given.is_dir():
        if (given / CONFIG_FILE).is_file():
            return given / CONFIG_FILE
        raise ConfigError(
            f"the directory {given} ({how}) has no {CONFIG_FILE}; create it there or name "
            "the file itself"
        )
    if not given.exists():
        raise ConfigError(
            f"the config file {given} ({how}) does not exist; check the path or create the file"
        )
    return given


def build_store(spec: dict[str, Any], instance_id: str, *, where: str | None = None) -> Any:
    """Import `spec["class"]` ("tabledag.SQLTableStore" or "module:Class") and build it.

    A wrong argument becomes a ConfigError that says where the arguments came from (`where`).
    """
    where = where or f"the table store of instance {instance_id!r}"
    path = spec.get("class")
    if not isinstance(path, str):
        raise ConfigError(f"{where}: the table store needs a `class`, e.g. {_DEFAULT_STORE!r}")
    cls = _import_store_class(path, where)
    args = dict(spec.get("args") or {})
    if spec.get("local_table_cache") is not None:
        args["local_table_cache"] = spec["local_table_cache"]
    accepted = _accepted_args(cls)
    if accepted is None or "instance_id" in accepted:
        args.setdefault("instance_id", instance_id)
    if accepted is not None:
        _check_args(args, accepted, path, where)
    try:
        return cls(**args)
    except ConfigError as error:
        raise ConfigError(mask_url(f"{where}: {error}")) from error
    except TypeError as error:
        message = f"{where}: the table store args do not fit {path}: {error}"
        raise ConfigError(mask_url(message)) from error


def build_object(spec: dict[str, Any], section: str) -> Any:
    """Build `{class: ..., args: ...}` (a blob store, a lock, ...) from a config section."""
    path = spec.get("class")
    if not isinstance(path, str):
        raise ConfigError(f"`{section}` needs a `class`, e.g. 'tabledag.FileBlobStore'")
    cls = _import_store_class(path, f"`{section}`")
    try:
        return cls(**dict(spec.get("args") or {}))
    except TypeError as error:
        raise ConfigError(f"`{section}`: the args do not fit {path}: {error}") from error


def _import_store_class(path: str, where: str) -> type:
    module_name, _, class_name = path.rpartition(":") if ":" in path else path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigError(f"{where}: cannot import table store class {path!r}: {error}") from error


def _accepted_args(cls: type) -> dict[str, inspect.Parameter] | None:
    """The keyword arguments `cls(...)` takes, or None where it takes any (`**kwargs`)."""
    try:
        parameters = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):  # no introspectable signature: let the call decide
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {p.name: p for p in parameters if p.kind in keyword}


def _check_args(
    args: dict[str, Any], accepted: dict[str, inspect.Parameter], path: str, where: str
) -> None:
    for name in args:
        if name not in accepted:
            hint = _did_you_mean(name, accepted)
            raise ConfigError(
                f"{where}: unknown table store argument {name!r} for {path}.{hint} "
                f"It takes: {', '.join(accepted)}"
            )
    for name, parameter in accepted.items():
        if parameter.default is inspect.Parameter.empty and name not in args:
            raise ConfigError(f"{where}: the table store {path} needs the argument {name!r}")


def _expand(value: Any, variables: dict[str, str] | str, where: str = "the config") -> Any:
    """Substitute `{$ENV_VAR}`, then `url_attrs_file` values (in the `url` beside it), then
    `{instance_id}`, `{username}` and `{name}` in every string inside `value`.

    `variables` may be just the instance id (the older call)."""
    if isinstance(variables, str):
        variables = {"instance_id": variables}
    value = _expand_env(value, where)
    if isinstance(value, dict) and isinstance(value.get("args"), dict):
        args = value["args"]
        attrs_file = args.pop("url_attrs_file", None)
        if attrs_file is not None and isinstance(args.get("url"), str):
            args["url"] = _substitute(args["url"], _read_url_attrs(attrs_file, where))
    return _substitute_all(value, variables)


def _expand_env(value: Any, where: str) -> Any:
    if isinstance(value, str):

        def env(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(
                    f"{where}: environment variable {name} is not set (used as {{${name}}}); "
                    "set it or change the config"
                )
            return os.environ[name]

        return _ENV_PATTERN.sub(env, value)
    if isinstance(value, dict):
        return {k: _expand_env(v, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, where) for v in value]
    return value


def _substitute(text: str, variables: dict[str, Any]) -> str:
    for name, replacement in variables.items():
        text = text.replace("{" + str(name) + "}", str(replacement))
    return text


def _substitute_all(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _substitute(value, variables)
    if isinstance(value, dict):
        return {k: _substitute_all(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute_all(v, variables) for v in value]
    return value


def _read_url_attrs(path: Any, where: str) -> dict[str, Any]:
    """pipedag's `url_attrs_file`: a YAML mapping (username, password, host, port, ...)
    whose values fill the `{...}` placeholders of the `url` beside it."""
    import yaml

    try:
        attrs = yaml.safe_load(Path(str(path)).expanduser().read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{where}: cannot read url_attrs_file {path}: {error.strerror}") from None
    except yaml.YAMLError:
        raise ConfigError(f"{where}: url_attrs_file {path} is not valid YAML") from None
    if not isinstance(attrs, dict):
        raise ConfigError(f"{where}: url_attrs_file {path} must be a mapping of url parts")
    return attrs
