#!/usr/bin/env python3
"""Streaming load benchmark of the openrouter-pipe Function, as Open WebUI 0.12.4 runs it.

Run with the Open WebUI venv's python (it needs open_webui, the installed openrouter_pipe
wheel, aiohttp and httpx):

    ~/.cache/openrouter-pipe/owui-venv-0.12.4/bin/python bench/stream_load.py           # full (~6 min)
    ~/.cache/openrouter-pipe/owui-venv-0.12.4/bin/python bench/stream_load.py --quick   # smoke (~30 s)

What it does
------------
* Starts the fake OpenRouter (``fake_openrouter/server.py``) in its own process on 127.0.0.1
  and drives it with ``[[fake synth=N rate=R]]`` directives in the user message.
* Loads ``function/openrouter.py`` the way Open WebUI does (``exec`` into a fresh module named
  ``function_openrouter_<32 hex>``) and calls ``Pipe.pipe(body, __user__, __metadata__,
  __event_emitter__, __task__)`` with ``stream: True``.
* Applies Open WebUI's own per-item handling to every item the pipe yields: ``process_line``
  is taken verbatim from the installed ``open_webui/functions.py`` (extracted from the source
  and executed with Open WebUI's own ``JSONCodec`` and ``openai_chat_chunk_message_template``),
  inside a replica of the ``stream_content`` loop (``async for line in res: yield
  process_line(...)`` then the finish chunk and ``[DONE]``).
* Measures pipe-process CPU (``time.process_time()``: every thread, the Rust engine's tokio
  workers included; the event-loop thread alone via ``time.thread_time()``) per streamed delta,
  items Open WebUI receives per stream, fixed CPU per request, and time to first token; the
  same for two bare Python clients (aiohttp and httpx + ``json.loads`` per event, yielding each
  delta as a ``str`` through the same ``process_line``), and Open WebUI's handling alone.
* Prints tables and writes ``bench/results.json`` (``bench/results.quick.json`` with --quick).

Everything is bounded (fixed request counts, per-run timeouts) and loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import importlib.metadata as md
import json
import os
import platform
import re
import resource
import statistics
import sys
import tempfile
import textwrap
import time
import types
import uuid
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FUNCTION_FILE = REPO / "function" / "openrouter.py"
BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))

from fake_openrouter.client import FakeOpenRouter  # noqa: E402

sys.modules.setdefault("stream_load", sys.modules[__name__])  # stream_limits imports this module by name
import stream_limits  # noqa: E402

MODEL_OWUI = "openrouter.openai.gpt-4o-mini"  # what Open WebUI puts in body["model"]
MODEL_OR = "openai/gpt-4o-mini"  # what a bare client sends to OpenRouter
API_KEY = "sk-or-bench-0123456789abcdef"
RUN_TIMEOUT_S = 300.0  # hard bound on any single scenario run

TARGETS = {
    "cpu_per_delta_us_50_full": 1.5,
    "chunks_per_20_deltas_full": 1.0,
    "cpu_per_delta_us_50_rate100": 10.0,
    "fixed_cpu_ms_per_request": 0.5,
    "ttft_over_bare_ms": 1.0,
}


# ---------------------------------------------------------------------------------------------
# Open WebUI's per-item handling


def _import_open_webui():
    """JSONCodec and the chunk template from open_webui (importing ``open_webui.env`` needs a
    secret key and reads DATA_DIR; both point at throwaway values here)."""
    os.environ.setdefault("WEBUI_SECRET_KEY", "bench-" + uuid.uuid4().hex)
    os.environ.setdefault("DATA_DIR", tempfile.mkdtemp(prefix="owui-bench-data-"))
    os.environ.setdefault("GLOBAL_LOG_LEVEL", "ERROR")
    from open_webui.utils.json_codec import JSONCodec
    from open_webui.utils.misc import openai_chat_chunk_message_template

    return JSONCodec, openai_chat_chunk_message_template


JSONCodec, openai_chat_chunk_message_template = _import_open_webui()
from pydantic import BaseModel  # noqa: E402  (what functions.py's isinstance check uses)


# Fallback copy of open_webui/functions.py (0.12.4) `process_line`, used only if the source
# cannot be extracted from the installed package; checked against it when it can.
# fmt: off
def process_line(form_data: dict, line):
    if isinstance(line, BaseModel):
        line = line.model_dump_json()
        line = f'data: {line}'
    if isinstance(line, dict):
        line = f'data: {JSONCodec.dumps(line)}'

    try:
        line = line.decode('utf-8')
    except Exception:
        pass

    if line.startswith('data:'):
        return f'{line}\n\n'
    else:
        line = openai_chat_chunk_message_template(form_data['model'], line)
        return f'data: {JSONCodec.dumps(line)}\n\n'
# fmt: on


def _owui_process_line():
    """(process_line, provenance): Open WebUI's own function, executed from its source."""
    import importlib.util

    spec = importlib.util.find_spec("open_webui")
    path = Path(spec.submodule_search_locations[0]) / "functions.py"
    text = path.read_text(encoding="utf-8")
    m = re.search(r"\n( +)def process_line\(form_data: dict, line\):\n(.*?)\n\1def ", text, re.S)
    if not m:
        return process_line, f"fallback copy (process_line not found in {path})"
    src = textwrap.dedent(m.group(0)[1 : -len(m.group(1)) - 4]).rstrip() + "\n"
    ns = {
        "BaseModel": BaseModel,
        "JSONCodec": JSONCodec,
        "openai_chat_chunk_message_template": openai_chat_chunk_message_template,
    }
    exec(compile(src, f"<{path}:process_line>", "exec"), ns)
    import inspect

    mine = inspect.getsource(process_line).rstrip() + "\n"
    same = mine == src
    return ns[
        "process_line"
    ], f"extracted from {path} ({'identical to' if same else 'DIFFERS from'} the copy in this script)"


