"""End to end: two Open WebUI 0.12.4 nodes, each with two uvicorn workers, on one real
PostgreSQL database (Open WebUI's own ``DATABASE_URL``; nothing configured in the pipe).
Turn 1 of a reasoning chat is answered by one node, turn 2 by the other, which replays the
reasoning the first stored (the fake OpenRouter records what was sent back). Rows the
reference Python pipe wrote into that database beforehand replay the same way, with no
migration.

The chats go through ``POST /api/chat/completions`` with a chat and message id but no
socket session, so Open WebUI streams the answer back on the request itself: that path
needs no Redis across workers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from datetime import datetime, timezone

import httpx
import pytest
from owui import FUNCTION_ID, TEST_ADMIN, Api, OpenWebUI, install_openrouter_function, parse_sse, sse_content

import pg

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not pg.available(), reason="PostgreSQL server binaries are not installed"),
]

MODEL = f"{FUNCTION_ID}.openai.o4-mini"
RESPONSES = "/api/v1/responses"
KEY = "two-node artifact key 0987"
TABLE = "response_items_openrouter_" + hashlib.sha256((KEY + FUNCTION_ID).encode()).hexdigest()[:8]
MARKER = re.compile(r"\[([0-9A-HJKMNP-TV-Z]{20})\]: #")
REFERENCE_ID = "01JREFERENCEROW00001"
REFERENCE_REASONING = {
    "type": "reasoning",
    "id": "rs_reference",
    "summary": [{"type": "summary_text", "text": "From the Python pipe."}],
    "encrypted_content": "gAAAAA-written-by-the-reference-pipe",
}


def reference_payload(item: dict) -> str:
    """The reference pipe's encrypted payload (Fernet over a 0x00 header + compact JSON)."""
    fernet = pytest.importorskip("cryptography.fernet")
    f = fernet.Fernet(base64.urlsafe_b64encode(hashlib.sha256(KEY.encode()).digest()))
    body = json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()
    return json.dumps({"ciphertext": f.encrypt(b"\x00" + body).decode(), "enc_v": 1})


@pytest.fixture(scope="module")
def database():
    with pg.postgres_server() as url:
        yield url


@pytest.fixture(scope="module")
def nodes(database, e2e_dir, fake_server):
    """Node A and node B: separate processes, ports and data directories, one database."""
    env = {"DATABASE_URL": database, "UVICORN_WORKERS": "2"}
    started = []
    try:
        for name in ("a", "b"):
            node = OpenWebUI(e2e_dir / f"pg-node-{name}", env=env, log_path=e2e_dir / f"pg-node-{name}.log")
            node.start(timeout=240)  # one at a time: the first runs Open WebUI's migrations
            started.append(node)
        api_a = Api(started[0].base_url)
        api_a.signup_or_signin(**TEST_ADMIN)
        shim = (e2e_dir / "openrouter_shim.py")
        if not shim.exists():
            from owui import generate_shim

            generate_shim(started[0].python, shim)
        install_openrouter_function(
            api_a, shim.read_text(), fake_server.base_url, extra_valves={"ARTIFACT_ENCRYPTION_KEY": KEY}
        )
        api_b = Api(started[1].base_url)
        api_b.signin(TEST_ADMIN["email"], TEST_ADMIN["password"])
        api_b.models()
        yield api_a, api_b
    finally:
        for node in started:
            node.stop()


def ask(api: Api, chat_id: str, message_id: str, messages: list[dict]) -> str:
    body = {"model": MODEL, "stream": True, "messages": messages, "chat_id": chat_id, "id": message_id}
    with httpx.Client(base_url=api.base_url, timeout=120) as client:
        r = client.post("/api/chat/completions", json=body, headers=api.headers())
    assert r.status_code == 200, r.text[:2000]
    return sse_content(parse_sse(r.text))


def sent_reasoning(fake) -> list[dict]:
    return [i for i in fake.requests(RESPONSES)[-1]["body"]["input"] if i.get("type") == "reasoning"]


def test_turn_two_on_the_other_node_replays_the_reasoning_of_turn_one(nodes, fake, database):
    api_a, api_b = nodes
    chat_id = f"temporary:{uuid.uuid4()}"
    first = [{"role": "user", "content": "Was 1995 thirty years ago?"}]
    fake.enqueue({"fixture": "stream_reasoning.sse"})
    answer = ask(api_a, chat_id, str(uuid.uuid4()), first)
    ids = MARKER.findall(answer)
    assert len(ids) == 1 and "Yes. In 2025" in answer, answer
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(database) as conn:
        stored = conn.execute(
            f'SELECT id, item_type, is_encrypted, payload::text FROM "{TABLE}" WHERE chat_id = %s', (chat_id,)
        ).fetchall()
    assert [(r[0], r[1], r[2]) for r in stored] == [(ids[0], "reasoning", True)], stored
    assert "ciphertext" in json.loads(stored[0][3]), "encrypted at rest in Open WebUI's database"

    fake.clear_requests()
    second = first + [{"role": "assistant", "content": answer}, {"role": "user", "content": "And 2000?"}]
    ask(api_b, chat_id, str(uuid.uuid4()), second)
    replayed = sent_reasoning(fake)
    assert len(replayed) == 1 and replayed[0]["encrypted_content"].startswith("gAAAAABpVhN0"), replayed


def test_reference_rows_in_the_database_replay_on_any_node_with_no_migration(nodes, fake, database):
    api_a, api_b = nodes
    psycopg = pytest.importorskip("psycopg")
    chat_id = str(uuid.uuid4())
    created = datetime.now(timezone.utc).replace(tzinfo=None)
    with psycopg.connect(database, autocommit=True) as conn:
        # The reference's own table (SQLAlchemy's layout on PostgreSQL), unless already there.
        conn.execute(
            f'CREATE TABLE IF NOT EXISTS "{TABLE}" (id VARCHAR(20) PRIMARY KEY, chat_id VARCHAR(64) NOT NULL,'
            " message_id VARCHAR(64) NOT NULL, model_id VARCHAR(128), item_type VARCHAR(64) NOT NULL,"
            " payload JSON NOT NULL, is_encrypted BOOLEAN NOT NULL, created_at TIMESTAMP NOT NULL)"
        )
        conn.execute(
            f'INSERT INTO "{TABLE}" (id, chat_id, message_id, model_id, item_type, payload, is_encrypted, created_at)'
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (REFERENCE_ID, chat_id, "msg-ref", MODEL, "reasoning", reference_payload(REFERENCE_REASONING), True,
             created),
        )
    history = [
        {"role": "user", "content": "Question from the Python pipe days"},
        {"role": "assistant", "content": f"Old answer.\n\n[{REFERENCE_ID}]: #\n"},
        {"role": "user", "content": "Follow-up"},
    ]
    for api in (api_a, api_b):
        fake.clear_requests()
        ask(api, chat_id, str(uuid.uuid4()), history)
        replayed = sent_reasoning(fake)
        assert [r["encrypted_content"] for r in replayed] == [REFERENCE_REASONING["encrypted_content"]], replayed
