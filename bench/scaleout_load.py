#!/usr/bin/env python3
"""Scale-out load (issue #13; not a timed test): two Open WebUI worker processes sharing one
Redis and one database, answering reasoning chats for a while, to show that the Redis
write-behind loses nothing under load and what it costs.

Run with the Open WebUI venv's python, where the wheel to measure is installed:

    ~/.cache/openrouter-pipe/owui-venv-0.12.4/bin/python bench/scaleout_load.py \
        --chats 200 --seconds 120 --db postgres

Each worker keeps ``--chats / 2`` chats running back to back (each a reasoning answer that
stores one artifact, its events ``--drip-ms`` apart, about 1 s per answer at the default)
for ``--seconds``, then waits for the queue to drain. Reported:
answers, artifacts expected (markers in the answers) and written (rows in the database),
database transactions per answer (PostgreSQL's ``xact_commit``, which counts the flushes'
batches and the replays' reads), flush transaction time p50/p99 (the engine's "Flushed N
queued artifact(s) … in X ms" lines), the Redis queue's largest backlog, and Redis memory.
Everything runs on loopback: the fake OpenRouter, ``redis-server`` and (with ``--db
postgres``) a throw-away PostgreSQL from Debian's packages. Figures go to stdout and
``bench/scaleout_results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "scaleout_results.json"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "pytests"))

MARKER = re.compile(r"^\[([0-9A-HJKMNP-TV-Z]{20})\]: #$", re.M)
FLUSHED = re.compile(r"Flushed (\d+) queued artifact\(s\) to the database in (\d+) ms")


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# ---- one worker process ------------------------------------------------------------------------


class FlushLines(logging.Handler):
    """Keeps the engine's flush lines (count and milliseconds per transaction)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.flushes: list[tuple[int, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        m = FLUSHED.search(record.getMessage())
        if m:
            self.flushes.append((int(m.group(1)), int(m.group(2))))


async def worker(config: dict) -> dict:
    from bridge_helpers import content_of, new_pipe, parse_lines

    import redis

    flush_lines = FlushLines()
    logger = logging.getLogger("openrouter_pipe")
    logger.addHandler(flush_lines)
    logger.setLevel(logging.DEBUG)
    # DEBUG for the flusher's lines; the answers' own DEBUG output is not formatted (LOG_LEVEL
    # applies per request through the user valve below).
    pipe = new_pipe(config["base_url"], LOG_LEVEL="DEBUG")
    await pipe.pipes()
    deadline = time.monotonic() + config["seconds"]
    answers, markers, errors, latencies = 0, [], [], []

    async def loop(lane: int) -> None:
        nonlocal answers
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            chat = f"w{config['worker']}-l{lane}-c{seq}"
            body = {
                "model": "openrouter.openai.o4-mini",
                "stream": True,
                "messages": [{"role": "user", "content": f"[[fake {config['directive']}]] question {seq}"}],
            }
            user = {"id": f"load-user-{lane % 20}", "valves": {"LOG_LEVEL": "INFO"}}
            meta = {"chat_id": chat, "message_id": f"{chat}-m", "session_id": "load"}
            started = time.perf_counter()
            try:
                result = await pipe.pipe(body, __user__=user, __metadata__=meta)
                if isinstance(result, str):
                    raise RuntimeError(f"answered without streaming: {result[:300]!r}")
                text = content_of(parse_lines([line async for line in result]))
                found = MARKER.findall(text)
                if not found:
                    errors.append(f"no marker in {text[:120]!r}")
                markers.extend(found)
                answers += 1
                latencies.append(time.perf_counter() - started)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(repr(exc))
                await asyncio.sleep(0.5)

    await asyncio.gather(*(loop(i) for i in range(config["chats"])))
    client = redis.Redis.from_url(config["redis_url"])
    drain_until = time.monotonic() + 60
    while time.monotonic() < drain_until:
        if client.llen("openrouter:pending") + client.llen("openrouter:processing") == 0:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # the flush that emptied the queue logs its line after the ack
    return {
        "answers": answers,
        "markers": markers,
        "errors": errors[:20],
        "error_count": len(errors),
        "answer_p50_s": percentile(latencies, 50),
        "answer_p99_s": percentile(latencies, 99),
        "flushes": flush_lines.flushes,
    }


# ---- the coordinator ---------------------------------------------------------------------------


def sample_redis(url: str, stop: threading.Event, out: dict) -> None:
    import redis

    client = redis.Redis.from_url(url)
    while not stop.is_set():
        try:
            backlog = client.llen("openrouter:pending") + client.llen("openrouter:processing")
            memory = client.info("memory")
            out["backlog_max"] = max(out.get("backlog_max", 0), backlog)
            out["used_memory_max"] = max(out.get("used_memory_max", 0), memory["used_memory"])
        except Exception:  # noqa: BLE001 - a missed sample is fine
            pass
        stop.wait(0.2)


