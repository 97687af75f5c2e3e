"""The pipe runs the chat's tools (Open WebUI's ``__tools__``) in a bounded, visible loop,
driven through the generated Function file against the fake OpenRouter."""

import asyncio
import json
import re
import time

import pytest

from bridge_helpers import content_of, events_of, new_pipe, parse_lines, usage_of

MARKER = re.compile(r"^\[([0-9A-HJKMNP-TV-Z]{20})\]: #$", re.M)


def spec(name, **properties):
    return {
        "name": name,
        "description": f"The {name} tool.",
        "parameters": {"type": "object", "properties": properties, "required": list(properties)},
    }


def tool(function, name=None, kind="", **properties):
    name = name or function.__name__
    entry = {"tool_id": "test_tools", "callable": function, "spec": spec(name, **properties)}
    if kind:
        entry["type"] = kind
    return {name: entry}


def body(text="What is the weather?", stream=True, model="openrouter.openai.gpt-4o-mini", messages=None):
    return {"model": model, "stream": stream, "messages": messages or [{"role": "user", "content": text}]}


async def run(pipe, tools, stream=True, user="user-1", metadata=None, **kw):
    events = []

    async def emitter(event):
        events.append(event)

    result = await pipe.pipe(
        body(stream=stream, **kw),
        __user__={"id": user},
        __metadata__=metadata or {},
        __tools__=tools,
        __event_emitter__=emitter,
    )
    if isinstance(result, str):
        return result, [], events
    payloads = parse_lines([line async for line in result])
    return content_of(payloads), payloads, events


def statuses(payloads, events=()):
    shown = [s["description"] for s in events_of(payloads, "status")]
    shown += [e["data"]["description"] for e in events if e.get("type") == "status"]
    return shown


def responses(fake):
    return [r["body"] for r in fake.requests(path="/api/v1/responses")]


def outputs_sent(request):
    return [i for i in request["input"] if i.get("type") == "function_call_output"]


async def test_a_tool_call_runs_shows_its_block_and_the_model_answers_with_its_result(fake):
    seen = []

    async def get_weather(city):
        seen.append(city)
        return {"city": city, "sky": "sunny"}

    fake.enqueue({"call": "get_weather", "call_args": json.dumps({"city": "Paris"}), "text": "Let me check."})
    pipe = new_pipe(fake.base_url)
    text, payloads, _ = await run(pipe, tool(get_weather, city={"type": "string"}))
    assert seen == ["Paris"]
    first, second = responses(fake)
    [offered] = first["tools"]
    assert offered["name"] == "get_weather" and offered["strict"] is True
    assert offered["parameters"]["additionalProperties"] is False
    calls = [i for i in second["input"] if i.get("type") == "function_call"]
    [output] = outputs_sent(second)
    assert calls[0]["call_id"] == output["call_id"]
    assert json.loads(output["output"]) == {"city": "Paris", "sky": "sunny"}
    # The text before the tool, the block, then the answer written with the result.
    assert text.index("Let me check.") < text.index('<details type="tool_calls"') < text.index("Tool results:")
    assert 'name="get_weather"' in text and "sunny" in text
    shown = statuses(payloads)
    assert "Running get_weather…" in shown and "get_weather done" in shown
    usage = usage_of(payloads)
    assert usage is not None
    # Usage is summed over both rounds: more input than the second request alone.
    assert usage["prompt_tokens"] > 0
    assert [p for p in payloads if "usage" in p].__len__() == 1, "one usage, at the end"


async def test_parallel_calls_run_at_once_and_their_outputs_keep_call_order(fake):
    async def slow_echo(word):
        await asyncio.sleep(0.4 if word == "first" else 0.05)
        return word.upper()

    calls = [{"name": "slow_echo", "arguments": {"word": w}} for w in ("first", "second", "third")]
    fake.enqueue({"calls": calls})
    pipe = new_pipe(fake.base_url)
    started = time.monotonic()
    text, _, _ = await run(pipe, tool(slow_echo, word={"type": "string"}))
    assert time.monotonic() - started < 1.0, "three 0.4 s calls in parallel"
    outputs = [o["output"] for o in outputs_sent(responses(fake)[1])]
    assert outputs == ["FIRST", "SECOND", "THIRD"]
    assert "Tool results: FIRST | SECOND | THIRD" in text