OWUI_PROCESS_LINE, PROCESS_LINE_SOURCE = _owui_process_line()


# fmt: off
async def owui_stream_content(res: Any, form_data: dict, counter: list[int]):
    """The streaming half of ``generate_function_chat_completion``'s ``stream_content``
    for an async-generator result; ``counter[0]`` counts items the pipe yielded."""
    if isinstance(res, str):
        message = openai_chat_chunk_message_template(form_data['model'], res)
        yield f'data: {JSONCodec.dumps(message)}\n\n'
    if isinstance(res, AsyncGenerator):
        async for line in res:
            counter[0] += 1
            yield OWUI_PROCESS_LINE(form_data, line)
    finish_message = openai_chat_chunk_message_template(form_data['model'], '')
    finish_message['choices'][0]['finish_reason'] = 'stop'
    yield f'data: {JSONCodec.dumps(finish_message)}\n\n'
    yield 'data: [DONE]'
# fmt: on


# ---------------------------------------------------------------------------------------------
# The clients under test: the Function, and two bare Python clients


def load_function_module() -> types.ModuleType:
    """Executes the Function file as Open WebUI 0.12.4 does (fresh module, unique name)."""
    name = f"function_openrouter_{uuid.uuid4().hex}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(FUNCTION_FILE.read_text(encoding="utf-8"), f"<{name}>", "exec"), module.__dict__)
    return module


def directive(n: int, rate: float, extra: str = "") -> str:
    """`extra`: more directive keys, e.g. `per_event=1` (one SSE event per write at full speed)."""
    return f"[[fake synth={n}" + (f" rate={rate:g}" if rate else "") + (f" {extra}" if extra else "") + "]]"


def owui_body(n: int, rate: float, extra: str = "") -> dict:
    return {
        "model": MODEL_OWUI,
        "stream": True,
        "messages": [{"role": "user", "content": "Benchmark please. " + directive(n, rate, extra)}],
    }


def responses_body(n: int, rate: float, extra: str = "") -> dict:
    return {
        "model": MODEL_OR,
        "stream": True,
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Benchmark please. " + directive(n, rate, extra)}],
            }
        ],
    }


async def _noop_emitter(event: dict) -> None:
    return None


class PipeClient:
    """The Function (Rust engine) with a given coalescing window."""

    def __init__(
        self, module: types.ModuleType, base_url: str, window_ms: int, label: str, valves: dict | None = None
    ):
        self.label = label
        self.pipe = module.Pipe()
        # BENCH_PIPE_VALVES: more valves as a JSON object (e.g. session-log archives on, #14).
        extra = {**(valves or {}), **json.loads(os.environ.get("BENCH_PIPE_VALVES") or "{}")}
        self.pipe.valves = module.Pipe.Valves(
            API_KEY=API_KEY, BASE_URL=base_url, STREAM_COALESCE_WINDOW_MS=window_ms, **extra
        )

    async def start(self, n: int, rate: float, seq: int, extra: str = ""):
        return await self.pipe.pipe(
            owui_body(n, rate, extra),
            __user__={"id": "bench-user", "name": "Bench", "role": "user"},
            __metadata__={"chat_id": f"chat-{seq}", "message_id": f"msg-{seq}", "session_id": "bench"},
            __event_emitter__=_noop_emitter,
            __task__=None,
        )

    async def close(self):
        return None


