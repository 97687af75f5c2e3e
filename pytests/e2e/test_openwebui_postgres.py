"""End to end: two Open WebUI 0.12.4 nodes, each with two uvicorn workers, on one real
PostgreSQL database (Open WebUI's own ``DATABASE_URL``; nothing configured in the pipe) and
one real Redis (``REDIS_URL``, ``WEBSOCKET_MANAGER=redis``), so stored items go through the
Redis write-behind queue and cache into PostgreSQL.
Turn 1 of a reasoning chat is answered by one node, turn 2 by the other, which replays the
reasoning the first stored (the fake OpenRouter records what was sent back). Rows the
reference Python pipe wrote into that database beforehand replay the same way, with no
migration.

Each turn is sent as the browser sends it (``POST /api/chat/completions`` with the user
message, the chat and parent ids) but without a socket session: Open WebUI answers in the
background and saves the reply into the chat, which the test reads back from either node.
That path needs no Redis across workers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from datetime import datetime, timezone

import pytest
from owui import FUNCTION_ID, TEST_ADMIN, Api, OpenWebUI, install_openrouter_function, saved_message, wait_until

import pg
import redis_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not pg.available(), reason="PostgreSQL server binaries are not installed"),
    pytest.mark.skipif(not redis_server.available(), reason="redis-server is not installed"),
]

MODEL = f"{FUNCTION_ID}.openai.o4-mini"
RESPONSES = "/api/v1/responses"
KEY = "two-node artifact key 0987"
TABLE = "response_items_openrouter_" + hashlib.sha256((KEY + FUNCTION_ID).encode()).hexdigest()[:8]
MARKER = re.compile(r"\[([0-9A-HJKMNP-TV-Z]{20})\]: #")
REFERENCE_ID = "01JREFERENCE00000001"  # Crockford: no I, L, O or U
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
def redis_url():
    with redis_server.redis_server() as url:
        yield url


@pytest.fixture(scope="module")
def nodes(database, redis_url, e2e_dir, fake_server):
    """Node A and node B: separate processes, ports and data directories, one database and
    one Redis."""
    # The driver-suffixed form: the venv has psycopg 3, not psycopg2 (`postgresql://` means that).
    owui_url = database.replace("postgresql://", "postgresql+psycopg://", 1)
    env = {
        "DATABASE_URL": owui_url,
        "UVICORN_WORKERS": "2",
        "REDIS_URL": redis_url,
        "WEBSOCKET_MANAGER": "redis",
        "WEBSOCKET_REDIS_URL": redis_url,
    }
    # On a fresh database, Open WebUI 0.12.4's two workers race to seed its `config` table:
    # the loser hits a unique-key violation and the parent stops (seen in CI). One worker
    # sets the database up first, as an admin's first start would.
    init = OpenWebUI(e2e_dir / "pg-init", env={"DATABASE_URL": owui_url}, log_path=e2e_dir / "pg-init.log")
    init.start(timeout=240)
    init.stop()
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


def new_chat(api: Api, messages: dict | None = None, current: str | None = None) -> str:
    """A saved chat (optionally with earlier messages), as the browser creates it."""
    messages = messages or {}
    chat = api.post("/api/v1/chats/new", {"chat": {
        "title": "Two nodes", "models": [MODEL],
        "history": {"currentId": current, "messages": messages},
        "messages": list(messages.values()),
    }})
    return chat["id"]


def send_turn(api: Api, text: str, chat_id: str, parent_id: str | None = None) -> tuple[str, str]:
    """One user turn the way the browser sends it, minus the socket: Open WebUI answers in
    the background and saves the reply into the chat (in the shared database). Returns the
    chat id and the assistant message id."""
    user_id, assistant_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = {
        "model": MODEL,
        "stream": True,
        "id": assistant_id,
        "parent_id": parent_id,
        "user_message": {
            "id": user_id,
            "parentId": parent_id,
            "childrenIds": [assistant_id],
            "role": "user",
            "content": text,
            "timestamp": int(time.time()),
            "models": [MODEL],
        },
        "background_tasks": {},
        "params": {},
        "features": {},
    }
    body["chat_id"] = chat_id
    api.post("/api/chat/completions", body)
    return chat_id, assistant_id


def sent_reasoning(fake) -> list[dict]:
    return [i for i in fake.requests(RESPONSES)[-1]["body"]["input"] if i.get("type") == "reasoning"]


def test_turn_two_on_the_other_node_replays_the_reasoning_of_turn_one(nodes, fake, database, redis_url):
    api_a, api_b = nodes
    fake.enqueue({"fixture": "stream_reasoning.sse"})
    chat_id, first_id = send_turn(api_a, "Was 1995 thirty years ago?", new_chat(api_a))
    answer = saved_message(api_b, chat_id, first_id)["content"]
    ids = MARKER.findall(answer)
    assert len(ids) == 1 and "Yes. In 2025" in answer, answer
    redis = pytest.importorskip("redis")
    cache = redis.Redis.from_url(redis_url, decode_responses=True)
    cached = cache.get(f"{FUNCTION_ID.lower()}:artifact:{chat_id}:{ids[0]}")
    assert cached and json.loads(cached)["item_type"] == "reasoning", "queued and cached in Redis"
    psycopg = pytest.importorskip("psycopg")

    def stored_rows():
        with psycopg.connect(database) as conn:
            return conn.execute(
                f'SELECT id, item_type, is_encrypted, payload::text FROM "{TABLE}" WHERE chat_id = %s', (chat_id,)
            ).fetchall()

    stored = wait_until(stored_rows, 30, what="the row flushed from Redis into PostgreSQL")
    assert [(r[0], r[1], r[2]) for r in stored] == [(ids[0], "reasoning", True)], stored
    assert cache.llen(f"{FUNCTION_ID.lower()}:pending") == 0, "nothing left queued"
    assert "ciphertext" in json.loads(stored[0][3]), "encrypted at rest in Open WebUI's database"

    fake.clear_requests()
    _, second_id = send_turn(api_b, "And 2000?", chat_id=chat_id, parent_id=first_id)
    saved_message(api_a, chat_id, second_id)
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
    user_id, old_id = str(uuid.uuid4()), "msg-ref"
    now = int(time.time())
    old = {
        user_id: {"id": user_id, "parentId": None, "childrenIds": [old_id], "role": "user",
                  "content": "Question from the Python pipe days", "timestamp": now, "models": [MODEL]},
        # The reference wrote its markers after the text.
        old_id: {"id": old_id, "parentId": user_id, "childrenIds": [], "role": "assistant",
                 "content": f"Old answer.\n\n[{REFERENCE_ID}]: #\n", "model": MODEL, "done": True,
                 "timestamp": now},
    }
    chat_id = new_chat(api_a, old, old_id)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f'UPDATE "{TABLE}" SET chat_id = %s WHERE id = %s', (chat_id, REFERENCE_ID))
    parent = old_id
    for api in (api_a, api_b):
        fake.clear_requests()
        _, parent = send_turn(api, "Follow-up", chat_id=chat_id, parent_id=parent)
        saved_message(api, chat_id, parent)
        replayed = [r for r in sent_reasoning(fake) if r.get("id") == REFERENCE_REASONING["id"]]
        assert [r["encrypted_content"] for r in replayed] == [REFERENCE_REASONING["encrypted_content"]], (
            fake.requests(RESPONSES)[-1]["body"]["input"]
        )
