"""The engine's port to Python: host calls round-trip on the streamed and the complete
path, with timeouts and cancellation, and answers reach the dunders they need."""

import asyncio
import json
import time

import pytest

from bridge_helpers import chat_body, new_pipe
from openrouter_pipe import _native, relay
from openrouter_pipe.host import HostSession


def _outcomes(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def _probe(plan: list[dict], context: dict, *, collect: bool) -> list[dict]:
    stream = _native.probe_host(json.dumps(plan), collect)
    host = HostSession(context)
    if collect:
        completion = await relay.complete(stream, host)
        return _outcomes(completion.text)
    text = ""
    async for line in relay.lines(stream, host):
        text += json.loads(line[len("data: ") :])["choices"][0]["delta"]["content"]
    return _outcomes(text)


@pytest.mark.parametrize("collect", [False, True], ids=["stream", "complete"])
async def test_host_calls_round_trip_on_both_paths(collect):
    emitted, asked = [], []

    async def emitter(event):
        emitted.append(event)

    async def event_call(event):
        asked.append(event)
        return {"answer": "typed in the browser"}

    plan = [
        {"op": "echo", "args": {"n": [1, "ü"]}},
        {"op": "emit", "args": {"type": "status", "data": {"description": "x", "done": True}}},
        {"op": "event_call", "args": {"type": "input", "data": {"title": "Name?"}}},
    ]
    outcomes = await _probe(plan, {"event_emitter": emitter, "event_call": event_call}, collect=collect)
    assert outcomes == [
        {"op": "echo", "ok": {"n": [1, "ü"]}},
        {"op": "emit", "ok": None},
        {"op": "event_call", "ok": {"answer": "typed in the browser"}},
    ]
    assert emitted == [plan[1]["args"]]
    assert asked == [plan[2]["args"]]


@pytest.mark.parametrize("collect", [False, True], ids=["stream", "complete"])
async def test_a_host_call_that_hangs_times_out_and_the_answer_goes_on(collect):
    cancelled = asyncio.Event()

    async def never_answers(_event):
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    plan = [{"op": "event_call", "args": {}, "timeout": 0.3}, {"op": "echo", "args": "after"}]
    started = time.monotonic()
    outcomes = await _probe(plan, {"event_call": never_answers}, collect=collect)
    assert time.monotonic() - started < 2.0
    assert outcomes[0]["error"] == "timeout"
    assert outcomes[1] == {"op": "echo", "ok": "after"}
    assert cancelled.is_set(), "the timed-out handler was not cancelled"


async def test_a_missing_dunder_or_a_raising_handler_is_reported_not_raised():
    async def broken(_event):
        raise RuntimeError("socket gone")

    plan = [{"op": "emit", "args": {}}, {"op": "event_call", "args": {}}, {"op": "nonsense"}]
    outcomes = await _probe(plan, {"event_call": broken}, collect=False)
    assert outcomes[0]["error"] == "unavailable"
    assert outcomes[1]["error"] == "failed" and "socket gone" in outcomes[1]["message"]
    assert outcomes[2]["error"] == "unknown op"


@pytest.mark.parametrize("collect", [False, True], ids=["stream", "complete"])
async def test_cancelling_the_answer_cancels_the_host_call_in_flight_within_a_second(collect):
    entered, cancelled = asyncio.Event(), asyncio.Event()

    async def slow(_event):
        entered.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    task = asyncio.create_task(
        _probe([{"op": "event_call", "args": {}, "timeout": 60}], {"event_call": slow}, collect=collect)
    )
    await asyncio.wait_for(entered.wait(), 2.0)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(cancelled.wait(), 1.0)
    assert time.monotonic() - cancelled_at < 1.0


async def test_cancelling_a_non_streamed_answer_aborts_its_upstream_request(fake):
    fake.enqueue({"hang": True})
    pipe = new_pipe(fake.base_url)
    task = asyncio.create_task(
        pipe.pipe(chat_body("wait", stream=False), __user__={"id": "u"}, __metadata__={})
    )
    await asyncio.to_thread(fake.wait_for, lambda s: s["active_streams"] >= 1, 3.0)
    await asyncio.sleep(0.2)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stats = await asyncio.to_thread(fake.wait_for, lambda s: s["client_aborted"] >= 1, 1.0)
    assert stats["client_aborted"] >= 1, stats
    assert time.monotonic() - cancelled_at < 1.5


async def test_a_non_streamed_answer_sends_its_statuses_through_the_event_emitter(fake):
    events = []

    async def emitter(event):
        events.append(event)

    pipe = new_pipe(fake.base_url)
    text = await pipe.pipe(
        chat_body("[[fake error=429]] hi", stream=False),
        __user__={"id": "u"},
        __metadata__={},
        __event_emitter__=emitter,
    )
    assert "Error ID" in text or "rate" in text.lower(), text
    statuses = [e["data"] for e in events if e.get("type") == "status"]
    assert statuses and statuses[-1]["done"] is True, events


async def test_a_non_streamed_answer_ends_with_a_completion_event_carrying_its_usage(fake):
    """As the reference does: the closing `chat:completion` of a `stream: false` answer
    has the text and the usage, so Open WebUI can show what the answer cost."""
    events = []

    async def emitter(event):
        events.append(event)

    pipe = new_pipe(fake.base_url)
    text = await pipe.pipe(
        chat_body("count me", stream=False), __user__={"id": "u"}, __metadata__={}, __event_emitter__=emitter
    )
    assert text.startswith("Echo: count me"), text
    [final] = [e["data"] for e in events if e.get("type") == "chat:completion"]
    assert final["done"] is True and final["content"] == "Echo: count me"
    assert final["usage"]["prompt_tokens"] > 0 and final["usage"]["completion_tokens"] > 0
    assert events[-1]["type"] == "chat:completion"


async def test_a_failed_non_streamed_answer_sends_no_completion_event(fake):
    events = []

    async def emitter(event):
        events.append(event)

    pipe = new_pipe(fake.base_url)
    await pipe.pipe(
        chat_body("[[fake error=400]] no", stream=False),
        __user__={"id": "u"},
        __metadata__={},
        __event_emitter__=emitter,
    )
    assert not [e for e in events if e.get("type") == "chat:completion"], events


async def test_every_dunder_reaches_the_host_session(fake):
    pipe = new_pipe(fake.base_url)
    seen = {}

    async def event_call(event):
        return event

    real_pipe = pipe.core.pipe

    async def spy(valves, body, context=None, **legacy):
        seen.update(context or {})
        return await real_pipe(valves, body, context, **legacy)

    pipe.core.pipe = spy
    result = await pipe.pipe(
        chat_body("hi", stream=False),
        __user__={"id": "u"},
        __metadata__={"chat_id": "c"},
        __event_call__=event_call,
        __tools__={"t": {}},
        __files__=[{"id": "f"}],
        __chat_id__="c",
        __message_id__="m",
        __oauth_token__={"access_token": "x"},
    )
    assert result.startswith("Echo: ")
    assert seen["event_call"] is event_call
    assert seen["tools"] == {"t": {}} and seen["files"] == [{"id": "f"}]
    assert seen["oauth_token"] == {"access_token": "x"} and seen["message_id"] == "m"
    assert set(seen) >= {"user", "metadata", "event_emitter", "task", "task_body", "request", "session_id"}
