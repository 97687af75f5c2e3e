"""Shared helpers for tests that drive the Function file against the fake OpenRouter."""

from __future__ import annotations

import json
import uuid
import sys
from typing import Any

from loader import FUNCTION_FILE, load_function, owui_module_name

SOURCE = FUNCTION_FILE.read_text(encoding="utf-8")
API_KEY = "sk-or-test-secret-0123456789"


def new_pipe(base_url: str, **valves: Any):
    """A fresh Function instance wired to `base_url`, as Open WebUI would set it up."""
    name = owui_module_name()
    module = load_function(SOURCE, name)
    sys.modules.pop(name, None)
    pipe = module.Pipe()
    pipe.valves = module.Pipe.Valves(API_KEY=API_KEY, BASE_URL=base_url, **valves)
    pipe.module = module
    return pipe


def chat_body(text: str, *, stream: bool = True, model: str = "openrouter.openai.gpt-4o-mini") -> dict:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": text}]}


def parse_lines(lines: list[str]) -> list[dict]:
    """The JSON payloads of yielded `data:` lines."""
    out = []
    for line in lines:
        assert isinstance(line, str) and line.startswith("data: "), line
        out.append(json.loads(line[len("data: ") :]))
    return out


def content_of(payloads: list[dict]) -> str:
    return "".join(p["choices"][0]["delta"].get("content") or "" for p in payloads if p.get("choices"))


def reasoning_of(payloads: list[dict]) -> str:
    return "".join(p["choices"][0]["delta"].get("reasoning_content") or "" for p in payloads if p.get("choices"))


def events_of(payloads: list[dict], kind: str) -> list[dict]:
    return [p["event"]["data"] for p in payloads if p.get("event", {}).get("type") == kind]


def usage_of(payloads: list[dict]) -> dict | None:
    usages = [p["usage"] for p in payloads if "usage" in p]
    return usages[-1] if usages else None


async def collect(pipe, body: dict, user: str | None = None, **kwargs) -> list[str]:
    """Streams one answer. Each call is its own user unless `user` says otherwise: the
    per-user request breaker lives as long as the test process, and failures tests
    provoke on purpose must not pause the next test's user."""
    user = user or f"user-{uuid.uuid4().hex[:12]}"
    result = await pipe.pipe(body, __user__={"id": user}, __metadata__={}, **kwargs)
    assert not isinstance(result, str), result
    return [line async for line in result]


async def with_loop_lag(coro) -> tuple[object, float]:
    """Runs `coro` while measuring the event loop's worst stall (seconds)."""
    import asyncio
    import time

    worst = 0.0
    done = False

    async def ticker():
        nonlocal worst
        while not done:
            t = time.perf_counter()
            await asyncio.sleep(0.005)
            worst = max(worst, time.perf_counter() - t - 0.005)

    tick = asyncio.create_task(ticker())
    try:
        result = await coro
    finally:
        done = True
        await tick
    return result, worst
