"""Admission control, the per-user request breaker and the refused-key check, as a user
sees them through the Function file against the fake OpenRouter: a full waiting line is
answered at once with the busy card, queued chats say so and leave the line when
cancelled, limits change live, a failing user is paused while others go on, and a key
OpenRouter refused is answered without a request."""

from __future__ import annotations

import asyncio
import json
import sys
import time

from bridge_helpers import SOURCE, chat_body, content_of, events_of, new_pipe, parse_lines
from fake_openrouter.client import FakeOpenRouter
from loader import load_function, owui_module_name

WAITING = "Waiting for a free slot…"


def pipe_with_key(base_url: str, api_key: str):
    """Like `new_pipe`, with another key from the start (so the test key is never warmed)."""
    name = owui_module_name()
    module = load_function(SOURCE, name)
    sys.modules.pop(name, None)
    pipe = module.Pipe()
    pipe.valves = module.Pipe.Valves(API_KEY=api_key, BASE_URL=base_url)
    return pipe


async def start(pipe, text: str, user: str = "user-1"):
    """A streamed chat as Open WebUI starts it: the answer's line iterator."""
    result = await pipe.pipe(chat_body(text), __user__={"id": user}, __metadata__={})
    assert not isinstance(result, str), result
    return result


async def answer(pipe, text: str, user: str = "user-1") -> list[dict]:
    return parse_lines([line async for line in await start(pipe, text, user)])


async def first_status(lines) -> str:
    """Reads lines until the first status event other than the opening "Thinking…" and
    returns its description."""
    async for line in lines:
        statuses = [s for s in events_of(parse_lines([line]), "status") if s["description"] != "Thinking…"]
        if statuses:
            return statuses[0]["description"]
    raise AssertionError("the answer ended without a status")


async def hanging_chat(pipe, fake, text: str = "hold the slot") -> asyncio.Task:
    """A chat that holds its slot until cancelled (the fake never answers it)."""
    fake.enqueue({"hang": True})
    before = fake.stats()["streams_started"]
    task = asyncio.create_task(answer(pipe, text))
    await asyncio.to_thread(fake.wait_for, lambda s: s["streams_started"] > before and s["active_streams"] >= 1)
    return task


async def cancelled(task: asyncio.Task) -> None:
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


async def test_a_full_line_gets_the_busy_card_at_once_and_a_freed_slot_serves_the_next(fake):
    pipe = new_pipe(fake.base_url, MAX_CONCURRENT_REQUESTS=1, MAX_QUEUED_REQUESTS=1)
    holder = await hanging_chat(pipe, fake)
    queued = await start(pipe, "second")
    assert await first_status(queued) == WAITING
    sent_before = len(fake.requests("/api/v1/responses"))
    started = time.perf_counter()
    refused = await answer(pipe, "third")
    elapsed = time.perf_counter() - started
    text = content_of(refused)
    assert "The server is busy" in text and "Error ID" in text, text
    assert elapsed < 0.5, f"busy card took {elapsed * 1000:.0f} ms"
    assert len(fake.requests("/api/v1/responses")) == sent_before, "nothing was sent for it"
    # The chat holding the slot is cancelled: the queued one is answered.
    await cancelled(holder)
    rest = parse_lines([line async for line in queued])
    assert content_of(rest) == "Echo: second"
    await asyncio.to_thread(fake.wait_for, lambda s: s["client_aborted"] >= 1)


async def test_a_cancelled_queued_chat_leaves_the_line_at_once(fake):
    pipe = new_pipe(fake.base_url, MAX_CONCURRENT_REQUESTS=1, MAX_QUEUED_REQUESTS=1)
    holder = await hanging_chat(pipe, fake)
    queued = await start(pipe, "impatient")
    assert await first_status(queued) == WAITING
    # Open WebUI cancels the task reading a stopped chat.
    reader = asyncio.create_task(first_status(queued))
    await asyncio.sleep(0.05)
    await cancelled(reader)
    await asyncio.sleep(0.05)
    # Its place is free although no slot was: the next chat waits instead of being refused.
    patient = await start(pipe, "patient")
    assert await first_status(patient) == WAITING
    await cancelled(holder)
    rest = parse_lines([line async for line in patient])
    assert content_of(rest) == "Echo: patient"
    sent = [json.dumps(r["body"]) for r in fake.requests("/api/v1/responses")]
    assert not any("impatient" in body for body in sent), "the cancelled chat was never sent"


