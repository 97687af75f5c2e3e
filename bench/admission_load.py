#!/usr/bin/env python3
"""Admission-control load benchmark (not a timed test): many chats against one worker
process and a slow fake OpenRouter, to show that admission holds its promises.

Run with the Open WebUI venv's python and the package to measure first on the path:

    PYTHONPATH=python ~/.cache/openrouter-pipe/owui-venv-0.12.4/bin/python bench/admission_load.py load
    PYTHONPATH=python ~/.cache/openrouter-pipe/owui-venv-0.12.4/bin/python bench/admission_load.py soak --minutes 2

``load``: 1,000 chats start at once with ``MAX_CONCURRENT_REQUESTS=200`` and
``MAX_QUEUED_REQUESTS=500``; every upstream answer takes 4 s. It checks that the fake never
saw more than 200 streams open at once, that nothing raised, and that every admitted chat is
complete; it reports p50/p99 queue wait (from the "Waiting for a free slot…" status to the
slot) and the process's RSS growth. The busy card's latency is reported twice: inside the
burst (from each chat's own start, which includes this one event loop starting the 999
others) and for single chats sent once the burst has settled and the line is full (the
figure the 100 ms promise is checked on).

``soak``: chats at a steady rate for ``--minutes``, 5 % of upstream attempts failing with a
503 before the first byte (the engine retries them); it checks that no answer is lost and
that RSS grows less than 5 % between the first and the last sample.

Loopback only; the figures go to stdout and ``bench/admission_results.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "admission_results.json"
sys.path.insert(0, str(BENCH_DIR))
from stream_load import API_KEY, FakeOpenRouter, load_function_module, rss_mb  # noqa: E402

WAITING = "Waiting for a free slot…"
ANSWER = "slow answer done"
BUSY = "The server is busy"


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Chat:
    """One chat's timeline and outcome."""

    __slots__ = ("started", "returned", "first_line", "queued_at", "admitted_at", "ended", "text", "error")

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.returned: float | None = None
        self.first_line: float | None = None
        self.queued_at: float | None = None
        self.admitted_at: float | None = None
        self.ended: float | None = None
        self.text = ""
        self.error: str | None = None


