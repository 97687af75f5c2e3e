"""In a real Open WebUI 0.12.4 (#14): with session-log archives on, a chat sent the way the
browser sends it leaves an encrypted archive holding that chat's upstream request (redacted)
and response events; the error id shown on a 502 card finds its line in Open WebUI's log."""

from __future__ import annotations

import json
import re
import time

import pytest
from owui import FUNCTION_ID, TEST_API_KEY, saved_message, ui_path_chat

pyzipper = pytest.importorskip("pyzipper", reason="pyzipper is installed by scripts/provision_openwebui.sh")

pytestmark = pytest.mark.e2e

MODEL = f"{FUNCTION_ID}.openai.gpt-4o-mini"
PASSWORD = "e2e-zip-Password-77"


def wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        found = predicate()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def archives_on(admin_api, openrouter, owui_server, fake_server, tmp_path):
    folder = tmp_path / "session_logs"
    admin_api.set_valves(
        FUNCTION_ID,
        {
            "API_KEY": TEST_API_KEY,
            "BASE_URL": fake_server.base_url,
            "SESSION_LOG_STORE_ENABLED": True,
            "SESSION_LOG_ZIP_PASSWORD": PASSWORD,
            "SESSION_LOG_DIR": str(folder),
            "SESSION_LOG_FORMAT": "both",
        },
    )
    try:
        yield folder
    finally:
        admin_api.set_valves(FUNCTION_ID, {"API_KEY": TEST_API_KEY, "BASE_URL": fake_server.base_url})


def test_a_ui_chat_leaves_an_archive_with_its_upstream_request_and_events(admin_api, archives_on, fake):
    text = "Archive this e2e chat please"
    turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, text)
    saved_message(admin_api, turn.chat_id, turn.message_id)
    [path] = wait_for(lambda: list(archives_on.rglob(f"{turn.message_id}.zip")), 30, "the archive")
    assert path.parent.name == turn.chat_id
    raw = path.read_bytes()
    assert TEST_API_KEY.encode() not in raw and PASSWORD.encode() not in raw
    with pyzipper.AESZipFile(path) as zf:
        zf.setpassword(PASSWORD.encode())
        files = {name: zf.read(name).decode() for name in zf.namelist()}
    assert sorted(files) == ["logs.jsonl", "logs.txt", "meta.json"]
    meta = json.loads(files["meta.json"])
    assert meta["ids"]["chat_id"] == turn.chat_id and meta["ids"]["message_id"] == turn.message_id
    assert meta["ids"]["session_id"] and meta["ids"]["user_id"] == path.parent.parent.name
    rows = [json.loads(line) for line in files["logs.jsonl"].splitlines()]
    payload = [r["message"] for r in rows if r["event_type"] == "openrouter.request.payload"]
    assert len(payload) == 1 and text in payload[0]
    headers = next(r["message"] for r in rows if r["event_type"] == "openrouter.request.headers")
    assert "Bearer [redacted]" in headers
    events = [r["message"] for r in rows if r["event_type"] == "openrouter.sse.event"]
    assert any("response.created" in e for e in events) and any("response.completed" in e for e in events)
    for name, body in files.items():
        assert TEST_API_KEY not in body and PASSWORD not in body, name


def test_the_error_id_on_a_502_card_is_in_open_webuis_log(admin_api, openrouter, owui_server, fake):
    turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, "[[fake error=502]] are you up?")
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    err = msg.get("error")
    shown = f"{msg.get('content', '')}\n{err.get('content', '') if isinstance(err, dict) else err or ''}"
    match = re.search(r"\b([0-9a-f]{16})\b", shown)
    assert match, f"no error id on the card: {shown!r}"
    error_id = match.group(1)

    def logged():
        lines = [line for line in owui_server.log_tail(4000).splitlines() if error_id in line]
        return lines if any(f"chat={turn.chat_id}" in line for line in lines) else None

    lines = wait_for(logged, 30, f"error id {error_id} in Open WebUI's log")
    assert any(f"error={error_id}]" in line and f"message={turn.message_id}" in line for line in lines), lines