async def test_failures_are_told_to_the_model_and_the_answer_goes_on(fake):
    async def boom():
        raise ValueError("the disk is on fire")

    async def fine():
        return "ok"

    tools = {**tool(boom), **tool(fine)}
    calls = [
        {"name": "boom", "arguments": {}},
        {"name": "no_such_tool", "arguments": {}},
        {"name": "fine", "arguments": "{not json"},
        {"name": "fine", "arguments": {}},
    ]
    fake.enqueue({"calls": calls})
    pipe = new_pipe(fake.base_url)
    text, payloads, _ = await run(pipe, tools, user="user-failures")
    outputs = [o["output"] for o in outputs_sent(responses(fake)[1])]
    assert outputs[0].startswith("Tool error:") and "the disk is on fire" in outputs[0]
    assert outputs[1] == "Tool not found"
    assert outputs[2].startswith("Invalid arguments:")
    assert outputs[3] == "ok"
    assert "boom failed" in statuses(payloads)
    assert "Tool results:" in text


async def test_a_tool_that_hangs_times_out_is_retried_once_and_reported(fake):
    attempts = []

    async def hangs():
        attempts.append(time.monotonic())
        await asyncio.sleep(60)

    fake.enqueue({"call": "hangs"})
    pipe = new_pipe(fake.base_url, TOOL_TIMEOUT_SECONDS=1)
    started = time.monotonic()
    text, _, _ = await run(pipe, tool(hangs), user="user-timeout")
    assert time.monotonic() - started < 6
    assert len(attempts) == 2, "two attempts"
    [output] = outputs_sent(responses(fake)[1])
    assert "timed out after 1s" in output["output"]
    assert "Tool results:" in text


async def test_sync_tools_run_off_the_event_loop(fake):
    def blocking(seconds):
        time.sleep(seconds)
        return "slept"

    fake.enqueue({"call": "blocking", "call_args": json.dumps({"seconds": 0.5})})
    pipe = new_pipe(fake.base_url)
    lags = []

    async def ticker():
        while True:
            t = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - t)

    tick = asyncio.create_task(ticker())
    try:
        text, _, _ = await run(pipe, tool(blocking, seconds={"type": "number"}))
    finally:
        tick.cancel()
    assert "Tool results: slept" in text
    assert max(lags) < 0.3, f"the loop stalled for {max(lags):.2f} s"


async def test_a_runaway_model_stops_at_the_round_limit_with_a_notice(fake):
    async def again():
        return "more"

    fake.enqueue({"call": "again", "call_always": True, "times": 0})
    pipe = new_pipe(fake.base_url, MAX_FUNCTION_CALL_LOOPS=3)
    text, payloads, _ = await run(pipe, tool(again))
    fake.clear_plans()
    assert len(responses(fake)) == 3
    assert "Tool step limit reached" in text and "`3`" in text
    notes = events_of(payloads, "notification")
    assert any("MAX_FUNCTION_CALL_LOOPS=3" in n["content"] for n in notes)
    assert usage_of(payloads) is not None


async def test_the_limit_template_replaces_the_built_in_note(fake):
    async def again():
        return "more"

    fake.enqueue({"call": "again", "call_always": True, "times": 0})
    pipe = new_pipe(
        fake.base_url,
        MAX_FUNCTION_CALL_LOOPS=1,
        MAX_FUNCTION_CALL_LOOPS_REACHED_TEMPLATE="Stopped after {max_function_call_loops} step.",
    )
    text, _, _ = await run(pipe, tool(again))
    fake.clear_plans()
    assert text.rstrip().endswith("Stopped after 1 step.")


async def test_a_tool_type_that_keeps_failing_is_skipped_by_its_breaker(fake):
    async def flaky():
        raise RuntimeError("down")

    pipe = new_pipe(fake.base_url, BREAKER_MAX_FAILURES=2)
    user = "user-breaker"
    fake.enqueue([{"call": "flaky"}, {"text": "sorry"}])
    await run(pipe, tool(flaky, kind="mcp"), user=user)  # two attempts, one failure recorded
    fake.enqueue([{"call": "flaky"}, {"text": "sorry"}])
    await run(pipe, tool(flaky, kind="mcp"), user=user)  # second failure: the breaker opens
    fake.clear_requests()
    fake.enqueue([{"call": "flaky"}, {"text": "sorry"}])
    text, payloads, _ = await run(pipe, tool(flaky, kind="mcp"), user=user)
    [output] = outputs_sent(responses(fake)[1])
    assert output["output"] == "Tool 'flaky' skipped due to repeated failures."
    assert "Skipping flaky tools due to repeated failures" in statuses(payloads)
    # Another user's calls of the same type still run.
    fake.clear_requests()
    fake.enqueue([{"call": "flaky"}, {"text": "sorry"}])
    await run(pipe, tool(flaky, kind="mcp"), user="someone-else")
    [output] = outputs_sent(responses(fake)[1])
    assert output["output"].startswith("Tool error:")


