"""The Chat Completions route and the other fallbacks, driven through the generated Function
file against the fake OpenRouter: forced and default routes, the automatic fallback for models
without the Responses API, the tool loop on that route, and the one-shot retries that change a
rejected request (reasoning effort, thinking, Anthropic cache breakpoints, `models` list)."""

import json

from bridge_helpers import chat_body, collect, content_of, events_of, new_pipe, parse_lines, usage_of

CHAT = "/api/v1/chat/completions"
RESPONSES = "/api/v1/responses"


def statuses(payloads):
    return [s["description"] for s in events_of(payloads, "status")]


def paths(fake):
    return [r["path"] for r in fake.requests() if r["path"] in (CHAT, RESPONSES)]


async def complete(pipe, body, **kw):
    """A `stream: false` answer: the text Open WebUI stores."""
    events = []

    async def emitter(event):
        events.append(event)

    result = await pipe.pipe(body, __user__={"id": "user-1"}, __metadata__={}, __event_emitter__=emitter, **kw)
    return result, events


async def test_a_forced_model_streams_its_answer_through_chat_completions(fake):
    pipe = new_pipe(fake.base_url, FORCE_CHAT_COMPLETIONS_MODELS="openai/*", SHOW_FINAL_USAGE_STATUS=True)
    payloads = parse_lines(await collect(pipe, chat_body("hello there")))
    assert content_of(payloads) == "Echo: hello there"
    assert paths(fake) == [CHAT]
    [sent] = fake.requests(path=CHAT)
    body = sent["body"]
    assert body["model"] == "openai/gpt-4o-mini" and body["stream"] is True
    assert body["messages"][-1] == {"role": "user", "content": [{"type": "text", "text": "hello there"}]}
    assert "input" not in body
    usage = usage_of(payloads)
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    final = statuses(payloads)[-1]
    assert "Total tokens" in final, final


async def test_a_forced_model_answers_a_complete_request_too(fake):
    pipe = new_pipe(fake.base_url, FORCE_CHAT_COMPLETIONS_MODELS="openai/gpt-4o-*")
    text, _ = await complete(pipe, chat_body("not streamed", stream=False))
    assert text == "Echo: not streamed"
    assert paths(fake) == [CHAT]
    assert fake.requests(path=CHAT)[0]["body"]["stream"] is False


async def test_the_default_endpoint_and_the_responses_list_that_wins_over_patterns(fake):
    pipe = new_pipe(fake.base_url, DEFAULT_LLM_ENDPOINT="chat_completions")
    payloads = parse_lines(await collect(pipe, chat_body("by default")))
    assert content_of(payloads) == "Echo: by default"
    assert paths(fake) == [CHAT]
    fake.clear_requests()
    pipe = new_pipe(
        fake.base_url,
        DEFAULT_LLM_ENDPOINT="chat_completions",
        FORCE_CHAT_COMPLETIONS_MODELS="openai/*",
        FORCE_RESPONSES_MODELS="OPENAI/GPT-4O-MINI",
    )
    payloads = parse_lines(await collect(pipe, chat_body("forced back")))
    assert content_of(payloads) == "Echo: forced back"
    assert paths(fake) == [RESPONSES]


async def test_tasks_stay_on_the_responses_api(fake):
    pipe = new_pipe(fake.base_url, DEFAULT_LLM_ENDPOINT="chat_completions")
    body = chat_body("Generate a title", stream=False)
    result, _ = await complete(pipe, body, __task__="title_generation")
    assert "Echo:" in json.dumps(result)
    assert paths(fake) == [RESPONSES]


async def test_a_model_without_the_responses_api_falls_back_with_a_status_line(fake):
    fake.enqueue({"responses_unsupported": True})
    pipe = new_pipe(fake.base_url)
    payloads = parse_lines(await collect(pipe, chat_body("try responses first")))
    assert content_of(payloads) == "Echo: try responses first"
    assert paths(fake) == [RESPONSES, CHAT]
    assert any("retrying through Chat Completions" in s for s in statuses(payloads))


async def test_the_fallback_can_be_switched_off(fake):
    fake.enqueue({"responses_unsupported": True})
    pipe = new_pipe(fake.base_url, AUTO_FALLBACK_CHAT_COMPLETIONS=False)
    text = content_of(parse_lines(await collect(pipe, chat_body("no fallback"))))
    assert "Error ID" in text and "Responses API" in text
    assert paths(fake) == [RESPONSES]


