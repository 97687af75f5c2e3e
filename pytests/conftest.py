"""Shared pytest set-up for the whole repo: make the repo root importable.

Keep this file small; e2e fixtures live in pytests/e2e/conftest.py (its `fake`/`fake_server`
shadow the ones below for the e2e tests).
"""

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture(scope="module")
def fake_server():
    """A fake OpenRouter per test module (e2e/conftest.py has its own, per session)."""
    from fake_openrouter.client import FakeOpenRouter

    with FakeOpenRouter() as server:
        yield server


@pytest.fixture
def fake(fake_server):
    """The module's fake OpenRouter with plans, recorded requests and stats cleared."""
    fake_server.clear()
    return fake_server