async def test_the_complete_path_runs_the_same_loop(fake):
    async def add(a, b):
        return a + b

    fake.enqueue({"call": "add", "call_args": json.dumps({"a": 2, "b": 3})})
    pipe = new_pipe(fake.base_url)
    text, _, events = await run(pipe, tool(add, a={"type": "integer"}, b={"type": "integer"}), stream=False)
    assert isinstance(text, str)
    assert "Tool results: 5" in text and '<details type="tool_calls"' in text
    assert "Running add…" in statuses([], events), "statuses reach the emitter while it runs"


async def test_tasks_and_models_without_function_calling_get_no_tools(fake):
    async def never():
        raise AssertionError("not offered")

    pipe = new_pipe(fake.base_url)
    await pipe.pipe(
        body(stream=False), __user__={"id": "u"}, __metadata__={}, __tools__=tool(never), __task__="title_generation"
    )
    await run(pipe, tool(never), model="openrouter.openai.gpt-4o-audio-preview-nope")
    for request in responses(fake):
        assert "tools" not in request


def hanging_tool():
    """A tool that never finishes, and events for when it started and was cancelled."""
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def forever():
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    return forever, started, cancelled


async def test_closing_the_chat_cancels_a_running_tool_at_once(fake):
    forever, started, cancelled = hanging_tool()
    fake.enqueue({"call": "forever"})
    pipe = new_pipe(fake.base_url)
    result = await pipe.pipe(body(), __user__={"id": "u"}, __metadata__={}, __tools__=tool(forever))
    agen = result.__aiter__()

    async def read():
        async for _ in agen:
            pass

    reader = asyncio.create_task(read())
    await asyncio.wait_for(started.wait(), 5)
    closed = time.monotonic()
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    await asyncio.wait_for(cancelled.wait(), 1.0)
    assert time.monotonic() - closed < 1.0
    assert len(responses(fake)) == 1, "no further round after the chat closed"


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    return tmp_path


async def test_calls_and_results_are_replayed_on_the_next_turn(fake, data_dir):
    async def lookup(term):
        return f"definition of {term}"

    pipe = new_pipe(fake.base_url)
    meta = {"chat_id": "chat-tools", "message_id": "m1", "session_id": "s"}
    fake.enqueue({"call": "lookup", "call_args": json.dumps({"term": "ulid"})})
    first, _, _ = await run(pipe, tool(lookup, term={"type": "string"}), metadata=meta)
    assert len(MARKER.findall(first)) == 2, first  # the call and its result
    fake.clear_requests()
    history = [
        {"role": "user", "content": "What is the weather?"},
        {"role": "assistant", "content": first},
        {"role": "user", "content": "And again?"},
    ]
    meta2 = {"chat_id": "chat-tools", "message_id": "m2", "session_id": "s"}
    await run(pipe, tool(lookup, term={"type": "string"}), metadata=meta2, messages=history)
    [request] = responses(fake)
    kinds = [i.get("type") for i in request["input"]]
    assert kinds.index("function_call") < kinds.index("function_call_output")
    replayed = outputs_sent(request)
    assert replayed and replayed[0]["output"] == "definition of ulid"
    texts = json.dumps(request["input"])
    assert "<details" not in texts, "the tool block is for the user, not the model"
    assert "[" + MARKER.findall(first)[0] + "]" not in texts