def stored_rows(db: str, data_dir: Path, ids: list[str]) -> tuple[int, int]:
    """(rows among `ids`, rows in total) in the artifact table."""
    wanted = set(ids)
    if db == "postgres":
        import psycopg

        with psycopg.connect(os.environ["LOAD_PG_URL"]) as conn:
            tables = [r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE 'response_items_%'").fetchall()]
            found = [r[0] for t in tables for r in conn.execute(f'SELECT id FROM "{t}"').fetchall()]
    else:
        import sqlite3

        con = sqlite3.connect(data_dir / "openrouter_pipe" / "artifacts.db")
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'response_items_%'")]
        found = [r[0] for t in tables for r in con.execute(f"SELECT id FROM {t}")]
        con.close()
    return len(wanted & set(found)), len(found)


def commits(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def run(args: argparse.Namespace) -> dict:
    import redis_server
    from fake_openrouter.client import FakeOpenRouter

    with FakeOpenRouter() as fake, redis_server.redis_server() as redis_url, tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        env = dict(os.environ)
        env.update(DATA_DIR=str(data_dir), UVICORN_WORKERS="2", REDIS_URL=redis_url,
                   WEBSOCKET_MANAGER="redis", WEBSOCKET_REDIS_URL=redis_url)
        pg_context = None
        if args.db == "postgres":
            import pg

            pg_context = pg.postgres_server()
            pg_url = pg_context.__enter__()
            env["DATABASE_URL"] = pg_url
            os.environ["LOAD_PG_URL"] = pg_url
        try:
            before = commits(pg_url) if pg_context else None
            samples: dict = {}
            stop = threading.Event()
            sampler = threading.Thread(target=sample_redis, args=(redis_url, stop, samples), daemon=True)
            sampler.start()
            per_worker = max(1, args.chats // 2)
            started = time.monotonic()
            procs = [
                subprocess.Popen(
                    [sys.executable, __file__, "--worker", json.dumps({
                        "worker": n, "base_url": fake.base_url, "redis_url": redis_url,
                        "chats": per_worker, "seconds": args.seconds,
                        "directive": f"fixture=stream_reasoning.sse drip_ms={args.drip_ms}"})],
                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                )
                for n in (1, 2)
            ]
            outputs = []
            for proc in procs:
                out, err = proc.communicate(timeout=args.seconds + 300)
                if proc.returncode != 0:
                    raise SystemExit(f"worker failed:\n{err[-3000:]}")
                outputs.append(json.loads(out.strip().splitlines()[-1]))
            elapsed = time.monotonic() - started
            stop.set()
            sampler.join()
            markers = [m for o in outputs for m in o["markers"]]
            written, total_rows = stored_rows(args.db, data_dir, markers)
            after = commits(pg_url) if pg_context else None
        finally:
            if pg_context:
                pg_context.__exit__(None, None, None)
    answers = sum(o["answers"] for o in outputs)
    flushes = [f for o in outputs for f in o["flushes"]]
    flush_ms = [ms for _, ms in flushes]
    return {
        "db": args.db,
        "drip_ms": args.drip_ms,
        "workers": 2,
        "concurrent_chats": per_worker * 2,
        "seconds": round(elapsed, 1),
        "answers": answers,
        "answers_per_second": round(answers / elapsed, 1),
        "errors": sum(o["error_count"] for o in outputs),
        "error_samples": [e for o in outputs for e in o["errors"]][:5],
        "artifacts_expected": len(markers),
        "artifacts_written": written,
        "rows_in_table": total_rows,
        "flush_transactions": len(flushes),
        "rows_per_flush": round(sum(n for n, _ in flushes) / len(flushes), 1) if flushes else None,
        "flush_ms_p50": percentile(flush_ms, 50),
        "flush_ms_p99": percentile(flush_ms, 99),
        "db_transactions_per_answer": round((after - before) / answers, 2) if after is not None and answers else None,
        "redis_backlog_max": samples.get("backlog_max"),
        "redis_used_memory_max_mib": round(samples.get("used_memory_max", 0) / 2**20, 2),
        "answer_p50_s": percentile([o["answer_p50_s"] for o in outputs if o["answer_p50_s"]], 50),
        "answer_p99_s": max((o["answer_p99_s"] or 0) for o in outputs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=200, help="concurrent chats over both workers")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--drip-ms", type=float, default=40, help="the fake's pause between events")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(asyncio.run(worker(json.loads(args.worker)))))
        return
    result = run(args)
    print(json.dumps(result, indent=2))
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    lost = result["artifacts_expected"] - result["artifacts_written"]
    if lost or result["errors"]:
        raise SystemExit(f"FAILED: {lost} artifact(s) lost, {result['errors']} error(s)")


if __name__ == "__main__":
    main()
