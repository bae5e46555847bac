"""The shape of a config file: which sections an instance is merged from, and in what order.

tabledag reads pipedag's layout as it is, so that a `pipedag.yaml` renamed to `tabledag.yaml`
(class paths `pydiverse.pipedag.<...>.<Name>` written `tabledag.<Name>`) configures the same
instances:

- `instances:` maps instance names to settings; `__any__` is the base of every instance;
- `flows:` maps flow names to settings merged over the instance, each with its own
  `instances:` (`flows.__any__` applies to every flow);
- `technical_setups:` are named settings an instance takes with `technical_setup: <name>`;
  `table_store_connections:` / `blob_store_connections:` are named store settings taken with
  `table_store: {table_store_connection: <name>}` / `blob_store: {blob_store_connection: ...}`.

An instance is the deep merge (mappings key by key, other values replace) of, in order:
`instances.__any__`, `instances.<instance>`, `flows.__any__`, `flows.__any__.instances.<i>`,
`flows.<flow>`, `flows.<flow>.instances.<i>`, each after its references were expanded.

Keys tabledag accepts but does not act on, by design, are in `IGNORED`; naming one warns once
(`IgnoredConfigWarning`). Every other unknown key is a `ConfigError` naming it.
"""

from __future__ import annotations

import copy
import difflib
import warnings
from typing import Any

from ..errors import ConfigError

TOP_LEVEL_KEYS = (
    "instances",
    "flows",
    "name",
    "technical_setups",
    "table_store_connections",
    "blob_store_connections",
    "strict_instance_lookup",
)

IGNORED: dict[str, str] = {
    "network_interface": "tabledag runs no context server: the runner keeps the run's state",
    "auto_blob": "return `Blob(obj, name)` to store an object as a blob",
    "disable_kroki": "graphs are drawn locally (`flow.visualize()`), never sent to a service",
    "kroki_url": "graphs are drawn locally (`flow.visualize()`), never sent to a service",
    "strict_result_get_locking": "a Result reads the immutable tables of its own run",
    "stage_commit_technique": "each dialect commits a stage in its one atomic way",
    "lock_manager": "each store takes the lock its database offers (advisory locks, app "
    "locks, a file lock for DuckDB files)",
    "table_store.hook_args.sql.cleanup_annotation_action_on_success": "a query filtered "
    "by its colspec annotation keeps its unfiltered rows as `_raw_<name>`, as pipedag's default",
    "table_store.hook_args.sql.fault_tolerant_annotation_action": "use `validation: warn`",
    "table_store.hook_args.polars.fault_tolerant_annotation_action": "use `validation: warn`",
    "table_store.hook_args.sql.disable_materialize_annotation_action": "use `validation: off`",
    "table_store.hook_args.polars.disable_materialize_annotation_action": "use `validation: off`",
    "table_store.hook_args.sql.disable_retrieve_annotation_action": "use `validation: off`",
    "table_store.hook_args.polars.disable_retrieve_annotation_action": "use `validation: off`",
    "table_store.hook_args.pandas": "pandas tables arrive with the types Arrow gives them",
    "table_store.args.print_materialize": "use `print_sql: true` to see what runs",
}
"""Key (dotted below the instance) -> why tabledag needs no such setting."""


class IgnoredConfigWarning(UserWarning):
    """A config names pipedag settings that tabledag accepts and does not need."""


def warn_ignored(settings: dict[str, Any], where: str) -> None:
    """One warning listing the `IGNORED` keys `settings` names (Python shows it once)."""
    named = [key for key in IGNORED if _has(settings, key.split("."))]
    if named:
        reasons = "; ".join(f"{key}: {IGNORED[key]}" for key in named)
        warnings.warn(
            f"{where}: tabledag ignores these pipedag settings ({reasons})",
            IgnoredConfigWarning,
            stacklevel=4,
        )


def strip_ignored(settings: dict[str, Any]) -> dict[str, Any]:
    """`settings` without the `IGNORED` keys (a copy)."""
    stripped = copy.deepcopy(settings)
    for key in IGNORED:
        *parents, last = key.split(".")
        node: Any = stripped
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return stripped


def merged_instance(
    raw: dict[str, Any], instance: str | None, flow: str | None, where: str
) -> dict[str, Any]:
    """The settings of `instance` in `flow`, merged as the module docstring says."""
    instances = raw.get("instances") or {}
    flows = raw.get("flows") or {}
    candidates: list[tuple[bool, Any]] = [(False, instances.get("__any__"))]
    if instance is not None:
        candidates.append((True, instances.get(instance)))
    for name in ("__any__", flow):
        if name is None:
            continue
        section = flows.get(name)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise ConfigError(f"{where}: flow {name!r} must be a mapping")
        candidates.append((False, {k: v for k, v in section.items() if k != "instances"}))
        if instance is not None:
            candidates.append((True, (section.get("instances") or {}).get(instance)))
    strict = instance is not None and raw.get("strict_instance_lookup", True)
    if strict and not any(found and part is not None for found, part in candidates):
        names = _instance_names(raw)
        close = difflib.get_close_matches(str(instance), names, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"{where} has no instance {instance!r}.{hint} It has: {', '.join(names) or 'none'}"
        )
    merged: dict[str, Any] = {}
    for _, part in candidates:
        if part is not None:
            if not isinstance(part, dict):
                raise ConfigError(f"{where}: instance settings must be mappings, got {part!r}")
            merged = deep_merge(merged, expand_references(raw, part, where))
    return merged


def expand_references(raw: dict[str, Any], settings: dict[str, Any], where: str) -> dict[str, Any]:
    """`settings` with `technical_setup` and the `*_store_connection` names replaced by the
    sections they name, merged over the naming settings (as pipedag merges them)."""
    expanded = copy.deepcopy(settings)
    references = (
        ((), "technical_setup", "technical_setups"),
        (("table_store",), "table_store_connection", "table_store_connections"),
        (("blob_store",), "blob_store_connection", "blob_store_connections"),
    )
    for path, key, source in references:
        node: Any = expanded
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or key not in node:
            continue
        name = node.pop(key)
        sections = raw.get(source) or {}
        if name not in sections:
            known = ", ".join(sections) or "none"
            raise ConfigError(
                f"{where}: `{key}: {name}` names no entry of `{source}` (it has: {known})"
            )
        merged = deep_merge(node, sections[name] or {})
        node.clear()
        node.update(merged)
    return expanded


def _instance_names(raw: dict[str, Any]) -> list[str]:
    names = dict.fromkeys(raw.get("instances") or {})
    for section in (raw.get("flows") or {}).values():
        names.update(dict.fromkeys((section or {}).get("instances") or {}))
    return list(names)


def _has(settings: dict[str, Any], path: list[str]) -> bool:
    node: Any = settings
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
