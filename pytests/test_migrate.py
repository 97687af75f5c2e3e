"""Chats started with the reference Python pipe keep their reasoning after switching:
`python -m openrouter_pipe migrate` copies its rows (SQLite or PostgreSQL) into our store."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone

import pytest

import pg
from bridge_helpers import content_of, new_pipe, parse_lines
from fake_openrouter.client import FakeOpenRouter

cryptography = pytest.importorskip("cryptography.fernet", reason="needs cryptography")
lz4_frame = pytest.importorskip("lz4.frame", reason="needs lz4")

KEY = "reference artifact key 1234"
PIPE_ID = "openrouter"
TABLE = "response_items_openrouter_" + hashlib.sha256((KEY + PIPE_ID).encode()).hexdigest()[:8]
MARKER_ID = "01JAAAAAAAAAAAAAAAAA"
REASONING = {
    "type": "reasoning",
    "id": "rs_ref_1",
    "status": "completed",
    "summary": [{"type": "summary_text", "text": "Thinking about it."}],
    "encrypted_content": "gAAAAAreference-encrypted-content",
}
SCHEMA = (
    'CREATE TABLE "{t}" (id VARCHAR(20) PRIMARY KEY, chat_id VARCHAR(64) NOT NULL, message_id VARCHAR(64) NOT NULL,'
    " model_id VARCHAR(128), item_type VARCHAR(64) NOT NULL, payload {json} NOT NULL,"
    " is_encrypted BOOLEAN NOT NULL, created_at TIMESTAMP NOT NULL)"
)


def reference_payload(item: dict) -> str:
    """Exactly what the reference pipe stores for an encrypted, compressed artifact."""
    fernet = cryptography.Fernet(base64.urlsafe_b64encode(hashlib.sha256(KEY.encode()).digest()))
    body = json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()
    token = fernet.encrypt(b"\x01" + lz4_frame.compress(body)).decode()
    return json.dumps({"ciphertext": token, "enc_v": 1})


ROW = (MARKER_ID, "chat-ref", "msg-ref-1", "openrouter.openai.o4-mini", "reasoning",
       reference_payload(REASONING), True,
       # Recent: rows older than ARTIFACT_CLEANUP_DAYS are removed by the periodic cleanup.
       datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f"))


def run_migrate(source: str, target) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "openrouter_pipe", "migrate", "--source", source, "--target", str(target)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


async def assert_replayed(target, monkeypatch, **valves):
    if target is not None:
        monkeypatch.setenv("DATA_DIR", str(target.parent.parent))
    with FakeOpenRouter() as fake:
        pipe = new_pipe(fake.base_url, ARTIFACT_ENCRYPTION_KEY=KEY, **valves)
        history = [
            {"role": "user", "content": "Question from the Python pipe days"},
            # The reference wrote its markers after the text.
            {"role": "assistant", "content": f"Old answer.\n\n[{MARKER_ID}]: #\n"},
            {"role": "user", "content": "Follow-up"},
        ]
        body = {"model": "openrouter.openai.o4-mini", "stream": True, "messages": history}
        meta = {"chat_id": "chat-ref", "message_id": "msg-new"}
        result = await pipe.pipe(body, __user__={"id": "u"}, __metadata__=meta)
        assert content_of(parse_lines([line async for line in result])) == "Echo: Follow-up"
        sent = fake.requests("/api/v1/responses")[-1]["body"]["input"]
    replayed = [item for item in sent if item.get("type") == "reasoning"]
    assert replayed and replayed[0]["encrypted_content"] == REASONING["encrypted_content"], sent


async def test_sqlite_rows_are_copied_once_and_replay(tmp_path, monkeypatch):
    source = tmp_path / "webui.db"
    conn = sqlite3.connect(source)
    conn.execute(SCHEMA.format(t=TABLE, json="JSON"))
    conn.execute(f'INSERT INTO "{TABLE}" VALUES (?,?,?,?,?,?,?,?)', ROW)
    conn.execute("CREATE TABLE user (id TEXT)")
    conn.commit()
    conn.close()
    target = tmp_path / "data" / "openrouter_pipe" / "artifacts.db"
    first = run_migrate(str(source), target)
    assert f"{TABLE}: 1 row(s), 1 copied" in first
    again = run_migrate(str(source), target)
    assert "total: 1 row(s) found, 0 copied, 1 already present" in again
    await assert_replayed(target, monkeypatch)


def test_missing_source_is_reported_plainly(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "openrouter_pipe", "migrate", "--source", str(tmp_path / "nope.db"),
         "--target", str(tmp_path / "t.db")],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 1
    assert "no database file" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.skipif(not pg.available(), reason="PostgreSQL server binaries are not installed")
async def test_postgresql_rows_are_copied_and_replay(tmp_path, monkeypatch):
    psycopg = pytest.importorskip("psycopg", reason="needs psycopg")
    pytest.importorskip("sqlalchemy", reason="needs SQLAlchemy")
    with pg.postgres_server() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SCHEMA.format(t=TABLE, json="JSON"))
            conn.execute(f'INSERT INTO "{TABLE}" VALUES (%s,%s,%s,%s,%s,%s,%s,%s)', ROW)
        target = tmp_path / "data" / "openrouter_pipe" / "artifacts.db"
        assert f"{TABLE}: 1 row(s), 1 copied" in run_migrate(url, target)
        assert "0 copied" in run_migrate(url, target)
    await assert_replayed(target, monkeypatch)


def with_password(url: str, password: str) -> str:
    """The same server with a password in the URL (trust authentication ignores it)."""
    scheme, rest = url.split("://", 1)
    user, host = rest.split("@", 1)
    return f"{scheme}://{user}:{password}@{host}"


@pytest.mark.skipif(not pg.available(), reason="PostgreSQL server binaries are not installed")
async def test_our_sqlite_file_moves_into_postgresql_once_and_replays_from_there(tmp_path, monkeypatch):
    source = tmp_path / "data" / "openrouter_pipe" / "artifacts.db"
    source.parent.mkdir(parents=True)
    conn = sqlite3.connect(source)
    conn.execute(SCHEMA.format(t=TABLE, json="JSON"))
    conn.execute(f'INSERT INTO "{TABLE}" VALUES (?,?,?,?,?,?,?,?)', ROW)
    conn.commit()
    conn.close()
    with pg.postgres_server() as url:
        secret = "migr%40te-s3cret"
        target = with_password(url, secret)
        first = run_migrate(str(source), target)
        assert f"{TABLE}: 1 row(s), 1 copied" in first
        assert "migr" not in first and "***" in first, first
        assert "0 copied, 1 already present" in run_migrate(str(source), target)
        # The node reads it from PostgreSQL: no SQLite file in this data directory.
        monkeypatch.setenv("DATA_DIR", str(tmp_path / "elsewhere"))
        await assert_replayed(None, monkeypatch, ARTIFACT_DATABASE_URL=target)


@pytest.mark.skipif(not pg.available(), reason="PostgreSQL server binaries are not installed")
async def test_reference_rows_in_open_webuis_postgresql_replay_with_no_migration(tmp_path, monkeypatch):
    psycopg = pytest.importorskip("psycopg", reason="needs psycopg")
    with pg.postgres_server() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(SCHEMA.format(t=TABLE, json="JSON"))
            conn.execute(f'INSERT INTO "{TABLE}" VALUES (%s,%s,%s,%s,%s,%s,%s,%s)', ROW)
        # Open WebUI's own setting, in its driver-suffixed form; nothing else configured.
        monkeypatch.setenv("DATABASE_URL", url.replace("postgresql://", "postgresql+psycopg://"))
        monkeypatch.setenv("DATA_DIR", str(tmp_path))
        await assert_replayed(None, monkeypatch)
        assert not (tmp_path / "openrouter_pipe" / "artifacts.db").exists(), "nothing went to SQLite"
        with psycopg.connect(url) as conn:
            count = conn.execute(f'SELECT count(*) FROM "{TABLE}"').fetchone()[0]
        assert count == 1, "the reasoning of the new answer was not stored (the fake sends none)"