class AiohttpClient:
    """A minimal pipe on aiohttp: read lines, ``json.loads`` each event, yield each text delta."""

    label = "bare aiohttp + json.loads"

    def __init__(self, base_url: str, limit: int = 200):
        import aiohttp

        self.url = base_url + "/responses"
        self.headers = {"Authorization": f"Bearer {API_KEY}"}
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit))

    async def start(self, n: int, rate: float, seq: int, extra: str = ""):
        body = responses_body(n, rate, extra)

        async def gen():
            async with self.session.post(self.url, json=body, headers=self.headers) as resp:
                async for raw in resp.content:
                    if not raw.startswith(b"data: "):
                        continue
                    data = raw[6:].strip()
                    if data == b"[DONE]":
                        continue  # read on to the end of the body so the connection is reused
                    event = json.loads(data)
                    if event.get("type") == "response.output_text.delta":
                        yield event["delta"]

        return gen()

    async def close(self):
        await self.session.close()


class HttpxClient:
    """The same minimal pipe on httpx."""

    label = "bare httpx + json.loads"

    def __init__(self, base_url: str):
        import httpx

        self.url = base_url + "/responses"
        self.headers = {"Authorization": f"Bearer {API_KEY}"}
        self.client = httpx.AsyncClient(
            timeout=60.0, limits=httpx.Limits(max_connections=200, max_keepalive_connections=200)
        )

    async def start(self, n: int, rate: float, seq: int, extra: str = ""):
        body = responses_body(n, rate, extra)

        async def gen():
            async with self.client.stream("POST", self.url, json=body, headers=self.headers) as resp:
                async for line in resp.aiter_lines():
                    if not line.startswith("data: "):
                        continue
                    data = line[6:]
                    if data == "[DONE]":
                        continue  # read on to the end of the body so the connection is reused
                    event = json.loads(data)
                    if event.get("type") == "response.output_text.delta":
                        yield event["delta"]

        return gen()

    async def close(self):
        await self.client.aclose()


# ---------------------------------------------------------------------------------------------
# Measurement


