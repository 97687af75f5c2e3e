"""Two Open WebUI workers (two processes) sharing one Redis (a real ``redis-server`` on a
loopback port) and one artifact database: the catalog is fetched once for both, turn 2
on the other worker replays turn 1's reasoning, every row reaches the database, and each
model call leaves a cost snapshot in the reference's format."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import redis_server

HERE = Path(__file__).resolve().parent
MARKER = re.compile(r"^\[([0-9A-HJKMNP-TV-Z]{20})\]: #$", re.M)


@pytest.fixture(scope="module")
def redis_url():
    if not redis_server.available():
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with redis_server.redis_server() as url:
        yield url


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushall()
    return client


def _env(redis_url: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATA_DIR=str(data_dir),
        UVICORN_WORKERS="2",
        REDIS_URL=redis_url,
        WEBSOCKET_MANAGER="redis",
        WEBSOCKET_REDIS_URL=redis_url,
    )
    return env


def _start(fake, plan: dict, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HERE / "redis_worker.py"), str(HERE), fake.base_url, json.dumps(plan)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _rows(db_path: Path) -> list[tuple[str, str]]:
    import sqlite3

    con = sqlite3.connect(db_path)
    try:
        tables = [
            r[0]
            for r in con.execute("select name from sqlite_master where type='table' and name like 'response_items_%'")
        ]
        return [tuple(r) for t in tables for r in con.execute(f"select id, item_type from {t}")]
    finally:
        con.close()


def test_two_workers_fetch_the_catalog_once(fake, redis_client, redis_url, tmp_path):
    env = _env(redis_url, tmp_path)
    workers = [_start(fake, {}, env) for _ in range(2)]
    results = [_result(w) for w in workers]
    assert all(r["models"] > 0 for r in results), results
    assert len(fake.requests("/api/v1/models")) == 1, "one /models fetch for the deployment"
    assert redis_client.keys("openrouter:catalog:*"), "the body is shared through Redis"


def test_turn_two_on_the_other_worker_replays_turn_one_and_nothing_is_lost(fake, redis_client, redis_url, tmp_path):
    env = _env(redis_url, tmp_path)
    fake.enqueue({"fixture": "stream_reasoning.sse"})
    first = [{"role": "user", "content": "Was 1995 thirty years ago?"}]
    one = _result(
        _start(fake, {"messages": first, "chat_id": "chat-r", "message_id": "m1", "redis_url": redis_url}, env)
    )
    ids = MARKER.findall(one["answer"])
    assert len(ids) == 1, one
    assert one["backlog"] == 0, "flushed by a worker after pub/sub woke it"
    second = first + [{"role": "assistant", "content": one["answer"]}, {"role": "user", "content": "And 1996?"}]
    two = _result(
        _start(fake, {"messages": second, "chat_id": "chat-r", "message_id": "m2", "redis_url": redis_url}, env)
    )
    replayed = fake.requests("/api/v1/responses")[-1]["body"]["input"]
    assert any(item.get("type") == "reasoning" for item in replayed), replayed
    assert two["backlog"] == 0
    db = tmp_path / "openrouter_pipe" / "artifacts.db"
    stored = _rows(db)
    assert (ids[0], "reasoning") in stored
    assert len(stored) == len({r[0] for r in stored}), "no row twice"

    keys = sorted(redis_client.keys("costs:*"))
    assert len(keys) == 2, "one snapshot per model call"
    for key in keys:
        prefix, pipe, user, uuid, ts = key.split(":")
        assert (prefix, pipe, user) == ("costs", "openrouter", "user-7")
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", uuid)
        snapshot = json.loads(redis_client.get(key))
        assert set(snapshot) == {"guid", "email", "name", "model", "usage", "ts"}
        assert (snapshot["guid"], snapshot["email"], snapshot["name"]) == ("user-7", "ada@example.com", "Ada")
        assert snapshot["model"] == "openrouter.openai.o4-mini"
        assert snapshot["ts"] == int(ts) and snapshot["usage"]
        assert 0 < redis_client.ttl(key) <= 900


def test_one_worker_uses_no_redis(fake, redis_client, redis_url, tmp_path):
    env = _env(redis_url, tmp_path)
    env["UVICORN_WORKERS"] = "1"
    fake.enqueue({"fixture": "stream_reasoning.sse"})
    plan = {"messages": [{"role": "user", "content": "q"}], "chat_id": "c1", "message_id": "m1", "redis_url": redis_url}
    result = _result(_start(fake, plan, env))
    assert MARKER.findall(result["answer"])
    assert redis_client.keys("*") == [], "single worker: nothing in Redis"
    assert len(_rows(tmp_path / "openrouter_pipe" / "artifacts.db")) == 1
