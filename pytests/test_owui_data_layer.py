"""The pipe's writes into Open WebUI (the OpenRouter Search filter, model entries, native
function calling) against Open WebUI 0.12.4's real data layer and a fresh database.

The writes run in a child process (``owui_data_scenarios.py``) with a temporary
``DATA_DIR``; these tests check what an admin would then see in Open WebUI. Skipped where
Open WebUI is not installed (run with the Open WebUI venv's Python, as scripts/test.sh does).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PACKAGE_DIR = HERE.parent / "python"

def _package_dir() -> str | None:
    built = any((PACKAGE_DIR / "openrouter_pipe").glob("_native*.so"))
    return str(PACKAGE_DIR) if built else None


pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("open_webui") is None, reason="Open WebUI is not installed in this Python"
)


@pytest.fixture(scope="module")
def seen(tmp_path_factory) -> dict:
    data_dir = tmp_path_factory.mktemp("owui-data")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")},
        "DATA_DIR": str(data_dir),
        "WEBUI_SECRET_KEY": "data-layer-test-secret",
        "OFFLINE_MODE": "true",
        "HF_HUB_OFFLINE": "1",
        "ENABLE_VERSION_UPDATE_CHECK": "false",
        "RAG_EMBEDDING_MODEL_AUTO_UPDATE": "false",
        "GLOBAL_LOG_LEVEL": "WARNING",
        # As under `open-webui serve`: the package's own static folder (config.py checks it).
        "FROM_INIT_PY": "true",
        # The package under test: the repo's copy when it holds a built extension, else the
        # installed wheel (as for every other test).
        "PYTHONPATH": os.pathsep.join(p for p in (_package_dir(), os.environ.get("PYTHONPATH")) if p),
    }
    proc = subprocess.run(
        [sys.executable, str(HERE / "owui_data_scenarios.py")],
        cwd=data_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"scenarios failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_filter_is_installed_active_and_beside_a_function_holding_its_id(seen):
    installed = seen["installed"]
    assert installed["id"] == "openrouter_search_1"
    assert installed["type"] == "filter" and installed["name"] == "OpenRouter Search"
    assert installed["is_active"] is True and installed["is_global"] is False
    assert installed["same_source"] and installed["toggle"] is True
    assert seen["others_untouched"] == "class Filter: pass"


def test_the_installed_filter_is_reused_and_updated_but_stays_switched_off(seen):
    assert seen["second_run_id"] == "openrouter_search_1"
    assert seen["after_update_id"] == "openrouter_search_1"
    assert seen["after_update"] == {"same_source": True, "is_active": False}


def test_with_auto_install_off_the_copy_is_used_as_it_is(seen):
    assert seen["install_off_id"] == "openrouter_search_1"
    assert seen["install_off_kept_old"] is True


def test_web_search_models_get_the_filter_without_losing_admin_settings(seen):
    assert seen["plan_filter_id"] == "openrouter_search_1"
    assert seen["first_written"] == 1
    assert seen["searchable"] == {
        "name": "House GPT",
        "filterIds": ["house_filter", "openrouter_search_1"],
        "defaultFilterIds": ["openrouter_search_1"],
        "temperature": 0.2,
    }
    assert seen["plain_entry"] is False


def test_a_default_the_admin_switched_off_stays_off(seen):
    assert seen["second_written"] == 0
    assert seen["after_admin_change"] == {
        "filterIds": ["house_filter", "openrouter_search_1"],
        "defaultFilterIds": [],
    }


def test_a_legacy_model_is_switched_to_native_function_calling_once(seen):
    switched = seen["switched"]
    assert switched["params"]["function_calling"] == "native"
    assert switched["params"]["temperature"] == 0.7
    assert switched["description"] == "kept" and switched["name"] == "Legacy"
    notices = [e["data"] for e in seen["events"] if e["type"] == "notification"]
    assert notices == [
        {
            "type": "info",
            "content": "Enabling native function calling for model: openrouter.legacy-model. Please re-run your query.",
        }
    ]


def test_a_model_already_native_by_default_is_not_rewritten(seen):
    assert "function_calling" not in seen["default_params"]


def test_files_for_a_request_without_a_user_belong_to_one_storage_account_nobody_can_sign_in_as(seen):
    account = seen["storage_user"]
    assert account["email"] == "openrouter-pipe@system.local"
    assert account["role"] == "pending", "a low-privilege role by default"
    assert account["same_in_process"] and account["same_elsewhere"], "created once, found again after a restart"
    assert account["accounts"] == 1
    assert not account["has_password"] and not account["can_sign_in"], "no password: no interactive sign-in"
    assert account["custom"] == {"email": "bot@example.org", "name": "Bot", "role": "admin"}
    assert any("FALLBACK_STORAGE_ROLE is 'admin'" in w for w in account["warnings"]), account["warnings"]


def test_a_file_stored_for_a_request_without_a_user_is_owned_by_the_storage_account(seen):
    stored = seen["stored_without_user"]
    assert stored["owner_is_storage_account"], stored
    assert stored["url"].startswith("/api/v1/files/") and stored["url"].endswith("/content")
    assert (stored["filename"], stored["bytes"]) == ("generated-image-1.png", 70)