async def test_open_webui_mode_streams_the_calls_for_open_webui_to_run(fake):
    async def never():
        raise AssertionError("Open WebUI runs it, not the pipe")

    chat_tools = [{"type": "function", "function": spec("lookup", term={"type": "string"})}]
    fake.enqueue({"call": "lookup", "call_args": json.dumps({"term": "x"})})
    pipe = new_pipe(fake.base_url, TOOL_EXECUTION_MODE="Open-WebUI")
    request = body()
    request["tools"] = chat_tools
    result = await pipe.pipe(request, __user__={"id": "u"}, __metadata__={}, __tools__=tool(never))
    payloads = parse_lines([line async for line in result])
    deltas = [call for p in payloads if p.get("choices") for call in p["choices"][0]["delta"].get("tool_calls") or ()]
    assert [(d["index"], d["function"]["name"], d["function"]["arguments"]) for d in deltas] == [
        (0, "lookup", '{"term": "x"}')
    ]
    [sent] = responses(fake)
    assert [t["name"] for t in sent["tools"]] == ["lookup"]
    # Open WebUI then calls again with the assistant's tool_calls and the tool's answer.
    follow_up = body(
        messages=[
            {"role": "user", "content": "What is x?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": deltas[0]["id"],
                        "type": "function",
                        "function": {"name": "lookup", "arguments": '{"term": "x"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": deltas[0]["id"], "content": "x is a letter"},
        ]
    )
    follow_up["tools"] = chat_tools
    result = await pipe.pipe(follow_up, __user__={"id": "u"}, __metadata__={})
    text = content_of(parse_lines([line async for line in result]))
    assert "Tool results: x is a letter" in text


async def test_direct_tool_servers_are_asked_through_event_call(fake):
    asked = []

    async def event_call(event):
        asked.append(event)
        return [{"temperature": 21}, None]

    server = {"url": "http://tools.example", "specs": [spec("room_temperature", room={"type": "string"})]}
    metadata = {"tool_servers": [server], "session_id": "sess-9"}
    fake.enqueue({"call": "room_temperature", "call_args": json.dumps({"room": "kitchen", "extra": 1})})
    pipe = new_pipe(fake.base_url)
    result = await pipe.pipe(
        body(), __user__={"id": "u"}, __metadata__=metadata, __tools__={}, __event_call__=event_call
    )
    text = content_of(parse_lines([line async for line in result]))
    # The other call is the status style fix (ENABLE_STATUS_CSS_PATCH), sent to every browser.
    [event] = [e for e in asked if e["type"] != "execute"]
    assert event["type"] == "execute:tool"
    assert event["data"]["name"] == "room_temperature"
    assert event["data"]["params"] == {"room": "kitchen"}, "only declared parameters"
    assert event["data"]["session_id"] == "sess-9"
    assert event["data"]["server"] == {"url": "http://tools.example"}
    assert "21" in text
    # Without a browser to ask, the server's tools are not offered at all.
    fake.clear_requests()
    await run(pipe, {}, metadata=metadata)
    assert "tools" not in responses(fake)[0]


async def test_a_failing_direct_tool_server_warns_the_user_and_tells_the_model(fake):
    async def event_call(event):
        raise ConnectionError("tool server unreachable")

    shown = []

    async def emitter(event):
        shown.append(event)

    server = {"url": "http://tools.example", "specs": [spec("room_temperature", room={"type": "string"})]}
    fake.enqueue({"call": "room_temperature", "call_args": json.dumps({"room": "hall"})})
    pipe = new_pipe(fake.base_url)
    result = await pipe.pipe(
        body(),
        __user__={"id": "u"},
        __metadata__={"tool_servers": [server]},
        __tools__={},
        __event_call__=event_call,
        __event_emitter__=emitter,
    )
    [line async for line in result]
    notices = [e["data"] for e in shown if e.get("type") == "notification"]
    assert {"type": "warning", "content": "Tool 'room_temperature' failed: tool server unreachable"} in notices
    [output] = outputs_sent(responses(fake)[1])
    assert "tool server unreachable" in output["output"]


async def test_odd_and_huge_results_become_capped_text(fake):
    class Opaque:
        def __str__(self):
            return "opaque-object"

    async def odd():
        return {"when": Opaque(), "n": 1}

    async def huge():
        return "x" * 60_000

    fake.enqueue({"calls": [{"name": "odd", "arguments": {}}, {"name": "huge", "arguments": {}}]})
    pipe = new_pipe(fake.base_url)
    await run(pipe, {**tool(odd), **tool(huge)})
    odd_out, huge_out = [o["output"] for o in outputs_sent(responses(fake)[1])]
    assert json.loads(odd_out) == {"when": "opaque-object", "n": 1}
    assert len(huge_out) < 50_100 and huge_out.endswith("[… output truncated: 10000 more characters]")


async def test_cancelling_a_complete_answer_cancels_its_running_tool(fake):
    forever, started, cancelled = hanging_tool()
    fake.enqueue({"call": "forever"})
    pipe = new_pipe(fake.base_url)
    answer = asyncio.create_task(
        pipe.pipe(body(stream=False), __user__={"id": "u"}, __metadata__={}, __tools__=tool(forever))
    )
    await asyncio.wait_for(started.wait(), 5)
    answer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await answer
    await asyncio.wait_for(cancelled.wait(), 1.0)
    assert len(responses(fake)) == 1


async def test_malformed_tool_entries_are_skipped_and_the_rest_offered(fake):
    async def good():
        return "fine"

    tools = {**tool(good), "broken": {"callable": good, "spec": {"description": "no name"}}, "junk": 42}
    pipe = new_pipe(fake.base_url)
    await run(pipe, tools)
    assert [t["name"] for t in responses(fake)[0]["tools"]] == ["good"]


async def test_long_results_of_older_turns_are_pruned_on_replay(fake, data_dir):
    async def report():
        return "A" * 300 + "B" * 1000 + "C" * 200

    pipe = new_pipe(fake.base_url, TOOL_OUTPUT_RETENTION_TURNS=1)
    fake.enqueue({"call": "report"})
    first, _, _ = await run(pipe, tool(report), metadata={"chat_id": "chat-prune", "message_id": "p1"})
    history = [
        {"role": "user", "content": "What is the weather?"},
        {"role": "assistant", "content": first},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "plain answer"},
        {"role": "user", "content": "third"},
    ]
    fake.clear_requests()
    await run(pipe, tool(report), metadata={"chat_id": "chat-prune", "message_id": "p3"}, messages=history)
    [replayed] = outputs_sent(responses(fake)[0])
    text = replayed["output"]
    assert text.startswith("A" * 200) and text.rstrip().endswith("C" * 100)
    assert len(text) < 1000, "the middle of an old result is left out"


async def test_a_tripped_breaker_closes_once_its_failures_age_out(fake):
    failing = True

    async def wobbly():
        if failing:
            raise RuntimeError("down")
        return "back"

    pipe = new_pipe(fake.base_url, BREAKER_MAX_FAILURES=1, BREAKER_WINDOW_SECONDS=5)
    user = "user-breaker-closes"
    fake.enqueue([{"call": "wobbly"}, {"text": "sorry"}])
    await run(pipe, tool(wobbly, kind="builtin"), user=user)  # one failure opens it
    fake.clear_requests()
    fake.enqueue([{"call": "wobbly"}, {"text": "sorry"}])
    await run(pipe, tool(wobbly, kind="builtin"), user=user)
    assert outputs_sent(responses(fake)[1])[0]["output"].endswith("skipped due to repeated failures.")
    failing = False
    await asyncio.sleep(5.2)
    fake.clear_requests()
    fake.enqueue({"call": "wobbly"})
    text, _, _ = await run(pipe, tool(wobbly, kind="builtin"), user=user)
    assert outputs_sent(responses(fake)[1])[0]["output"] == "back"
    assert "Tool results: back" in text


async def test_the_rounds_reasoning_goes_back_with_the_results(fake):
    async def ping():
        return "pong"

    fake.enqueue({"call": "ping", "reasoning": 3, "reasoning_style": "summary"})
    pipe = new_pipe(fake.base_url)
    await run(pipe, tool(ping), model="openrouter.openai.o4-mini")
    second = responses(fake)[1]
    kinds = [i.get("type") for i in second["input"]]
    assert kinds.index("reasoning") < kinds.index("function_call") < kinds.index("function_call_output")
    [reasoning] = [i for i in second["input"] if i.get("type") == "reasoning"]
    assert reasoning.get("encrypted_content"), "reasoning models keep their chain"


async def test_a_call_to_a_filter_tool_nobody_can_run_is_answered_not_dropped(fake):
    fake.enqueue({"call": "filter_tool"})
    pipe = new_pipe(fake.base_url)
    request = body()
    request["extra_tools"] = [{"type": "function", "function": spec("filter_tool")}]
    result = await pipe.pipe(request, __user__={"id": "u"}, __metadata__={}, __tools__={})
    text = content_of(parse_lines([line async for line in result]))
    first, second = responses(fake)
    assert [t["name"] for t in first["tools"]] == ["filter_tool"]
    assert [o["output"] for o in outputs_sent(second)] == ["Tool not found"]
    assert "Tool results: Tool not found" in text