async def test_later_tool_rounds_stay_on_the_route_the_fallback_chose(fake):
    async def get_weather(city):
        return {"city": city, "sky": "sunny"}

    tools = {
        "get_weather": {
            "tool_id": "t",
            "callable": get_weather,
            "spec": {
                "name": "get_weather",
                "description": "Weather.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    }
    fake.enqueue([{"responses_unsupported": True}, {"call": "get_weather", "call_args": '{"city": "Paris"}'}])
    pipe = new_pipe(fake.base_url)
    result = await pipe.pipe(chat_body("weather?"), __user__={"id": "user-1"}, __metadata__={}, __tools__=tools)
    text = content_of(parse_lines([line async for line in result]))
    assert paths(fake) == [RESPONSES, CHAT, CHAT]
    assert '<details type="tool_calls"' in text and "Tool results:" in text
    assert "sunny" in text


async def test_the_tool_loop_runs_on_the_chat_completions_route(fake):
    seen = []

    async def get_weather(city):
        seen.append(city)
        return {"city": city, "sky": "sunny"}

    tools = {
        "get_weather": {
            "tool_id": "t",
            "callable": get_weather,
            "spec": {
                "name": "get_weather",
                "description": "Weather.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    }
    fake.enqueue({"call": "get_weather", "call_args": '{"city": "Paris"}', "text": "Let me check."})
    pipe = new_pipe(fake.base_url, FORCE_CHAT_COMPLETIONS_MODELS="openai/*")
    result = await pipe.pipe(chat_body("weather?"), __user__={"id": "user-1"}, __metadata__={}, __tools__=tools)
    payloads = parse_lines([line async for line in result])
    text = content_of(payloads)
    assert seen == ["Paris"]
    first, second = (r["body"] for r in fake.requests(path=CHAT))
    [offered] = first["tools"]
    assert offered["type"] == "function" and offered["function"]["name"] == "get_weather"
    call_message = next(m for m in second["messages"] if m.get("tool_calls"))
    [call] = call_message["tool_calls"]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    [tool_reply] = [m for m in second["messages"] if m["role"] == "tool"]
    assert tool_reply["tool_call_id"] == call["id"]
    assert json.loads(tool_reply["content"]) == {"city": "Paris", "sky": "sunny"}
    assert text.index("Let me check.") < text.index('<details type="tool_calls"') < text.index("Tool results:")
    assert "get_weather done" in statuses(payloads)
    assert len([p for p in payloads if "usage" in p]) == 1


async def test_an_error_chunk_mid_stream_keeps_the_text_and_shows_a_card(fake):
    fake.enqueue({"fixture": "chat_stream_error_midstream.sse"})
    pipe = new_pipe(fake.base_url, FORCE_CHAT_COMPLETIONS_MODELS="openai/*")
    text = content_of(parse_lines(await collect(pipe, chat_body("x"))))
    assert text.startswith("Here is the first part of an answer")
    assert "Error ID" in text and "Provider disconnected unexpectedly" in text
    assert len(fake.requests(path=CHAT)) == 1, "text was shown: nothing is retried"


async def test_reasoning_and_citations_come_through_the_chat_route(fake):
    fake.enqueue({"fixture": "chat_stream_text.sse"})
    pipe = new_pipe(fake.base_url, FORCE_CHAT_COMPLETIONS_MODELS="openai/*", SHOW_FINAL_USAGE_STATUS=True)
    payloads = parse_lines(await collect(pipe, chat_body("x")))
    assert content_of(payloads) == "Paris is the capital of France."
    reasoning = "".join(p["choices"][0]["delta"].get("reasoning_content") or "" for p in payloads if p.get("choices"))
    assert reasoning == "The user asks about Paris."
    [source] = events_of(payloads, "source") or events_of(payloads, "citation")
    assert source["source"]["url"] == "https://en.wikipedia.org/wiki/Paris"
    usage = usage_of(payloads)
    assert usage["prompt_tokens"] == 42 and usage["cost"] == 0.000612
    assert "Total tokens: 60" in statuses(payloads)[-1]


async def test_the_models_fallback_list_is_forwarded_on_both_routes(fake):
    body = chat_body("with fallbacks")
    body["models"] = ["anthropic/claude-sonnet-4.5", " google/gemini-2.5-flash ", "anthropic/claude-sonnet-4.5", ""]
    for valves in ({}, {"FORCE_CHAT_COMPLETIONS_MODELS": "openai/*"}):
        fake.clear_requests()
        await collect(new_pipe(fake.base_url, **valves), body)
        [sent] = [r["body"] for r in fake.requests() if r["path"] in (CHAT, RESPONSES)]
        assert sent["models"] == ["anthropic/claude-sonnet-4.5", "google/gemini-2.5-flash"]
        assert sent["model"] == "openai/gpt-4o-mini"


async def test_an_unsupported_reasoning_effort_is_adjusted_once(fake):
    fake.enqueue({"error_fixture": "error_400_reasoning_effort.json"})
    pipe = new_pipe(fake.base_url, REASONING_EFFORT="xhigh")
    payloads = parse_lines(await collect(pipe, chat_body("think hard", model="openrouter.deepseek.deepseek-r1")))
    assert content_of(payloads) == "Echo: think hard"
    first, second = (r["body"] for r in fake.requests(path=RESPONSES))
    assert first["reasoning"]["effort"] == "xhigh"
    assert second["reasoning"]["effort"] == "high"
    assert "Adjusting reasoning effort from 'xhigh' to 'high' (model doesn't support 'xhigh')…" in statuses(payloads)


async def test_a_repeated_effort_rejection_is_shown_not_retried_forever(fake):
    fake.enqueue({"error_fixture": "error_400_reasoning_effort.json", "times": 5})
    pipe = new_pipe(fake.base_url, REASONING_EFFORT="xhigh")
    text = content_of(parse_lines(await collect(pipe, chat_body("x", model="openrouter.deepseek.deepseek-r1"))))
    assert "Error ID" in text
    assert len(fake.requests(path=RESPONSES)) == 2
    fake.clear_plans()


async def test_an_anthropic_cache_control_rejection_is_retried_without_breakpoints(fake):
    fake.enqueue({"error_fixture": "error_400_cache_control.json"})
    pipe = new_pipe(fake.base_url)
    model = "openrouter.anthropic.claude-sonnet-4.5"
    payloads = parse_lines(await collect(pipe, chat_body("cached?", model=model)))
    assert content_of(payloads) == "Echo: cached?"
    first, second = (r["body"] for r in fake.requests(path=RESPONSES))
    assert "cache_control" in json.dumps(first)
    assert "cache_control" not in json.dumps(second)
    assert any("prompt-cache breakpoints" in s for s in statuses(payloads))


async def test_the_thinking_mismatch_is_retried_without_reasoning(fake):
    fake.enqueue({"error_fixture": "error_400_thinking.json"})
    pipe = new_pipe(fake.base_url)
    payloads = parse_lines(await collect(pipe, chat_body("hi", model="openrouter.google.gemini-2.5-flash")))
    assert content_of(payloads) == "Echo: hi"
    first, second = (r["body"] for r in fake.requests(path=RESPONSES))
    assert "reasoning" in first
    assert "reasoning" not in second and second.get("include_reasoning") is False


async def test_reasoning_from_the_chat_route_is_stored_and_sent_back_next_turn(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    pipe = new_pipe(
        fake.base_url,
        FORCE_CHAT_COMPLETIONS_MODELS="anthropic/*",
        ARTIFACT_ENCRYPTION_KEY="correct horse battery staple",
    )
    model = "openrouter.anthropic.claude-sonnet-4.5"
    meta = {"chat_id": "chat-cc", "message_id": "msg-1", "session_id": "s1"}
    fake.enqueue({"fixture": "chat_stream_text.sse"})
    first = [{"role": "user", "content": "Capital of France?"}]
    result = await pipe.pipe(
        {"model": model, "stream": True, "messages": first}, __user__={"id": "user-1"}, __metadata__=meta
    )
    answer = content_of(parse_lines([line async for line in result]))
    assert "Paris is the capital of France." in answer
    assert "]: #" in answer, "a marker stands for the stored reasoning"

    second = first + [{"role": "assistant", "content": answer}, {"role": "user", "content": "And Germany?"}]
    meta = dict(meta, message_id="msg-2")
    result = await pipe.pipe(
        {"model": model, "stream": True, "messages": second}, __user__={"id": "user-1"}, __metadata__=meta
    )
    assert content_of(parse_lines([line async for line in result])) == "Echo: And Germany?"
    messages = fake.requests(path=CHAT)[-1]["body"]["messages"]
    [assistant] = [m for m in messages if m["role"] == "assistant"]
    assert "Paris is the capital of France." in assistant["content"]
    assert "]: #" not in assistant["content"], "markers never reach the model"
    [detail] = assistant["reasoning_details"]
    assert detail["type"] == "reasoning.text" and detail["signature"] == "EqMBCkYIBxgCKkBsig"
    assert detail["text"] == "The user asks about Paris."


async def test_the_fallback_works_on_a_complete_request_too(fake):
    fake.enqueue({"responses_unsupported": True})
    pipe = new_pipe(fake.base_url)
    text, events = await complete(pipe, chat_body("whole answer", stream=False))
    assert text == "Echo: whole answer"
    assert paths(fake) == [RESPONSES, CHAT]
    shown = [e["data"]["description"] for e in events if e.get("type") == "status"]
    assert any("retrying through Chat Completions" in s for s in shown), shown
