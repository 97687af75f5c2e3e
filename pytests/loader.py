"""Loads a Function file the way Open WebUI 0.12.4 does (exec into a fresh module)."""

from __future__ import annotations

import sys
import types
import uuid
from pathlib import Path

FUNCTION_FILE = Path(__file__).resolve().parents[1] / "function" / "openrouter.py"


def load_function(source: str, module_name: str) -> types.ModuleType:
    """Executes ``source`` as module ``module_name`` and returns it (registered in sys.modules)."""
    module = types.ModuleType(module_name)
    sys.modules[module_name] = module
    try:
        exec(compile(source, f"<{module_name}>", "exec"), module.__dict__)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def owui_module_name(function_id: str = "openrouter") -> str:
    """The module name Open WebUI 0.12.4 uses while executing a Function."""
    return f"function_{function_id}_{uuid.uuid4().hex}"
