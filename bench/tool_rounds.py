"""The pipe CPU one tool round costs: engine + host crossing + the round's extra request.

Each chat asks the fake OpenRouter for a no-op tool call on every round (``[[fake
call=noop call_always=1]]``) and stops at ``MAX_FUNCTION_CALL_LOOPS``; a chat with R rounds
and one without tools are timed the same way, and

    CPU per round = (CPU(chats with R rounds) - CPU(chats with 1 round)) / (R - 1) / chats

with ``time.process_time()`` (every thread of this process: the tokio workers and the
event loop; the fake runs in its own process). Run with the Open WebUI venv's python and
the wheel installed:

    ~/.cache/openrouter-pipe/owui-venv-0.12.4/bin/python bench/tool_rounds.py [--rounds 11]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from stream_load import API_KEY, MODEL_OWUI, FakeOpenRouter, load_function_module  # noqa: E402


async def noop() -> str:
    return "ok"


TOOLS = {
    "noop": {
        "tool_id": "bench",
        "callable": noop,
        "spec": {"name": "noop", "description": "Does nothing.", "parameters": {"type": "object", "properties": {}}},
    }
}


async def one_chat(pipe, with_tools: bool) -> None:
    text = "[[fake call=noop call_always=1]] go" if with_tools else "go"
    body = {"model": MODEL_OWUI, "stream": True, "messages": [{"role": "user", "content": text}]}

    async def emitter(_event):
        return None

    result = await pipe.pipe(
        body,
        __user__={"id": "bench"},
        __metadata__={},
        __tools__=TOOLS if with_tools else {},
        __event_emitter__=emitter,
    )
    async for _ in result:
        pass


async def cpu_of(pipe, chats: int, with_tools: bool, reps: int) -> tuple[float, float]:
    """Median process CPU seconds and wall seconds of `chats` concurrent chats."""
    samples = []
    for _ in range(reps):
        gc.collect()
        start, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one_chat(pipe, with_tools) for _ in range(chats)))
        samples.append((time.process_time() - start, time.perf_counter() - wall))
    samples.sort()
    return samples[len(samples) // 2]


async def host_crossing_us(calls: int = 2000) -> float:
    """CPU µs of one tool call through the host port alone (engine → Python → engine), with
    no upstream request: `probe_host` runs `calls` no-op tool calls through a real session."""
    from openrouter_pipe import _native, relay
    from openrouter_pipe.host import HostSession
    from openrouter_pipe.tools import ChatTools

    context = {"tools": TOOLS}
    call = {"op": "tool", "args": {"name": "noop", "call_id": "c", "arguments": {}, "kind": ""}}
    samples = []
    for _ in range(5):
        stream = _native.probe_host(json.dumps([call] * calls), False)
        host = HostSession(context, ChatTools(context))
        start = time.process_time()
        async for _ in relay.lines(stream, host):
            pass
        samples.append((time.process_time() - start) / calls * 1e6)
    samples.sort()
    return samples[len(samples) // 2]


async def main(args) -> dict:
    module = load_function_module()
    results = {"rounds": args.rounds, "scenarios": []}
    results["host_crossing_cpu_us_per_tool_call"] = await host_crossing_us()
    print(f"host crossing alone: {results['host_crossing_cpu_us_per_tool_call']:.1f} µs CPU per tool call")
    with FakeOpenRouter() as fake:
        pipe = module.Pipe()
        pipe.valves = module.Pipe.Valves(API_KEY=API_KEY, BASE_URL=fake.base_url, MAX_FUNCTION_CALL_LOOPS=args.rounds)
        for _ in range(3):
            await one_chat(pipe, True)
        for chats in (1, 50):
            reps = args.reps if chats == 1 else max(3, args.reps // 3)
            repeat = 20 if chats == 1 else 1  # one chat is too short to time alone
            plain = [await cpu_of(pipe, chats, False, reps) for _ in range(repeat)]
            tooled = [await cpu_of(pipe, chats, True, reps) for _ in range(repeat)]
            plain_cpu = sum(p[0] for p in plain) / repeat
            tools_cpu = sum(t[0] for t in tooled) / repeat
            extra_wall = (sum(t[1] for t in tooled) - sum(p[1] for p in plain)) / repeat
            per_round_ms = (tools_cpu - plain_cpu) / (args.rounds - 1) / chats * 1e3
            wall_ms = extra_wall / (args.rounds - 1) * 1e3
            results["scenarios"].append(
                {
                    "chats": chats,
                    "cpu_ms_per_chat_plain": plain_cpu / chats * 1e3,
                    "cpu_ms_per_chat_tools": tools_cpu / chats * 1e3,
                    "cpu_ms_per_tool_round": per_round_ms,
                    "wall_ms_per_tool_round": wall_ms,
                }
            )
            print(
                f"{chats:>3} chats: {per_round_ms:.3f} ms CPU and {wall_ms:.1f} ms wall per tool round "
                f"(chat alone {plain_cpu / chats * 1e3:.2f} ms CPU, with {args.rounds} rounds "
                f"{tools_cpu / chats * 1e3:.2f} ms)"
            )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "tool_rounds.json")
    args = parser.parse_args()
    out = asyncio.run(main(args))
    args.output.write_text(json.dumps(out, indent=2) + "\n")
