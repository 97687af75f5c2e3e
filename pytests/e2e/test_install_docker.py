"""The Docker recipe's start-up, run for real without Docker: the image's entry point
(``docker/start-with-openrouter.sh``) starts a real Open WebUI from the venv with the
admin named in ``WEBUI_ADMIN_EMAIL``/``WEBUI_ADMIN_PASSWORD``, and the preload beside it
installs the Function; then the upgrade path: a newer wheel replaces the code of the
Function an older one generated and keeps its valves and switch.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from owui import REPO_ROOT, TEST_API_KEY, Api, OpenWebUI, wait_until

ENTRYPOINT = REPO_ROOT / "docker" / "start-with-openrouter.sh"
ADMIN = {"WEBUI_ADMIN_EMAIL": "ops@example.com", "WEBUI_ADMIN_PASSWORD": "Docker-Passw0rd!", "WEBUI_ADMIN_NAME": "Ops"}


class EntrypointOpenWebUI(OpenWebUI):
    """Open WebUI started the way the image starts it: the entry point wraps the server command."""

    def command(self) -> list[str]:
        return ["bash", str(ENTRYPOINT), *super().command()]


def _clean_env() -> dict[str, str]:
    # The server must not see a key from the caller's environment: no request leaves loopback.
    return {"OPENROUTER_API_KEY": "", "OPENROUTER_PIPE_PYTHON": ""}


@pytest.fixture(scope="module")
def image_server(e2e_dir, owui_server):
    env = {**ADMIN, **_clean_env(), "OPENROUTER_PIPE_PYTHON": str(owui_server.python)}
    server = EntrypointOpenWebUI(
        e2e_dir / "docker-data", venv=owui_server.venv, env=env, log_path=e2e_dir / "docker-open-webui.log"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def image_admin(image_server) -> Api:
    api = Api(image_server.base_url)
    api.signin(ADMIN["WEBUI_ADMIN_EMAIL"], ADMIN["WEBUI_ADMIN_PASSWORD"])
    return api


@pytest.fixture(scope="module")
def current_shim(owui_server, e2e_dir) -> str:
    out = e2e_dir / "docker-shim.py"
    subprocess.run([str(owui_server.python), "-m", "openrouter_pipe", "shim", "--output", str(out)], check=True)
    return out.read_text()


def run_preload(server: OpenWebUI, *args: str, creds: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ADMIN and not k.startswith("OPENROUTER_PIPE_")}
    env.update(_clean_env())
    if creds:
        env.update(ADMIN)
    return subprocess.run(
        [str(server.python), "-m", "openrouter_pipe", "preload", "--url", server.base_url, "--wait", "60", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_image_entry_point_installs_a_working_function_on_first_start(
    image_server, image_admin, current_shim, fake_server
):
    fn = wait_until(lambda: image_admin.function("openrouter"), 90, what="the preloaded Function")
    fn = wait_until(lambda: (f := image_admin.function("openrouter")) and f.get("is_active") and f, 30, what="on")
    assert fn["content"] == current_shim, "the preloaded Function is not the one this wheel generates"
    # Only the admin's key is missing: with it, the catalog and chats work.
    image_admin.set_valves("openrouter", {"API_KEY": TEST_API_KEY, "BASE_URL": fake_server.base_url})
    ids = [m["id"] for m in image_admin.models(refresh=True)]
    assert any(i.startswith("openrouter.") for i in ids), ids
    model = next(i for i in ids if i.startswith("openrouter."))
    answer = image_admin.chat(model, "hello from the image")
    assert answer.status_code == 200, answer.text
    assert "hello from the image" in answer.text
    assert "openrouter-pipe preload: installed Function 'openrouter'" in image_server.log_tail(400)


def test_a_new_wheel_upgrades_the_function_and_keeps_valves_and_switch(image_server, image_admin, current_shim):
    wait_until(lambda: image_admin.function("openrouter"), 90, what="the preloaded Function")
    older = current_shim.replace("openrouter-pipe ", "openrouter-pipe 0.0.1-older ", 1)
    assert older != current_shim
    image_admin.post("/api/v1/functions/id/openrouter/update", {
        "id": "openrouter", "name": "OpenRouter (ours)", "content": older, "meta": {"description": "kept"},
    })
    image_admin.set_valves("openrouter", {"API_KEY": TEST_API_KEY, "MAX_CONCURRENT_REQUESTS": 7})
    valves_before = image_admin.valves("openrouter")
    if image_admin.function("openrouter")["is_active"]:
        image_admin.post("/api/v1/functions/id/openrouter/toggle")  # an admin switched it off
    result = run_preload(image_server)
    assert result.returncode == 0, result.stderr
    assert "upgraded Function 'openrouter'" in result.stderr
    fn = image_admin.function("openrouter")
    assert fn["content"] == current_shim
    assert fn["name"] == "OpenRouter (ours)" and fn["meta"]["description"] == "kept"
    assert fn["is_active"] is False, "the preload must not switch on a Function the admin switched off"
    assert image_admin.valves("openrouter") == valves_before
    assert TEST_API_KEY not in result.stderr + result.stdout
    again = run_preload(image_server)
    assert again.returncode == 0 and "already this version" in again.stderr
    image_admin.post("/api/v1/functions/id/openrouter/toggle")


def test_the_preload_leaves_a_function_it_did_not_generate_alone(image_server, image_admin):
    foreign = '"""\ntitle: Someone else\n"""\n\nclass Pipe:\n    def pipe(self, body):\n        return "theirs"\n'
    image_admin.install_function("foreign_pipe", "Foreign", foreign)
    result = run_preload(image_server, "--function-id", "foreign_pipe")
    assert result.returncode == 1
    assert "did not generate" in result.stderr
    assert image_admin.function("foreign_pipe")["content"] == foreign
    image_admin.delete_function("foreign_pipe")


def test_the_preload_names_what_to_set_when_it_has_no_admin(image_server):
    result = run_preload(image_server, creds=False)
    assert result.returncode == 1
    assert "WEBUI_ADMIN_EMAIL" in result.stderr and "OPENROUTER_PIPE_ADMIN_TOKEN" in result.stderr


def test_wrong_admin_password_is_reported_without_the_password(image_server):
    env_password = "not-the-Passw0rd"
    result = subprocess.run(
        [str(image_server.python), "-m", "openrouter_pipe", "preload", "--url", image_server.base_url, "--wait", "30"],
        env={**os.environ, **_clean_env(), "WEBUI_ADMIN_EMAIL": ADMIN["WEBUI_ADMIN_EMAIL"],
             "WEBUI_ADMIN_PASSWORD": env_password},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "signing in as ops@example.com failed" in result.stderr
    assert env_password not in result.stderr + result.stdout
