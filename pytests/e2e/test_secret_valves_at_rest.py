"""End to end: secret valves saved through Open WebUI's API never reach its database in
plain text, and the pipe still talks to OpenRouter with the plain key.

The test reads ``webui.db`` directly (the product never does) to see what an attacker
with a copy of the database would see.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3

import pytest
from owui import FUNCTION_ID, TEST_SECRET_KEY

pytestmark = pytest.mark.e2e

MODEL = f"{FUNCTION_ID}.openai.gpt-4o-mini"
PLAIN = {
    "API_KEY": "sk-or-at-rest-7f3c9a1e5b2d4680",
    "ARTIFACT_ENCRYPTION_KEY": "artifact-at-rest-passphrase-2468",
    "SESSION_LOG_ZIP_PASSWORD": "zip-at-rest-password-1357",
}


def stored_valves(data_dir) -> dict:
    with sqlite3.connect(data_dir / "webui.db") as db:
        (raw,) = db.execute("SELECT valves FROM function WHERE id = ?", (FUNCTION_ID,)).fetchone()
    return json.loads(raw) if isinstance(raw, str) else raw


def database_bytes(data_dir) -> bytes:
    """The database file and its write-ahead log, as they sit on disk."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.glob("webui.db*")) if p.is_file())


def unseal(stored: str) -> str:
    from cryptography.fernet import Fernet

    key = base64.urlsafe_b64encode(hashlib.sha256(TEST_SECRET_KEY.encode()).digest())
    return Fernet(key).decrypt(stored.removeprefix("encrypted:").encode()).decode()


def authorization_of_a_chat(admin_api, fake, text: str) -> str:
    r = admin_api.chat(MODEL, text, stream=False)
    assert r.status_code == 200, r.text[:2000]
    assert f"Echo: {text}" in r.json()["choices"][0]["message"]["content"]
    headers = fake.requests("/api/v1/responses")[-1]["headers"]
    return next(v for k, v in headers.items() if k.lower() == "authorization")


def test_saved_secret_valves_are_encrypted_in_webui_db_and_chats_still_work(
    admin_api, openrouter, owui_server, fake
):
    before = admin_api.valves(FUNCTION_ID)
    try:
        admin_api.set_valves(FUNCTION_ID, {**before, **PLAIN})

        stored = stored_valves(owui_server.data_dir)
        for name, plain in PLAIN.items():
            assert stored[name].startswith("encrypted:"), f"{name} is stored as {stored[name][:12]}…"
            assert unseal(stored[name]) == plain, f"{name} is not sealed with WEBUI_SECRET_KEY"
        on_disk = database_bytes(owui_server.data_dir)
        for name, plain in PLAIN.items():
            assert plain.encode() not in on_disk, f"{name} is in webui.db in plain text"

        assert authorization_of_a_chat(admin_api, fake, "sealed key") == f"Bearer {PLAIN['API_KEY']}"

        # The admin form shows the stored values back and saves them again unchanged.
        shown = admin_api.valves(FUNCTION_ID)
        admin_api.set_valves(FUNCTION_ID, shown)
        assert stored_valves(owui_server.data_dir) == stored, "re-saving the form changed the stored secrets"
        assert authorization_of_a_chat(admin_api, fake, "re-saved key") == f"Bearer {PLAIN['API_KEY']}"
    finally:
        admin_api.set_valves(FUNCTION_ID, before)
