"""Session fixtures for the end-to-end tests: fake OpenRouter + a real Open WebUI 0.12.4.

Fixtures (all servers are started once per session and stopped at the end):

- ``owui_server``     the running ``OpenWebUI`` (fresh temp DATA_DIR; ``.restart()`` keeps it)
- ``admin_api``       ``Api`` signed in as the admin (the first account)
- ``fake_server``     the fake OpenRouter (``fake_openrouter/client.py:FakeOpenRouter``), with the
                      offline demo's models listed (``--demo``)
- ``fake``            the same, with its queue and request log cleared before the test
- ``openrouter``      the product's Function installed as ``openrouter``, active, with
                      ``API_KEY=sk-or-test-key`` and ``BASE_URL`` = the fake; a dict with
                      ``content`` (the shim) and ``models`` (``GET /api/models``)
- ``restart_owui``    callable: restart Open WebUI on the same DATA_DIR, refresh models

Every test in this folder gets the ``e2e`` marker. Environment knobs:
``OWUI_VENV`` (the Open WebUI venv), ``E2E_KEEP_DATA=1`` (keep DATA_DIR and logs).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

_MISSING = [m for m in ("httpx", "socketio", "aiohttp") if importlib.util.find_spec(m) is None]
if _MISSING:
    # Not the Open WebUI venv: don't even import the e2e modules.
    collect_ignore_glob = ["test_*.py"]


def pytest_report_header(config):
    if _MISSING:
        return (
            f"e2e: SKIPPED, this Python ({sys.executable}) lacks {', '.join(_MISSING)}; "
            "run with the Open WebUI venv's Python (scripts/test.sh)"
        )
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so a fixture can tell that its test failed
    (the browser suite saves a screenshot then)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


if not _MISSING:
    from owui import (
        DEFAULT_VENV,
        REPO_ROOT,
        TEST_ADMIN,
        Api,
        OpenWebUI,
        generate_shim,
        install_openrouter_function,
    )

    def _load_fake_client():
        path = REPO_ROOT / "fake_openrouter" / "client.py"
        if not path.exists():
            pytest.fail(f"{path} is missing: the e2e tests need the fake OpenRouter", pytrace=False)
        spec = importlib.util.spec_from_file_location("fake_openrouter_client", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module.FakeOpenRouter

    @pytest.fixture(scope="session")
    def e2e_dir(tmp_path_factory):
        d = tmp_path_factory.mktemp("e2e")
        yield d
        if os.environ.get("E2E_KEEP_DATA") == "1":
            print(f"\n[e2e] kept {d}")

    @pytest.fixture(scope="session")
    def owui_server(e2e_dir):
        venv = Path(os.environ.get("OWUI_VENV") or DEFAULT_VENV)
        if not (venv / "bin" / "open-webui").exists():
            pytest.fail(
                f"no Open WebUI in {venv}: run scripts/provision_openwebui.sh (or set OWUI_VENV)",
                pytrace=False,
            )
        server = OpenWebUI(e2e_dir / "data", venv=venv, log_path=e2e_dir / "open-webui.log")
        try:
            server.start()
        except Exception as exc:
            server.stop()
            pytest.fail(f"Open WebUI did not start: {exc}", pytrace=False)
        try:
            yield server
        finally:
            server.stop()
            if os.environ.get("E2E_KEEP_DATA") != "1":
                shutil.rmtree(server.data_dir, ignore_errors=True)

    @pytest.fixture(scope="session")
    def admin_api(owui_server) -> Api:
        api = Api(owui_server.base_url)
        api.signup_or_signin(**TEST_ADMIN)
        return api

    @pytest.fixture(scope="session")
    def fake_server():
        FakeOpenRouter = _load_fake_client()
        # --demo: the offline demo's models ("Demo: reasoning (offline)", …) are listed too.
        with FakeOpenRouter(args=["--demo"]) as fake:
            yield fake

    @pytest.fixture
    def fake(fake_server):
        fake_server.clear()
        yield fake_server

    @pytest.fixture(scope="session")
    def openrouter(owui_server, admin_api, fake_server, e2e_dir) -> dict:
        try:
            content = generate_shim(owui_server.python, e2e_dir / "openrouter_shim.py")
        except Exception as exc:
            pytest.fail(
                f"could not generate the Function file with {owui_server.python} -m openrouter_pipe shim "
                f"(is the wheel installed? scripts/install_wheel.sh): {exc}",
                pytrace=False,
            )
        models = install_openrouter_function(admin_api, content, fake_server.base_url)
        return {"content": content, "models": models}

    @pytest.fixture
    def restart_owui(owui_server, admin_api):
        def restart():
            owui_server.restart()
            admin_api.models()  # refresh the server's model table, as the browser would
            return owui_server

        return restart
