"""The two load shapes of issue #16, run by ``stream_load.py``: how upstream writes are cut, and
how many paced streams one worker process holds.

* **Write patterns**: the same answers sent three ways by the fake (one SSE event per TCP write
  at full speed, as a fast provider streams tokens; large batched writes at full speed; one event
  per write at 100 deltas/s), each through the pipe and through the bare aiohttp client (the
  reference pipe's shape: lines, ``json.loads`` per event) in the same run, reported as ratios.
* **Concurrency sweep**: 1, 50, 200, 1,000 paced streams on this one process, with the event
  loop's lag (a 5 ms timer task), resident memory growth per concurrent stream (peak during the
  run minus the RSS just before it), errors and whether every stream's text arrived intact.

Both reuse ``stream_load``'s clients and Open WebUI ``stream_content`` replica, so every item
still goes through Open WebUI's own ``process_line``. Text is checked as it arrives (each chunk's
``tokK`` tokens must continue the sequence) rather than kept, so the check adds no memory per
stream; hold latency goes into a fixed histogram for the same reason.
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import statistics
import time
from typing import Any

import stream_load as sl

TICK_S = 0.005  # the loop-lag probe's timer
RSS_EVERY = 20  # probe ticks between RSS samples (100 ms)
HELD_BINS = 5000  # 1 ms bins of the hold-latency histogram

# (label, paced rate or 0, directive extra)
PATTERNS = (
    ("one event per write, full speed", 0, "per_event=1"),
    ("batched writes, full speed", 0, ""),
    ("one event per write, 100 deltas/s", None, ""),  # None: --rate
)


def raise_fd_limit() -> int:
    """A thousand streams need a thousand sockets (plus the engine's): take the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Probe:
    """A timer task on the event loop: how late each 5 ms sleep wakes, and peak RSS."""

    def __init__(self):
        self.lags_ms: list[float] = []
        self.rss_peak = sl.rss_mb()
        self._stop = False
        self._task: asyncio.Task | None = None

    async def _run(self):
        ticks = 0
        while not self._stop:
            t0 = time.perf_counter()
            await asyncio.sleep(TICK_S)
            self.lags_ms.append((time.perf_counter() - t0 - TICK_S) * 1e3)
            ticks += 1
            if ticks % RSS_EVERY == 0:
                self.rss_peak = max(self.rss_peak, sl.rss_mb())

    def __enter__(self):
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> dict:
        self._stop = True
        await self._task
        self.rss_peak = max(self.rss_peak, sl.rss_mb())
        lags = sorted(self.lags_ms) or [float("nan")]
        return {
            "loop_lag_ms_p50": lags[len(lags) // 2],
            "loop_lag_ms_p99": lags[(len(lags) * 99) // 100],
            "loop_lag_ms_max": lags[-1],
            "loop_lag_samples": len(self.lags_ms),
        }

    def __exit__(self, *exc):
        self._stop = True


class Checker:
    """Per stream: the text's tokens continue `tok0 tok1 …` chunk after chunk; how late (ms)
    each paced chunk's oldest delta reached Open WebUI (see ``stream_load.one_stream``)."""

    def __init__(self, held: list[int]):
        self.next = 0
        self.ok = True
        self.first: float | None = None
        self.held = held

    def chunk(self, chunk: str, rate: float):
        found = sl._TOKEN.findall(chunk)
        if not found:
            return
        for tok in found:
            if int(tok) != self.next:
                self.ok = False
            self.next += 1
        if rate:
            now = time.perf_counter()
            if self.first is None:
                self.first = now
            ms = int((now - self.first - int(found[0]) / rate) * 1e3)
            self.held[min(max(ms, 0), HELD_BINS - 1)] += 1


def _held_summary(held: list[int]) -> dict:
    total = sum(held)
    if not total:
        return {}
    out, seen = {}, 0
    marks = {"lag_ms_p50": total * 0.5, "lag_ms_p99": total * 0.99}
    for ms, count in enumerate(held):
        seen += count
        for key, mark in list(marks.items()):
            if seen >= mark:
                out[key] = float(ms)
                del marks[key]
        if count:
            out["lag_ms_max"] = float(ms)
    return out


async def _one(client, n: int, rate: float, seq: int, extra: str, held: list[int]) -> tuple[int, bool]:
    form_data = {"model": sl.MODEL_OWUI, "stream": True}
    counter = [0]
    check = Checker(held)
    res = await client.start(n, rate, seq, extra)
    async for chunk in sl.owui_stream_content(res, form_data, counter):
        check.chunk(chunk, rate)
    return counter[0], check.ok and check.next == n


async def run(client, streams: int, n: int, rate: float, extra: str, fake_pid: int) -> dict:
    """`streams` concurrent answers; CPU, loop lag, RSS growth, errors, text integrity."""
    gc.collect()
    rss0 = sl.rss_mb()
    held = [0] * HELD_BINS
    load0 = os.getloadavg()[0]
    c0 = sl.ctx_switches()
    with Probe() as probe:
        w0, p0, t0, f0 = time.perf_counter(), time.process_time(), time.thread_time(), sl.proc_cpu_seconds(fake_pid)
        outcomes = await asyncio.wait_for(
            asyncio.gather(*(_one(client, n, rate, i, extra, held) for i in range(streams)), return_exceptions=True),
            sl.RUN_TIMEOUT_S,
        )
        w1, p1, t1, f1 = time.perf_counter(), time.process_time(), time.thread_time(), sl.proc_cpu_seconds(fake_pid)
        lag = await probe.stop()
    c1 = sl.ctx_switches()
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    deltas = streams * n
    return {
        "client": client.label,
        "streams": streams,
        "deltas_per_stream": n,
        "rate": rate or "full",
        "directive_extra": extra,
        "errors": len(errors),
        "error_examples": [repr(e)[:200] for e in errors[:3]],
        "text_intact": sum(1 for _, ok in done if ok),
        "items_per_stream": statistics.mean(i for i, _ in done) if done else 0,
        "cpu_us_per_delta": (p1 - p0) / deltas * 1e6,
        "loop_thread_us_per_delta": (t1 - t0) / deltas * 1e6,
        "other_threads_us_per_delta": ((p1 - p0) - (t1 - t0)) / deltas * 1e6,
        "ctx_switches_per_delta": (c1 - c0) / deltas,
        "wall_s": w1 - w0,
        "fake_cpu_s": f1 - f0,
        "loadavg_1m_before": load0,
        "rss_mb_before": rss0,
        "rss_mb_peak": probe.rss_peak,
        "rss_kib_per_stream": (probe.rss_peak - rss0) * 1024 / streams,
        "threads_at_end": sl.thread_count(),
        **lag,
        **_held_summary(held),
    }


async def write_patterns(clients: list, streams: int, n: int, rate: float, reps: int, fake_pid: int) -> list[dict]:
    """Each pattern through each client, warm-up first; full-speed runs repeated (median shown)."""
    rows = []
    for label, speed, extra in PATTERNS:
        speed = rate if speed is None else speed
        for client in clients:
            await run(client, streams, max(20, n // 20) if speed else n, speed, extra, fake_pid)
            runs = [await run(client, streams, n, speed, extra, fake_pid) for _ in range(reps if not speed else 1)]
            runs.sort(key=lambda r: r["cpu_us_per_delta"])
            row = dict(runs[len(runs) // 2], pattern=label, reps=len(runs))
            row["cpu_us_per_delta_min"] = runs[0]["cpu_us_per_delta"]
            row["cpu_us_per_delta_max"] = runs[-1]["cpu_us_per_delta"]
            rows.append(row)
            print(
                f"  {label:<34} {row['client']:<26} {row['cpu_us_per_delta']:.2f} µs/delta "
                f"errors={row['errors']} intact={row['text_intact']}/{streams}",
                flush=True,
            )
    return rows


async def concurrency_sweep(clients: list, counts: list[int], n: int, rate: float, fake_pid: int) -> list[dict]:
    """Paced streams at each concurrency, every pipe run before any bare-client run (so the pipe's
    memory growth is measured against an RSS the bigger bare runs have not inflated)."""
    rows = []
    for client in clients:
        for streams in counts:
            row = await run(client, streams, n, rate, "", fake_pid)
            rows.append(row)
            print(
                f"  sweep {row['client']:<26} streams={streams:<5} {row['cpu_us_per_delta']:.2f} µs/delta "
                f"lag p99 {row['loop_lag_ms_p99']:.2f} ms, {row['rss_kib_per_stream']:.1f} KiB/stream, "
                f"errors={row['errors']} intact={row['text_intact']}/{streams} wall={row['wall_s']:.1f} s",
                flush=True,
            )
    return rows


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.3f}" if a and b else "-"


def report(limits: dict) -> str:
    fmt = sl.fmt_table
    parts = []
    p = limits["patterns"]
    rows = p["rows"]
    by = {(r["pattern"], r["client"]): r for r in rows}
    pipe, bare = p["pipe_label"], p["bare_label"]
    batched = by.get((PATTERNS[1][0], pipe))
    parts.append(
        f"\nWrite patterns: {p['streams']} streams x {p['deltas']:,} deltas; CPU µs per delta (pipe process, "
        "all threads), bare aiohttp client in the same run"
    )
    table = []
    for label, _, _ in PATTERNS:
        a, b = by.get((label, pipe)), by.get((label, bare))
        if not a or not b:
            continue
        table.append(
            [
                label,
                a["cpu_us_per_delta"],
                b["cpu_us_per_delta"],
                _ratio(a["cpu_us_per_delta"], b["cpu_us_per_delta"]),
                _ratio(a["cpu_us_per_delta"], batched and batched["cpu_us_per_delta"]),
                a["ctx_switches_per_delta"],
                a["items_per_stream"],
                sl.held_cell(a),
                f"{a['text_intact']}/{p['streams']}",
                a["errors"] + b["errors"],
                f"{a['fake_cpu_s']:.2f}/{b['fake_cpu_s']:.2f}",
            ]
        )
    parts.append(
        fmt(
            [
                "upstream writes",
                "pipe",
                "bare aiohttp",
                "pipe/aiohttp",
                "pipe/batched",
                "pipe ctx sw/delta",
                "pipe items/stream",
                "pipe held ms p50/p99/max",
                "text intact",
                "errors",
                "fake CPU s",
            ],
            table,
        )
    )
    s = limits["sweep"]
    parts.append(
        f"\nConcurrency sweep: {s['deltas']:,} deltas per stream at {s['rate']:g} deltas/s, one process; "
        f"loop lag = how late a {TICK_S * 1e3:g} ms timer wakes; RSS growth = peak during the run - RSS before"
    )
    bare_at = {r["streams"]: r for r in s["rows"] if r["client"] == s["bare_label"]}
    parts.append(
        fmt(
            [
                "client",
                "streams",
                "CPU µs/delta",
                "vs aiohttp",
                "loop thread",
                "loop lag ms p50/p99/max",
                "RSS MiB before",
                "KiB/stream",
                "held ms p50/p99/max",
                "errors",
                "text intact",
                "wall s",
                "fake CPU s",
                "load",
            ],
            [
                [
                    r["client"],
                    r["streams"],
                    r["cpu_us_per_delta"],
                    _ratio(r["cpu_us_per_delta"], (bare_at.get(r["streams"]) or {}).get("cpu_us_per_delta"))
                    if r["client"] != s["bare_label"]
                    else "",
                    r["loop_thread_us_per_delta"],
                    f"{r['loop_lag_ms_p50']:.2f}/{r['loop_lag_ms_p99']:.2f}/{r['loop_lag_ms_max']:.1f}",
                    r["rss_mb_before"],
                    r["rss_kib_per_stream"],
                    sl.held_cell(r),
                    r["errors"],
                    f"{r['text_intact']}/{r['streams']}",
                    r["wall_s"],
                    r["fake_cpu_s"],
                    r["loadavg_1m_before"],
                ]
                for r in s["rows"]
            ],
        )
    )
    return "\n".join(parts)


async def run_all(module, base: str, fake_pid: int, quick: bool, n: int, rate: float, args: Any) -> dict:
    """Both sections; the sweep's clients admit every stream at once (MAX_CONCURRENT_REQUESTS)."""
    fd_limit = raise_fd_limit()
    counts = [int(c) for c in (args.sweep or ("1,50,200" if quick else "1,50,200,1000")).split(",")]
    big = max(counts)
    valves = {"MAX_CONCURRENT_REQUESTS": min(2000, max(200, big)), "MAX_QUEUED_REQUESTS": max(500, big)}
    pipe = sl.PipeClient(module, base, 40, "pipe (coalesce 40 ms)", valves)
    bare = sl.AiohttpClient(base, limit=max(200, big))
    streams = 5 if quick else 50
    try:
        patterns = await write_patterns([pipe, bare], streams, n, rate, 2 if quick else 3, fake_pid)
        sweep_n = args.sweep_deltas or (100 if quick else 500)
        sweep = await concurrency_sweep([pipe, bare], counts, sweep_n, rate, fake_pid)
    finally:
        await bare.close()
    return {
        "fd_limit": fd_limit,
        "patterns": {
            "streams": streams,
            "deltas": n,
            "pipe_label": pipe.label,
            "bare_label": bare.label,
            "rows": patterns,
        },
        "sweep": {"deltas": sweep_n, "rate": rate, "bare_label": bare.label, "valves": valves, "rows": sweep},
    }