async def test_a_chat_cancelled_while_waiting_to_retry_frees_its_slot_at_once(fake):
    pipe = new_pipe(fake.base_url, MAX_CONCURRENT_REQUESTS=1, MAX_QUEUED_REQUESTS=1)
    fake.enqueue({"error": 503, "headers": {"Retry-After": "30"}})
    retrying = await start(pipe, "unlucky")
    assert "retrying in 30 s" in await first_status(retrying)
    reader = asyncio.create_task(first_status(retrying))
    queued = await start(pipe, "next in line")
    assert await first_status(queued) == WAITING
    await asyncio.sleep(0.05)  # the reader is inside the answer, as Open WebUI's would be
    started = time.perf_counter()
    await cancelled(reader)
    rest = parse_lines([line async for line in queued])
    assert content_of(rest) == "Echo: next in line"
    assert time.perf_counter() - started < 5, "the slot was freed without waiting for the retry"


async def test_raising_the_limit_takes_effect_without_a_restart(fake):
    narrow = new_pipe(fake.base_url, MAX_CONCURRENT_REQUESTS=1, MAX_QUEUED_REQUESTS=5)
    holder = await hanging_chat(narrow, fake)
    queued = await start(narrow, "was waiting")
    assert await first_status(queued) == WAITING
    wide = new_pipe(fake.base_url, MAX_CONCURRENT_REQUESTS=3, MAX_QUEUED_REQUESTS=5)
    newcomer = await answer(wide, "new limit")
    assert content_of(newcomer) == "Echo: new limit"
    assert WAITING not in [s["description"] for s in events_of(newcomer, "status")]
    rest = parse_lines([line async for line in queued])
    assert content_of(rest) == "Echo: was waiting", "the raised limit admitted the waiting chat too"
    await cancelled(holder)


async def test_a_failing_user_is_paused_while_another_keeps_working_and_it_closes_by_itself(fake):
    pipe = new_pipe(fake.base_url, BREAKER_MAX_FAILURES=2, BREAKER_WINDOW_SECONDS=5, BREAKER_HISTORY_SIZE=5)
    # Each chat is tried three times (retries); Retry-After 0 keeps the test quick.
    fake.enqueue({"error": 503, "headers": {"Retry-After": "0"}, "times": 6})
    for _ in range(2):
        failed = content_of(await answer(pipe, "doomed", user="unlucky"))
        assert "Error ID" in failed and "Paused" not in failed
    assert len(fake.requests("/api/v1/responses")) == 6
    paused = content_of(await answer(pipe, "again", user="unlucky"))
    assert "Paused for" in paused and "after repeated failures" in paused, paused
    assert len(fake.requests("/api/v1/responses")) == 6, "no request while paused"
    other = content_of(await answer(pipe, "hello", user="lucky"))
    assert other == "Echo: hello"
    await asyncio.sleep(5.2)
    back = content_of(await answer(pipe, "better now", user="unlucky"))
    assert back == "Echo: better now"


async def test_a_client_error_does_not_pause_the_user(fake):
    pipe = new_pipe(fake.base_url, BREAKER_MAX_FAILURES=1, BREAKER_WINDOW_SECONDS=60)
    fake.enqueue({"error_fixture": "error_400_context_length.json", "times": 2})
    for _ in range(2):
        text = content_of(await answer(pipe, "too long", user="verbose"))
        assert "context window" in text and "Paused" not in text, text
    assert content_of(await answer(pipe, "short", user="verbose")) == "Echo: short"


async def test_a_key_refused_at_warm_up_is_answered_at_once_without_a_request():
    with FakeOpenRouter() as fresh:
        fresh.set_models(error=401)
        pipe = pipe_with_key(fresh.base_url, "sk-or-invalid")
        assert await pipe.pipes() == []
        for _ in range(3):
            started = time.perf_counter()
            text = content_of(await answer(pipe, "hi"))
            assert "Authentication failed" in text and "not sent again" in text, text
            assert time.perf_counter() - started < 0.5
        assert fresh.requests("/api/v1/responses") == [], "no chat reached OpenRouter"
        # A new key is tried at once.
        fresh.reset_models()
        fixed = new_pipe(fresh.base_url)
        assert content_of(await answer(fixed, "hi again")) == "Echo: hi again"
