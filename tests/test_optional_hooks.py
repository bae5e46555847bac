"""The pydiverse.transform and tidypolars hooks register only where their library is installed,
and registering them imports neither library (they load when a task uses their types)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap

import pytest

HOOKS = {
    "pydiverse.transform": "PydiverseTransformTableHook",
    "tidypolars": "TidyPolarsTableHook",
}


def _registered(hide: list[str]) -> dict[str, object]:
    """In a fresh interpreter where the modules in `hide` cannot be imported: which optional
    hooks the registry holds, and which optional libraries got imported."""
    script = textwrap.dedent(
        f"""
        import json, sys
        for name in {hide!r}:
            sys.modules[name] = None  # find_spec answers None, import raises ImportError
        from tabledag.stores.base import TableStore
        from tabledag.hooks import registry
        names = [h.__name__ for h in registry.ordered_hooks(TableStore)]
        loaded = [m for m in {list(HOOKS)!r} if sys.modules.get(m) is not None]
        print(json.dumps({{"hooks": names, "loaded": loaded}}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def test_optional_hooks_register_where_installed_without_importing_them() -> None:
    seen = _registered(hide=[])
    hooks = seen["hooks"]
    assert isinstance(hooks, list)
    for module, hook in HOOKS.items():
        assert (hook in hooks) is _installed(module), (module, hooks)
    assert seen["loaded"] == []


@pytest.mark.parametrize("module", list(HOOKS))
def test_optional_hook_registers_nothing_without_its_library(module: str) -> None:
    seen = _registered(hide=[module])
    hooks = seen["hooks"]
    assert isinstance(hooks, list)
    assert HOOKS[module] not in hooks
    assert "PolarsTableHook" in hooks  # the rest of the registry is intact
