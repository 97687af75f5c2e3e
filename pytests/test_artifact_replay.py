"""Reasoning and tool items survive the turn: stored while streaming, replayed next turn."""

import asyncio
import json
import logging
import re
import socket
import subprocess
import sys

import pytest

import pg
from bridge_helpers import content_of, new_pipe, parse_lines, reasoning_of

MARKER = re.compile(r"^\[([0-9A-HJKMNP-TV-Z]{20})\]: #$", re.M)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    return tmp_path


def body(messages, stream=True):
    return {"model": "openrouter.openai.o4-mini", "stream": stream, "messages": messages}


async def turn(pipe, messages, chat_id, message_id, stream=True):
    meta = {"chat_id": chat_id, "message_id": message_id, "session_id": "s1"}
    result = await pipe.pipe(body(messages, stream), __user__={"id": "user-1"}, __metadata__=meta)
    if isinstance(result, str):
        return result
    return content_of(parse_lines([line async for line in result]))


def rows(db_path):
    """Artifact rows, read in a separate process (never two SQLite copies in one process)."""
    script = (
        "import json,sqlite3,sys;c=sqlite3.connect(sys.argv[1]);"
        "t=[r[0] for r in c.execute(\"select name from sqlite_master where type='table' "
        "and name like 'response_items_%'\")];"
        "print(json.dumps({n:[list(r) for r in c.execute(f'select id,item_type,is_encrypted,payload from {n}')] "
        "for n in t}))"
    )
    out = subprocess.run([sys.executable, "-c", script, str(db_path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


async def test_streamed_reasoning_is_marked_stored_and_replayed_in_order(fake, data_dir):
    fake.clear()
    pipe = new_pipe(fake.base_url, ARTIFACT_ENCRYPTION_KEY="correct horse battery staple")
    fake.enqueue({"fixture": "stream_reasoning.sse"})
    first = [{"role": "user", "content": "Was 1995 thirty years ago?"}]
    answer = await turn(pipe, first, "chat-1", "msg-a1")
    ids = MARKER.findall(answer)
    assert len(ids) == 1, answer
    assert answer.index(ids[0]) < answer.index("Yes. In 2025"), "marker sits before the text it preceded"
    assert MARKER.sub("", answer).strip().startswith("Yes. In 2025")

    tables = rows(data_dir / "openrouter_pipe" / "artifacts.db")
    [(table, stored)] = tables.items()
    assert [(r[0], r[1], r[2]) for r in stored] == [(ids[0], "reasoning", 1)]
    assert "ciphertext" in json.loads(stored[0][3]), "reasoning is encrypted at rest"

    second = first + [{"role": "assistant", "content": answer}, {"role": "user", "content": "And 2000?"}]
    await turn(pipe, second, "chat-1", "msg-a2")
    sent = fake.requests("/api/v1/responses")[-1]["body"]["input"]
    kinds = [item.get("type") for item in sent]
    assert kinds == ["message", "reasoning", "message", "message"], kinds
    reasoning = sent[1]
    assert reasoning["encrypted_content"].startswith("gAAAAA")
    assert sent[2]["role"] == "assistant" and "Yes. In 2025" in sent[2]["content"][0]["text"]
    assert not MARKER.search(json.dumps(sent)), "markers never reach the model"


async def test_no_answer_text_comes_before_the_reasoning_ends(fake, data_dir):
    """Open WebUI 0.12.4 files reasoning that arrives after any answer text as finished
    (duration 0, "Thought for less than a second" while the model still thinks): the
    reasoning item's marker must not be streamed before its reasoning."""
    fake.clear()
    pipe = new_pipe(fake.base_url)
    fake.enqueue({"text": "All done.", "reasoning": 6})
    meta = {"chat_id": "chat-order", "message_id": "msg-o1", "session_id": "s1"}
    result = await pipe.pipe(
        body([{"role": "user", "content": "think first"}]), __user__={"id": "user-1"}, __metadata__=meta
    )
    payloads = parse_lines([line async for line in result])
    deltas = [p["choices"][0]["delta"] for p in payloads if p.get("choices")]
    kinds = [
        "reasoning" if d.get("reasoning_content") else "content"
        for d in deltas
        if d.get("reasoning_content") or d.get("content")
    ]
    assert "reasoning" in kinds and "content" in kinds, kinds
    last_reasoning = max(i for i, k in enumerate(kinds) if k == "reasoning")
    assert "content" not in kinds[:last_reasoning], kinds
    answer = content_of(payloads)
    assert len(MARKER.findall(answer)) == 1, "the reasoning is still marked for replay"


async def test_unknown_markers_are_skipped_not_fatal(fake, data_dir):
    fake.clear()
    pipe = new_pipe(fake.base_url)
    history = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "[01JABCDEFGHJKMNPQRST]: #\n\nHello there."},
        {"role": "user", "content": "again"},
    ]
    text = await turn(pipe, history, "chat-unknown", "msg-x")
    assert text.startswith("Echo: again")
    sent = fake.requests("/api/v1/responses")[-1]["body"]["input"]
    assert sent[1]["content"][0]["text"] == "Hello there."


async def test_disabled_retention_stores_no_reasoning(fake, data_dir):
    fake.clear()
    pipe = new_pipe(fake.base_url, PERSIST_REASONING_TOKENS="disabled")
    fake.enqueue({"fixture": "stream_reasoning.sse"})
    answer = await turn(pipe, [{"role": "user", "content": "q"}], "chat-2", "msg-b1")
    assert not MARKER.search(answer)


async def test_next_reply_retention_replays_reasoning_once(fake, data_dir):
    fake.clear()
    pipe = new_pipe(fake.base_url, PERSIST_REASONING_TOKENS="next_reply")
    fake.enqueue({"fixture": "stream_reasoning.sse"})
    first = [{"role": "user", "content": "q1"}]
    answer = await turn(pipe, first, "chat-3", "msg-c1")
    second = first + [{"role": "assistant", "content": answer}, {"role": "user", "content": "q2"}]
    await turn(pipe, second, "chat-3", "msg-c2")
    assert any(i.get("type") == "reasoning" for i in fake.requests("/api/v1/responses")[-1]["body"]["input"])
    third = second + [{"role": "assistant", "content": "Echo: q2"}, {"role": "user", "content": "q3"}]
    await turn(pipe, third, "chat-3", "msg-c3")
    assert not any(i.get("type") == "reasoning" for i in fake.requests("/api/v1/responses")[-1]["body"]["input"])


async def test_non_streamed_answers_carry_markers_too(fake, data_dir):
    fake.clear()
    pipe = new_pipe(fake.base_url)
    fake.enqueue({"fixture": "nonstream_function_call.json"})
    answer = await turn(pipe, [{"role": "user", "content": "weather?"}], "chat-4", "msg-d1", stream=False)
    assert len(MARKER.findall(answer)) >= 1, answer


async def test_broken_database_does_not_stop_the_answer(fake, tmp_path, monkeypatch):
    fake.clear()
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    pipe = new_pipe(fake.base_url, ARTIFACT_DB_PATH=str(blocker / "artifacts.db"))
    fake.enqueue({"fixture": "stream_reasoning.sse"})
    meta = {"chat_id": "chat-5", "message_id": "m5"}
    result = await pipe.pipe(body([{"role": "user", "content": "q"}]), __user__={"id": "u5"}, __metadata__=meta)
    payloads = parse_lines([line async for line in result])
    assert "Yes. In 2025" in content_of(payloads)
    assert reasoning_of(payloads)
    statuses = [p["event"]["data"]["description"] for p in payloads if p.get("event", {}).get("type") == "status"]
    assert any("unavailable" in s for s in statuses), statuses


async def test_a_postgresql_database_that_is_down_does_not_stop_the_answer_or_leak_its_password(
    fake, tmp_path, caplog
):
    fake.clear()
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    secret = "pg-Secret-4242"
    url = f"postgresql+psycopg://owui:{secret}@127.0.0.1:{port}/webui?sslmode=disable&connect_timeout=2"
    pipe = new_pipe(fake.base_url, ARTIFACT_DATABASE_URL=url)
    for n in range(2):
        fake.enqueue({"fixture": "stream_reasoning.sse"})
        meta = {"chat_id": "chat-pg", "message_id": f"m{n}"}
        with caplog.at_level(logging.DEBUG):
            result = await pipe.pipe(
                body([{"role": "user", "content": "q"}]), __user__={"id": "u-pg"}, __metadata__=meta
            )
            payloads = parse_lines([line async for line in result])
        assert "Yes. In 2025" in content_of(payloads), "the answer streams without its database"
        statuses = [p["event"]["data"]["description"] for p in payloads if p.get("event", {}).get("type") == "status"]
        assert any("unavailable" in s for s in statuses), statuses
        assert not MARKER.search(content_of(payloads)), "nothing stored, so no marker"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"owui:***@127.0.0.1:{port}/webui" in logged, logged
    assert "next attempt in" in logged, "the second answer did not wait for another connect attempt"
    assert secret not in logged and secret not in json.dumps(payloads)


@pytest.mark.skipif(not pg.available(), reason="PostgreSQL server binaries are not installed")
async def test_postgresql_restarted_under_load_loses_no_artifact_of_a_completed_answer(fake, tmp_path, monkeypatch):
    psycopg = pytest.importorskip("psycopg", reason="needs psycopg")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    fake.clear()
    with pg.postgres_cluster() as server:
        pipe = new_pipe(fake.base_url, ARTIFACT_DATABASE_URL=server.url, ARTIFACT_ENCRYPTION_KEY="restart key")
        answers = 16
        for _ in range(answers):
            fake.enqueue({"fixture": "stream_reasoning.sse"})

        async def answer(n: int) -> str:
            await asyncio.sleep(0.05 * n)
            return await turn(pipe, [{"role": "user", "content": f"q{n}"}], f"chat-r{n}", f"m{n}")

        async def restart() -> None:
            await asyncio.sleep(0.3)
            await asyncio.to_thread(server.restart)

        # The first answer opens the table; the rest run while the server restarts.
        first = await answer(0)
        results = await asyncio.gather(*(answer(n) for n in range(1, answers)), restart())
        texts = [first, *results[:-1]]
        markers = [MARKER.findall(t) for t in texts]
        assert all("Yes. In 2025" in t for t in texts), "every answer completed"
        assert all(len(m) == 1 for m in markers), markers
        with psycopg.connect(server.url) as conn:
            stored = {r[0] for r in conn.execute(
                "SELECT id FROM " + '"' + table_of(conn) + '"'
            ).fetchall()}
        missing = [m[0] for m in markers if m[0] not in stored]
        assert not missing, f"{len(missing)} of {answers} completed answers lost their reasoning"
        assert not list(tmp_path.glob("openrouter_pipe/*.db")), "nothing fell back to SQLite"


def table_of(conn) -> str:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'response_items_%'").fetchall()
    assert len(rows) == 1, rows
    return rows[0][0]