def ctx_switches() -> int:
    """Voluntary + involuntary context switches of this process, every thread (dead ones too)."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_nvcsw + ru.ru_nivcsw


def thread_count() -> int:
    """Threads of this process now (event loop + the engine's tokio workers and blocking pool)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return -1


def proc_cpu_seconds(pid: int) -> float:
    """utime+stime of another process (the fake), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


_TOKEN = re.compile(r"tok(\d+) ")


async def one_stream(client, n: int, rate: float, seq: int, lags: list[float] | None = None) -> int:
    """One request through Open WebUI's loop; returns the items the client yielded.

    With `lags`, a paced stream also records how late each chunk reached Open WebUI: the
    fake sends `tokK` K/rate seconds after `tok0` (which no client holds back), so a chunk
    starting with `tokK` that arrives `d` seconds after `tok0` held its oldest delta for
    `d - K/rate`."""
    form_data = {"model": MODEL_OWUI, "stream": True}
    counter = [0]
    first = None
    res = await client.start(n, rate, seq)
    async for chunk in owui_stream_content(res, form_data, counter):
        if lags is None or not rate:
            continue
        found = _TOKEN.findall(chunk)
        if not found:
            continue
        now = time.perf_counter()
        if first is None:
            first = now
        lags.append(now - first - int(found[0]) / rate)
    return counter[0]


async def run_streams(client, streams: int, n: int, rate: float, fake_pid: int) -> dict:
    """`streams` concurrent requests of `n` deltas each; CPU and wall over the whole run."""
    gc.collect()
    load0 = os.getloadavg()[0]
    c0 = ctx_switches()
    w0, p0, t0, f0 = time.perf_counter(), time.process_time(), time.thread_time(), proc_cpu_seconds(fake_pid)
    lags: list[float] = []
    items = await asyncio.wait_for(
        asyncio.gather(*(one_stream(client, n, rate, i, lags) for i in range(streams))), RUN_TIMEOUT_S
    )
    w1, p1, t1, f1 = time.perf_counter(), time.process_time(), time.thread_time(), proc_cpu_seconds(fake_pid)
    c1 = ctx_switches()
    deltas = streams * n
    return {
        "threads_at_end": thread_count(),
        "loadavg_1m_before": load0,
        "ctx_switches_per_delta": (c1 - c0) / deltas,
        "wall_s": w1 - w0,
        "cpu_s": p1 - p0,
        "loop_thread_cpu_s": t1 - t0,
        "fake_cpu_s": f1 - f0,
        "cpu_us_per_delta": (p1 - p0) / deltas * 1e6,
        "loop_thread_us_per_delta": (t1 - t0) / deltas * 1e6,
        "other_threads_us_per_delta": ((p1 - p0) - (t1 - t0)) / deltas * 1e6,
        "items_per_stream": statistics.mean(items),
        "items_per_stream_max": max(items),
        "chunks_per_20_deltas": statistics.mean(items) / n * 20,
        **lag_summary(lags),
    }


def held_cell(r: dict) -> str:
    if "lag_ms_p50" not in r:
        return "-"
    return f"{r['lag_ms_p50']:.0f}/{r['lag_ms_p99']:.0f}/{r['lag_ms_max']:.0f}"


def lag_summary(lags: list[float]) -> dict:
    """Hold latency of paced chunks (see `one_stream`), in ms."""
    if not lags:
        return {}
    lags = sorted(lags)
    return {
        "lag_ms_p50": lags[len(lags) // 2] * 1e3,
        "lag_ms_p99": lags[(len(lags) * 99) // 100] * 1e3,
        "lag_ms_max": lags[-1] * 1e3,
    }


async def scenario(client, streams: int, n: int, rate: float, reps: int, fake_pid: int) -> dict:
    """Warm-up at the same concurrency (pool, catalog), then `reps` measured runs; the run with
    the median CPU per delta is reported, with the min/max alongside."""
    await run_streams(client, streams, n if not rate else max(20, n // 20), rate, fake_pid)
    runs = [await run_streams(client, streams, n, rate, fake_pid) for _ in range(reps)]
    runs.sort(key=lambda r: r["cpu_us_per_delta"])
    out = dict(runs[len(runs) // 2])
    out.update(
        client=client.label,
        streams=streams,
        deltas_per_stream=n,
        rate=rate or "full",
        reps=reps,
        cpu_us_per_delta_min=runs[0]["cpu_us_per_delta"],
        cpu_us_per_delta_max=runs[-1]["cpu_us_per_delta"],
    )
    return out


def _is_content(item: str) -> bool:
    if not item.startswith("data: "):
        return True  # a bare client yields the text itself
    try:
        payload = json.loads(item[6:])
    except ValueError:
        return False
    choices = payload.get("choices") or []
    return bool(choices and (choices[0].get("delta") or {}).get("content"))


async def ttft(client, count: int) -> dict:
    """Wall time from calling the client to its first content item (1-delta stream sent at
    once), `count` sequential requests after a warm-up; the rest of each stream is drained."""
    samples = []
    for i in range(count + 3):
        t0 = time.perf_counter()
        res = await client.start(1, 0, i)
        first = None
        async for item in res:
            now = time.perf_counter()
            if first is None and _is_content(item):
                first = now - t0
        if i >= 3 and first is not None:
            samples.append(first * 1e3)
    samples.sort()
    return {
        "client": client.label,
        "requests": len(samples),
        "median_ms": statistics.median(samples),
        "p10_ms": samples[len(samples) // 10],
        "p90_ms": samples[(len(samples) * 9) // 10],
        "min_ms": samples[0],
    }


async def fixed_cost(client, count: int, fake_pid: int, rounds: int = 3) -> dict:
    """Process CPU per request for a 1-delta stream: `rounds` rounds of `count` sequential
    requests through Open WebUI's loop after a warm-up; the round with the median CPU is shown."""
    for i in range(5):
        await one_stream(client, 1, 0, i)
    results = []
    for _ in range(rounds):
        gc.collect()
        c0 = ctx_switches()
        w0, p0, t0 = time.perf_counter(), time.process_time(), time.thread_time()
        for i in range(count):
            await one_stream(client, 1, 0, i)
        w1, p1, t1 = time.perf_counter(), time.process_time(), time.thread_time()
        c1 = ctx_switches()
        results.append(
            {
                "client": client.label,
                "requests": count,
                "rounds": rounds,
                "ctx_switches_per_request": (c1 - c0) / count,
                "cpu_ms_per_request": (p1 - p0) / count * 1e3,
                "loop_thread_ms_per_request": (t1 - t0) / count * 1e3,
                "other_threads_ms_per_request": ((p1 - p0) - (t1 - t0)) / count * 1e3,
                "wall_ms_per_request": (w1 - w0) / count * 1e3,
            }
        )
    results.sort(key=lambda r: r["cpu_ms_per_request"])
    out = dict(results[len(results) // 2])
    out["cpu_ms_per_request_min"] = results[0]["cpu_ms_per_request"]
    out["cpu_ms_per_request_max"] = results[-1]["cpu_ms_per_request"]
    return out


def rss_mb() -> float:
    """Resident memory of this process now, MiB."""
    with open("/proc/self/statm", encoding="ascii") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def memory_soak(client, fake_pid: int, rounds: int, streams: int, n: int) -> dict:
    """Resident memory across `rounds` of `streams` concurrent full-speed `n`-delta answers plus
    200 sequential short ones: a leak shows as growth that continues after the first rounds."""
    gc.collect()
    samples = [rss_mb()]
    for _ in range(rounds):
        await run_streams(client, streams, n, 0, fake_pid)
        for i in range(200):
            await one_stream(client, 1, 0, i)
        gc.collect()
        samples.append(rss_mb())
    half = len(samples) // 2
    return {
        "client": client.label,
        "rounds": rounds,
        "requests_per_round": streams + 200,
        "rss_mb": samples,
        "rss_mb_start": samples[0],
        "rss_mb_peak": max(samples),
        "growth_mb_second_half": samples[-1] - samples[half],
    }


async def owui_alone(count: int) -> list[dict]:
    """Open WebUI's handling alone: the stream_content loop + process_line over pre-built items
    (no network, no pipe), per item."""
    form_data = {"model": MODEL_OWUI, "stream": True}
    head, tail = (
        'data: {"choices":[{"delta":{"content":"',
        '"},"finish_reason":null,"index":0}],"object":"chat.completion.chunk"}',
    )
    samples = {
        "pipe item, 1 token (coalescing off)": head + "tok123 " + tail,
        "pipe item, 300 tokens (coalesced)": head + "tok123 " * 300 + tail,
        "bare client str delta": "tok123 ",
    }
    out = []
    for label, item in samples.items():
        items = [item] * count

        async def source():
            for it in items:
                yield it

        gc.collect()
        p0 = time.process_time()
        async for _ in owui_stream_content(source(), form_data, [0]):
            pass
        p1 = time.process_time()
        for it in items:  # process_line alone, no generators
            OWUI_PROCESS_LINE(form_data, it)
        p2 = time.process_time()
        out.append(
            {
                "item": label,
                "items": count,
                "loop_and_process_line_us": (p1 - p0) / count * 1e6,
                "process_line_only_us": (p2 - p1) / count * 1e6,
            }
        )
    return out


async def window_sweep(
    module, base_url: str, windows: list[int], streams: int, n: int, rate: float, fake_pid: int
) -> dict:
    """Paced streams at several coalescing windows. Fewer items cross into Python as the window
    grows while the network reads stay the same, so a straight-line fit of CPU against items
    splits the cost into a per-item crossing cost and a per-delta floor."""
    points = []
    for window in windows:
        client = PipeClient(module, base_url, window, f"pipe (coalesce {window} ms)")
        r = await scenario(client, streams, n, rate, 1, fake_pid)
        r["window_ms"] = window
        points.append(r)
        print(
            f"  sweep window={window:<5} items/stream={r['items_per_stream']:.1f} "
            f"cpu/delta={r['cpu_us_per_delta']:.2f} µs",
            flush=True,
        )
    fit = statistics.linear_regression([p["items_per_stream"] * streams for p in points], [p["cpu_s"] for p in points])
    return {
        "streams": streams,
        "deltas_per_stream": n,
        "rate": rate,
        "points": points,
        "cpu_us_per_item_crossing": fit.slope * 1e6,
        "cpu_us_per_delta_with_no_items": fit.intercept / (streams * n) * 1e6,
    }


async def validate(module, base_url: str, n: int) -> dict:
    """Correctness check outside the timed runs: text arrives whole and in order."""
    expected = "".join(f"tok{i} " for i in range(n))
    out = {}
    for window in (40, 0):
        client = PipeClient(module, base_url, window, "")
        res = await client.start(n, 0, 0)
        items = [item async for item in res]
        text, content_items, other = "", 0, []
        for item in items:
            payload = json.loads(item[6:])
            choices = payload.get("choices") or []
            if choices and choices[0].get("delta", {}).get("content"):
                text += choices[0]["delta"]["content"]
                content_items += 1
            else:
                other.append(next(iter(payload)))
        out[f"window_{window}ms"] = {
            "items": len(items),
            "content_items": content_items,
            "other_items": other,
            "text_ok": text == expected,
        }
    return out


# ---------------------------------------------------------------------------------------------
# Reporting


def machine_info(loop_name: str) -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def version(dist: str) -> str:
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            return "not installed"

    import hashlib
    import subprocess

    try:
        import openrouter_pipe._native as native

        native_sha = hashlib.sha256(Path(native.__file__).read_bytes()).hexdigest()[:12]
    except (ImportError, OSError):
        native_sha = "unknown"
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head = "unknown"
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git_head": head,
        "native_module_sha256": native_sha,
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "event_loop": loop_name,
        "open_webui": version("open-webui"),
        "openrouter_pipe": version("openrouter_pipe"),
        "aiohttp": version("aiohttp"),
        "httpx": version("httpx"),
        "json_codec": f"{JSONCodec.__module__}.{getattr(JSONCodec, '__name__', type(JSONCodec).__name__)}",
        "process_line": PROCESS_LINE_SOURCE,
        "tokio_worker_threads": os.environ.get("OPENROUTER_PIPE_WORKER_THREADS", "2 (default)"),
    }


def fmt_table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[h for h in headers]] + [
        [c if isinstance(c, str) else f"{c:,.2f}" if isinstance(c, float) else str(c) for c in r] for r in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: list[str]) -> str:
        return "| " + " | ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def report(results: dict) -> str:
    parts = []
    rows = [
        [
            r["client"],
            r["streams"],
            r["rate"] if r["rate"] == "full" else f"{r['rate']:g}/s",
            r["cpu_us_per_delta"],
            r["loop_thread_us_per_delta"],
            r["other_threads_us_per_delta"],
            r["items_per_stream"],
            r["chunks_per_20_deltas"],
            r["ctx_switches_per_delta"],
            held_cell(r),
            r["threads_at_end"],
            r["wall_s"],
            r["fake_cpu_s"],
            r["loadavg_1m_before"],
        ]
        for r in results["streaming"]
    ]
    parts.append(
        f"Streaming: {results['params']['deltas']:,} deltas per stream; CPU = pipe process (all threads) "
        "per delta, Open WebUI's process_line loop included"
    )
    parts.append(
        fmt_table(
            [
                "client",
                "streams",
                "speed",
                "CPU µs/delta",
                "loop thread",
                "other threads",
                "items/stream",
                "chunks/20 deltas",
                "ctx sw/delta",
                "held ms p50/p99/max",
                "threads",
                "wall s",
                "fake CPU s",
                "load",
            ],
            rows,
        )
    )
    sw = results["window_sweep"]
    parts.append(
        f"\nCoalescing window sweep: pipe, {sw['streams']} streams x {sw['deltas_per_stream']} deltas at "
        f"{sw['rate']:g} deltas/s"
    )
    parts.append(
        fmt_table(
            [
                "window ms",
                "items/stream",
                "chunks/20 deltas",
                "CPU µs/delta",
                "loop thread",
                "other threads",
                "ctx sw/delta",
                "held ms p50/p99/max",
            ],
            [
                [
                    str(p["window_ms"]),
                    p["items_per_stream"],
                    p["chunks_per_20_deltas"],
                    p["cpu_us_per_delta"],
                    p["loop_thread_us_per_delta"],
                    p["other_threads_us_per_delta"],
                    p["ctx_switches_per_delta"],
                    held_cell(p),
                ]
                for p in sw["points"]
            ],
        )
    )
    parts.append(
        f"fit: {sw['cpu_us_per_item_crossing']:.1f} µs CPU per item that crosses into Python (Open WebUI "
        f"handling included) + {sw['cpu_us_per_delta_with_no_items']:.1f} µs per delta with no crossings"
    )
    parts.append("\nFixed cost per request (1-delta stream, sequential; median round)")
    parts.append(
        fmt_table(
            [
                "client",
                "requests x rounds",
                "CPU ms/req",
                "rounds min-max",
                "loop thread",
                "other threads",
                "ctx sw/req",
                "wall ms/req",
            ],
            [
                [
                    r["client"],
                    f"{r['requests']} x {r['rounds']}",
                    r["cpu_ms_per_request"],
                    f"{r['cpu_ms_per_request_min']:.2f}-{r['cpu_ms_per_request_max']:.2f}",
                    r["loop_thread_ms_per_request"],
                    r["other_threads_ms_per_request"],
                    r["ctx_switches_per_request"],
                    r["wall_ms_per_request"],
                ]
                for r in results["fixed_cost"]
            ],
        )
    )
    parts.append("\nMemory: resident set of the pipe process after each round (concurrent answers + 200 short)")
    parts.append(
        fmt_table(
            ["client", "rounds", "requests/round", "RSS MiB start", "peak", "growth, 2nd half", "per round"],
            [
                [
                    r["client"],
                    r["rounds"],
                    r["requests_per_round"],
                    r["rss_mb_start"],
                    r["rss_mb_peak"],
                    r["growth_mb_second_half"],
                    " ".join(f"{x:.0f}" for x in r["rss_mb"]),
                ]
                for r in results.get("memory", [])
            ],
        )
    )
    parts.append("\nTime to first content item (1-delta stream sent at once; from the call to the first item)")
    parts.append(
        fmt_table(
            ["client", "requests", "median ms", "p10 ms", "p90 ms", "min ms"],
            [
                [r["client"], r["requests"], r["median_ms"], r["p10_ms"], r["p90_ms"], r["min_ms"]]
                for r in results["ttft"]
            ],
        )
    )
    parts.append("\nOpen WebUI's handling alone (stream_content loop + process_line), per item")
    parts.append(
        fmt_table(
            ["item", "items", "loop + process_line µs", "process_line only µs"],
            [
                [r["item"], r["items"], r["loop_and_process_line_us"], r["process_line_only_us"]]
                for r in results["owui_alone"]
            ],
        )
    )
    parts.append("\nTargets")
    parts.append(
        fmt_table(
            ["target", "limit", "measured", "ok"],
            [[t["name"], t["limit"], t["measured"], "yes" if t["ok"] else "NO"] for t in results["targets"]],
        )
    )
    return "\n".join(parts)


def check_targets(results: dict) -> list[dict]:
    def find(client, streams, rate):
        for r in results["streaming"]:
            if r["client"] == client and r["streams"] == streams and r["rate"] == rate:
                return r
        return None

    pipe = "pipe (coalesce 40 ms)"
    big = max(r["streams"] for r in results["streaming"])
    full, paced = find(pipe, big, "full"), find(pipe, big, results["params"]["rate"])
    fixed = next(r for r in results["fixed_cost"] if r["client"] == pipe)
    t_pipe = next(r for r in results["ttft"] if r["client"] == pipe)
    t_bare = next(r for r in results["ttft"] if r["client"] == AiohttpClient.label)
    checks = [
        (
            f"CPU µs/delta, {big} streams, full speed",
            TARGETS["cpu_per_delta_us_50_full"],
            full and full["cpu_us_per_delta"],
        ),
        (
            f"chunks per 20 deltas, {big} streams, full speed",
            TARGETS["chunks_per_20_deltas_full"],
            full and full["chunks_per_20_deltas"],
        ),
        (
            f"CPU µs/delta, {big} streams, {results['params']['rate']:g} deltas/s",
            TARGETS["cpu_per_delta_us_50_rate100"],
            paced and paced["cpu_us_per_delta"],
        ),
        ("fixed CPU ms per request", TARGETS["fixed_cpu_ms_per_request"], fixed["cpu_ms_per_request"]),
        (
            "TTFT over bare aiohttp, ms (medians)",
            TARGETS["ttft_over_bare_ms"],
            t_pipe["median_ms"] - t_bare["median_ms"],
        ),
    ]
    return [{"name": n, "limit": lim, "measured": m, "ok": m is not None and m <= lim} for n, lim, m in checks]


# ---------------------------------------------------------------------------------------------


async def amain(args) -> dict:
    quick = args.quick
    n = args.deltas or (200 if quick else 2000)
    rate = args.rate
    concurrency = [1, 5] if quick else [1, 50]
    reps_full = {1: 3 if quick else 7, concurrency[-1]: 2 if quick else 3}
    # The fake on uvloop: at 1,000 paced streams it must write 100,000 events a second.
    with FakeOpenRouter(args=["--uvloop"]) as fake:
        fake.clear()
        pid = fake.proc.pid
        module = load_function_module()
        base = fake.base_url
        validation = await validate(module, base, n)
        print("validation:", json.dumps(validation), flush=True)
        if args.sections == "limits":
            limits = await stream_limits.run_all(module, base, pid, quick, n, rate, args)
            return {"machine": machine_info(args.loop), "params": {"deltas": n, "rate": rate, "quick": quick},
                    "validation": validation, "limits": limits}
        clients = [
            PipeClient(module, base, 40, "pipe (coalesce 40 ms)"),
            PipeClient(module, base, 0, "pipe (coalesce off)"),
            AiohttpClient(base),
            HttpxClient(base),
        ]
        try:
            streaming = []
            for speed in (0, rate):
                for streams in concurrency:
                    for client in clients:
                        reps = reps_full[streams] if not speed else 1
                        r = await scenario(client, streams, n, speed, reps, pid)
                        streaming.append(r)
                        print(
                            f"  {r['client']:<28} streams={streams:<3} speed={r['rate']!s:<5} "
                            f"cpu/delta={r['cpu_us_per_delta']:.2f} µs "
                            f"items/stream={r['items_per_stream']:.1f} "
                            f"wall={r['wall_s']:.2f} s",
                            flush=True,
                        )
                        fake.clear_requests()
            sweep = await window_sweep(
                module,
                base,
                [0, 40, 1000] if quick else [0, 10, 40, 200, 1000],
                concurrency[-1],
                100 if quick else 500,
                rate,
                pid,
            )
            fake.clear_requests()
            count = 20 if quick else args.requests
            fixed = []
            for client in clients:
                fixed.append(await fixed_cost(client, count * 4, pid, 2 if quick else 3))
                print(
                    f"  fixed {fixed[-1]['client']:<28} {fixed[-1]['cpu_ms_per_request']:.3f} ms CPU/request",
                    flush=True,
                )
                fake.clear_requests()
            mem = []
            for client in (clients[0], clients[2]):
                mem.append(await memory_soak(client, pid, 3 if quick else 8, concurrency[-1], n))
                print(
                    f"  memory {mem[-1]['client']:<28} RSS MiB {' '.join(f'{x:.0f}' for x in mem[-1]['rss_mb'])}",
                    flush=True,
                )
                fake.clear_requests()
            ttfts = []
            for client in clients:
                ttfts.append(await ttft(client, count))
                print(f"  ttft  {ttfts[-1]['client']:<28} median {ttfts[-1]['median_ms']:.3f} ms", flush=True)
                fake.clear_requests()
            limits = await stream_limits.run_all(module, base, pid, quick, n, rate, args)
        finally:
            for client in clients:
                await client.close()
    alone = await owui_alone(20_000 if quick else 200_000)
    results = {
        "machine": machine_info(args.loop),
        "params": {
            "deltas": n,
            "rate": rate,
            "concurrency": concurrency,
            "reps_full_speed": reps_full,
            "quick": quick,
            "requests_fixed_cost": f"{count * 4} x {2 if quick else 3} rounds",
            "requests_ttft": count,
        },
        "validation": validation,
        "streaming": streaming,
        "window_sweep": sweep,
        "fixed_cost": fixed,
        "ttft": ttfts,
        "memory": mem,
        "owui_alone": alone,
        "limits": limits,
    }
    results["targets"] = check_targets(results)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 200 deltas, 1 and 5 streams, few requests")
    ap.add_argument("--deltas", type=int, default=0, help="deltas per stream (default 2000, quick 200)")
    ap.add_argument("--rate", type=float, default=100.0, help="paced deltas/s per stream (default 100)")
    ap.add_argument("--requests", type=int, default=50, help="TTFT samples (fixed cost uses 4x)")
    ap.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop (uvicorn, hence Open WebUI, uses uvloop when installed)",
    )
    ap.add_argument("--out", type=Path, default=None, help="results file (default bench/results[.quick].json)")
    ap.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to SECONDS for the 1-minute load average to drop below --max-load",
    )
    ap.add_argument(
        "--sections",
        choices=("all", "limits"),
        default="all",
        help="limits: only the write patterns and the concurrency sweep (stream_limits.py)",
    )
    ap.add_argument("--sweep", default="", help="concurrency sweep, e.g. 1,50,200,1000 (quick: 1,50,200)")
    ap.add_argument("--sweep-deltas", type=int, default=0, help="deltas per sweep stream (default 500, quick 100)")
    ap.add_argument("--max-load", type=float, default=0.7, help="load average considered quiet (default 0.7)")
    args = ap.parse_args()
    deadline = time.monotonic() + max(0.0, args.wait_quiet)
    while args.wait_quiet and os.getloadavg()[0] >= args.max_load and time.monotonic() < deadline:
        time.sleep(5)
    if args.wait_quiet:
        print(f"load average {os.getloadavg()[0]:.2f} at start", flush=True)
    if args.loop == "uvloop":
        try:
            import uvloop
        except ImportError:
            print("uvloop not installed; using asyncio", file=sys.stderr)
            args.loop = "asyncio"
    runner = uvloop.run if args.loop == "uvloop" else asyncio.run
    results = runner(amain(args))
    name = "results" + (".limits" if args.sections == "limits" else "") + (".quick" if args.quick else "")
    out = args.out or BENCH_DIR / (name + ".json")
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    m = results["machine"]
    print(
        f"\n{m['date']}  {m['cpus']} CPUs ({m['cpu_model']}), Python {m['python']}, {m['event_loop']}, "
        f"Open WebUI {m['open_webui']}, openrouter_pipe {m['openrouter_pipe']}, JSONCodec {m['json_codec']}"
    )
    print(f"process_line: {m['process_line']}\n")
    if "streaming" in results:
        print(report(results))
    print(stream_limits.report(results["limits"]))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
