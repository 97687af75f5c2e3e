"""The committed generated files must match what the package generates now."""

from pathlib import Path

import openrouter_pipe
from openrouter_pipe import docs, shim

ROOT = Path(__file__).resolve().parents[1]


def test_committed_function_file_is_current():
    committed = (ROOT / "function" / "openrouter.py").read_text(encoding="utf-8")
    assert committed == shim.render(), "function/openrouter.py is stale: run scripts/regenerate.sh"


def test_committed_valve_docs_are_current():
    committed = (ROOT / "docs" / "valves.md").read_text(encoding="utf-8")
    assert committed == docs.render(), "docs/valves.md is stale: run scripts/regenerate.sh"


def test_function_file_is_small_and_declares_no_requirements():
    text = shim.render()
    assert len(text.splitlines()) < 100
    assert "requirements:" not in text
    assert f"version: {openrouter_pipe.__version__}" in text


def test_docs_list_every_valve():
    text = docs.render()
    for spec in openrouter_pipe.valves.valve_specs():
        assert f"| `{spec['name']}` |" in text


def test_typed_stub_matches_the_built_module():
    """``_native.pyi`` is the contract Python code is checked against: every function,
    class and method the Rust module exports is in it, with nothing extra (mypy's
    stubtest against the built extension)."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "openrouter_pipe._native"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