async def one_chat(pipe, seq: int, chat: Chat | None = None) -> Chat:
    chat = chat or Chat()
    chat.started = time.perf_counter()
    try:
        lines = await pipe.pipe(
            {"model": "openrouter.openai.gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
            __user__={"id": f"bench-user-{seq % 50}", "role": "user"},
            __metadata__={"chat_id": f"chat-{seq}", "message_id": f"msg-{seq}"},
        )
        chat.returned = time.perf_counter()
        async for line in lines:
            if chat.first_line is None:
                chat.first_line = time.perf_counter()
            payload = json.loads(line[len("data: ") :])
            event = payload.get("event") or {}
            if event.get("type") == "status" and event["data"].get("description") == WAITING:
                if event["data"].get("done"):
                    chat.admitted_at = time.perf_counter()
                else:
                    chat.queued_at = time.perf_counter()
            for choice in payload.get("choices") or []:
                chat.text += choice.get("delta", {}).get("content") or ""
    except Exception as exc:  # noqa: BLE001 - counted, the benchmark reports them
        chat.error = repr(exc)
    chat.ended = time.perf_counter()
    return chat


def new_pipe(base_url: str, **valves):
    module = load_function_module()
    pipe = module.Pipe()
    pipe.valves = module.Pipe.Valves(API_KEY=API_KEY, BASE_URL=base_url, **valves)
    return pipe


async def load(args) -> dict:
    with FakeOpenRouter() as fake:
        pipe = new_pipe(fake.base_url, MAX_CONCURRENT_REQUESTS=args.concurrent, MAX_QUEUED_REQUESTS=args.queued)
        await one_chat(pipe, -1)  # warm: catalog, runtime, connections
        fake.clear()
        fake.enqueue({"delay_ms": args.upstream_ms, "text": ANSWER, "times": 0})
        rss_before = rss_mb()
        peak_rss = rss_before
        done = False

        async def sample_rss():
            nonlocal peak_rss
            while not done:
                peak_rss = max(peak_rss, rss_mb())
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample_rss())
        t0 = time.perf_counter()
        burst = [Chat() for _ in range(args.chats)]
        tasks = [asyncio.create_task(one_chat(pipe, i, burst[i])) for i in range(args.chats)]
        # Once the burst has settled (every chat beyond the slots is queued or refused),
        # single chats probe the full line: how fast is the busy card on its own?
        while sum(1 for c in burst if c.queued_at or c.ended) < args.chats - args.concurrent:
            await asyncio.sleep(0.02)
        settled = time.perf_counter() - t0
        probes = [await one_chat(pipe, args.chats + i) for i in range(args.probes)]
        chats = await asyncio.gather(*tasks)
        wall = time.perf_counter() - t0
        done = True
        await sampler
        stats = fake.stats()
    busy = [c for c in chats if BUSY in c.text]
    complete = [c for c in chats if c.text == ANSWER]
    errors = [c.error for c in chats if c.error]
    other = [c.text[:200] for c in chats if c not in busy and c not in complete and not c.error]
    waits = [(c.admitted_at - c.queued_at) * 1000 for c in complete if c.queued_at and c.admitted_at]
    busy_ms = [(c.ended - c.started) * 1000 for c in busy]
    probe_ms = [(c.ended - c.started) * 1000 for c in probes]
    # Where a busy chat's time goes: Python's pipe() call, then the engine until its first
    # line reached this loop.
    busy_pipe_ms = [(c.returned - c.started) * 1000 for c in busy if c.returned]
    busy_engine_ms = [(c.first_line - c.returned) * 1000 for c in busy if c.returned and c.first_line]
    result = {
        "mode": "load",
        "chats": args.chats,
        "max_concurrent_requests": args.concurrent,
        "max_queued_requests": args.queued,
        "upstream_ms": args.upstream_ms,
        "wall_s": round(wall, 2),
        "peak_upstream_streams": stats["peak_active_streams"],
        "upstream_streams_started": stats["streams_started"],
        "admitted_complete": len(complete),
        "queued": len(waits),
        "busy": len(busy),
        "busy_ms_max": round(max(busy_ms), 1) if busy_ms else None,
        "busy_ms_p50": round(percentile(busy_ms, 50), 1) if busy_ms else None,
        "busy_pipe_call_ms_max": round(max(busy_pipe_ms), 1) if busy_pipe_ms else None,
        "busy_until_first_line_ms_max": round(max(busy_engine_ms), 1) if busy_engine_ms else None,
        "busy_until_first_line_ms_p50": round(percentile(busy_engine_ms, 50), 1) if busy_engine_ms else None,
        "burst_settled_s": round(settled, 2),
        "probes": len(probes),
        "probes_busy": sum(1 for c in probes if BUSY in c.text),
        "probe_busy_ms_p50": round(percentile(probe_ms, 50), 1),
        "probe_busy_ms_max": round(max(probe_ms), 1),
        "exceptions": len(errors),
        "other_answers": len(other),
        "queue_wait_ms_p50": round(percentile(waits, 50), 1) if waits else None,
        "queue_wait_ms_p99": round(percentile(waits, 99), 1) if waits else None,
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_peak": round(peak_rss, 1),
        "rss_mb_after": round(rss_mb(), 1),
    }
    result["checks"] = {
        "never_more_than_limit_upstream": stats["peak_active_streams"] <= args.concurrent,
        "probes_busy_within_100ms": all(BUSY in c.text for c in probes) and max(probe_ms) <= 100,
        "zero_exceptions": not errors,
        "every_admitted_chat_complete": len(complete) + len(busy) == args.chats,
    }
    if errors or other:
        result["samples"] = {"errors": errors[:3], "other": other[:3]}
    return result


async def soak(args) -> dict:
    duration = args.minutes * 60
    with FakeOpenRouter() as fake:
        pipe = new_pipe(fake.base_url)
        await one_chat(pipe, -1)
        fake.clear()
        total = int(args.rate * duration * 1.3) + 100
        # Every 20th upstream attempt fails before its first byte; the engine retries it.
        plans = [
            {"error": 503, "headers": {"Retry-After": "0"}}
            if i % 20 == 19
            else {"delay_ms": args.upstream_ms, "text": ANSWER}
            for i in range(total)
        ]
        for start in range(0, len(plans), 500):
            fake.enqueue(plans[start : start + 500])
        samples: list[tuple[float, float]] = []
        # Outcomes are counted as chats finish, so the benchmark itself keeps nothing.
        pending: set[asyncio.Task] = set()
        outcome = {"chats": 0, "lost": 0, "errors": 0}
        lost_samples: list[str] = []

        def finished(task: asyncio.Task) -> None:
            pending.discard(task)
            chat = task.result()
            outcome["chats"] += 1
            if chat.text != ANSWER:
                outcome["lost"] += 1
                if len(lost_samples) < 3:
                    lost_samples.append((chat.error or chat.text)[:200])
            if chat.error:
                outcome["errors"] += 1

        t0 = time.perf_counter()
        next_sample = t0
        seq = 0
        while (now := time.perf_counter()) - t0 < duration:
            due = int((now - t0) * args.rate)
            while seq < due:
                task = asyncio.create_task(one_chat(pipe, seq))
                pending.add(task)
                task.add_done_callback(finished)
                seq += 1
            if now >= next_sample:
                samples.append((round(now - t0, 1), round(rss_mb(), 1)))
                next_sample += 10
            await asyncio.sleep(0.01)
        while pending:
            await asyncio.sleep(0.05)
        samples.append((round(time.perf_counter() - t0, 1), round(rss_mb(), 1)))
        stats = fake.stats()
        requests = stats["streams_started"]
    # The first sample after a warm-up tenth of the run is the baseline.
    baseline = next(mb for t, mb in samples if t >= duration / 10)
    growth = (samples[-1][1] - baseline) / baseline * 100
    result = {
        "mode": "soak",
        "minutes": args.minutes,
        "rate_per_s": args.rate,
        "upstream_ms": args.upstream_ms,
        "chats": outcome["chats"],
        "upstream_attempts": requests,
        # Every fault was answered by one more attempt.
        "injected_faults": requests - outcome["chats"],
        "lost_answers": outcome["lost"],
        "exceptions": outcome["errors"],
        "rss_mb_samples": samples,
        "rss_mb_baseline": baseline,
        "rss_growth_percent": round(growth, 2),
    }
    result["checks"] = {"zero_lost_answers": not outcome["lost"], "rss_growth_below_5_percent": growth < 5}
    if lost_samples:
        result["samples"] = {"lost": lost_samples}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    lp = sub.add_parser("load", help="1,000 chats at once")
    lp.add_argument("--chats", type=int, default=1000)
    lp.add_argument("--concurrent", type=int, default=200)
    lp.add_argument("--queued", type=int, default=500)
    lp.add_argument("--upstream-ms", type=int, default=4000)
    lp.add_argument("--probes", type=int, default=20)
    sp = sub.add_parser("soak", help="a steady rate with injected faults")
    sp.add_argument("--minutes", type=float, default=2)
    sp.add_argument("--rate", type=float, default=40)
    sp.add_argument("--upstream-ms", type=int, default=1000)
    args = parser.parse_args()
    import openrouter_pipe

    print(f"openrouter_pipe from {Path(openrouter_pipe.__file__).parent}", file=sys.stderr)
    result = asyncio.run(load(args) if args.mode == "load" else soak(args))
    result["load_average"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous[args.mode] = result
    RESULTS.write_text(json.dumps(previous, indent=2) + "\n")


if __name__ == "__main__":
    main()
