"""Hostile or broken inputs end in a clear answer, never an exception or a stalled loop."""

import json
import time

import pytest

from bridge_helpers import API_KEY, chat_body, collect, content_of, new_pipe, parse_lines, usage_of, with_loop_lag
from fake_openrouter.client import FakeOpenRouter


@pytest.mark.parametrize(
    "messages",
    [
        None,
        "not a list",
        [None, 42, "text", {"role": "user"}],
        [{"role": "user", "content": [{"type": "mystery"}, None, {"type": "text", "text": "hi"}]}],
        [{"role": "assistant", "content": {"weird": True}}, {"role": "user", "content": "ok"}],
    ],
)
async def test_odd_message_shapes_still_get_an_answer(fake, messages):
    body = {"model": "openrouter.openai.gpt-4o-mini", "stream": True, "messages": messages}
    lines = await collect(new_pipe(fake.base_url), body)
    assert content_of(parse_lines(lines)).startswith("Echo:")


async def test_a_huge_message_is_sent_without_stalling_the_event_loop(fake):
    big = "x" * (6 * 1024 * 1024)
    pipe = new_pipe(fake.base_url)
    lines, worst = await with_loop_lag(collect(pipe, chat_body(big + " end")))
    assert content_of(parse_lines(lines)).endswith("end")
    assert worst < 0.5, f"event loop stalled {worst * 1000:.0f} ms"


async def test_garbage_between_events_is_ignored(fake):
    body = (
        b": keep-alive\n\n"
        b"data: {not json at all\n\n"
        b"event: something\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hel\"}\n\n"
        b"id: 7\nretry: 10\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"lo\"}\n\n"
        b"data: {\"type\":\"response.brand_new_event\",\"x\":1}\n\n"
        b"data: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"output\":[]}}\n\n"
        b"data: [DONE]\n\n"
    )
    fake.enqueue({"status": 200, "headers": {"Content-Type": "text/event-stream"}, "body": body.decode()})
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("x")))
    assert content_of(payloads) == "Hello"


async def test_slow_drip_with_crlf_framing_arrives_intact(fake):
    fake.enqueue({"fixture": "stream_unicode.sse", "framing": "crlf", "chunk": 5, "drip_ms": 2})
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("x")))
    assert "😀 and 👩‍💻" in content_of(payloads)


async def test_html_error_page_becomes_a_readable_card(fake):
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
    fake.enqueue({"status": 502, "headers": {"Content-Type": "text/html"}, "body": page, "times": 3})
    text = content_of(parse_lines(await collect(new_pipe(fake.base_url), chat_body("x"))))
    assert "Error ID" in text and "Bad Gateway" in text
    assert "<html>" not in text and API_KEY not in text


async def test_catalog_outage_with_no_cache_lists_nothing_but_chats_still_work(tmp_path):
    with FakeOpenRouter() as fresh:
        fresh.set_models(error=503)
        pipe = new_pipe(fresh.base_url)
        assert await pipe.pipes() == []
        payloads = parse_lines(await collect(pipe, chat_body("still there?")))
        assert content_of(payloads) == "Echo: still there?"
        assert fresh.requests("/api/v1/responses")[-1]["body"]["model"] == "openai/gpt-4o-mini"


async def test_connection_dropped_before_any_byte_is_explained(fake):
    fake.enqueue({"fixture": "stream_text.sse", "disconnect_after": 0})
    text = content_of(parse_lines(await collect(new_pipe(fake.base_url), chat_body("x"))))
    assert text.strip() and "Traceback" not in text and API_KEY not in text


async def test_an_error_envelope_sent_with_200_to_a_stream_shows_the_providers_message(fake):
    envelope = {"error": {"code": 502, "message": "Provider returned error", "metadata": {"provider_name": "Acme"}}}
    plan = {"status": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(envelope)}
    fake.enqueue([plan] * 3)
    text = content_of(parse_lines(await collect(new_pipe(fake.base_url), chat_body("x"))))
    assert "Provider returned error" in text and "Acme" in text and "Error ID" in text
    assert "interrupted" not in text
    assert len(fake.requests(path="/api/v1/responses")) == 3, "a 502 in the envelope is retried like a 502"


async def test_a_non_streamed_answer_that_failed_transiently_is_retried(fake):
    failed = {"id": "r1", "object": "response", "status": "failed", "error": {"code": "server_error", "message": "x"}}
    envelope = {"error": {"code": 503, "message": "Provider overloaded"}}
    for body in (failed, envelope):
        fake.clear_requests()
        fake.enqueue({"status": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)})
        answer = await new_pipe(fake.base_url).pipe(
            chat_body("later", stream=False), __user__={"id": f"user-{time.monotonic_ns()}"}, __metadata__={}
        )
        assert answer == "Echo: later", answer
        assert len(fake.requests(path="/api/v1/responses")) == 2


async def test_a_whole_json_answer_to_a_stream_request_is_still_shown(fake):
    answer = {
        "id": "gen-1",
        "object": "response",
        "status": "completed",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Answered without streaming", "annotations": []}],
            }
        ],
        "usage": {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7},
    }
    fake.enqueue({"status": 200, "headers": {"Content-Type": "application/json"}, "body": " \n" + json.dumps(answer)})
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("x")))
    assert content_of(payloads) == "Answered without streaming"
    assert usage_of(payloads)["total_tokens"] == 7


async def test_an_html_page_sent_with_200_to_a_stream_is_explained(fake):
    page = "<html><body>Edge proxy says hello</body></html>"
    fake.enqueue({"status": 200, "headers": {"Content-Type": "text/html"}, "body": page})
    text = content_of(parse_lines(await collect(new_pipe(fake.base_url), chat_body("x"))))
    assert "not valid JSON" in text and "Edge proxy says hello" in text and "Error ID" in text
    assert "interrupted" not in text


async def test_an_answer_ends_at_its_terminal_event_even_if_the_server_keeps_the_stream_open(fake):
    events = (
        'data: {"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"delta":"All done"}\n\n'
        'data: {"type":"response.completed","response":{"status":"completed","output":[],'
        '"usage":{"input_tokens":2,"output_tokens":2,"total_tokens":4}}}\n\n'
    )
    body = events + "data: [DONE]\n\n"
    fake.enqueue(
        {
            "status": 200,
            "headers": {"Content-Type": "text/event-stream"},
            "body": body,
            "split": [len(events.encode())],
            "pause_ms": 8000,
        }
    )
    started = time.monotonic()
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("x")))
    elapsed = time.monotonic() - started
    assert content_of(payloads) == "All done"
    assert usage_of(payloads)["total_tokens"] == 4
    assert elapsed < 3, f"the chat stayed open {elapsed:.1f} s after the answer was complete"


async def test_a_transient_failure_is_retried_before_anything_is_shown(fake):
    fake.enqueue({"error": 503})
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("again")))
    assert content_of(payloads) == "Echo: again", "the retry answered; no card, nothing twice"
    statuses = [p["event"]["data"]["description"] for p in payloads if p.get("event", {}).get("type") == "status"]
    assert any(s.startswith("OpenRouter had a problem, retrying in") for s in statuses), statuses
    assert len(fake.requests(path="/api/v1/responses")) == 2


async def test_a_rate_limit_waits_as_long_as_the_server_asks(fake):
    fake.enqueue({"error": 429, "headers": {"Retry-After": "1"}})
    started = time.monotonic()
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("patience")))
    assert time.monotonic() - started >= 1.0
    assert content_of(payloads) == "Echo: patience"
    statuses = [p["event"]["data"]["description"] for p in payloads if p.get("event", {}).get("type") == "status"]
    assert "Rate limited by the provider, retrying in 1 s…" in statuses


async def test_a_rejected_request_is_not_sent_again(fake):
    fake.enqueue({"error": 400})
    text = content_of(parse_lines(await collect(new_pipe(fake.base_url), chat_body("bad"))))
    assert "Error ID" in text
    assert len(fake.requests(path="/api/v1/responses")) == 1


async def test_a_failure_before_any_text_does_not_speak_of_text_above(fake):
    events = [
        {"type": "response.created", "response": {"id": "r1", "status": "in_progress"}},
        {
            "type": "response.failed",
            "response": {"id": "r1", "status": "failed", "error": {"message": "provider blew up"}},
        },
    ]
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
    fake.enqueue({"status": 200, "headers": {"Content-Type": "text/event-stream"}, "body": body})
    text = content_of(parse_lines(await collect(new_pipe(fake.base_url), chat_body("hello"))))
    assert "provider blew up" in text and "before writing any answer" in text, text
    assert "text above" not in text, text


def _stream_of(*events):
    body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    return {"status": 200, "headers": {"Content-Type": "text/event-stream"}, "body": body}


_CREATED = {"type": "response.created", "response": {"id": "r1", "status": "in_progress"}}
_RETRYABLE_FAILURES = {
    "flat error event, named code": {"type": "error", "code": "rate_limit_exceeded", "message": "Rate limit exceeded"},
    "nested error, numeric code": {"type": "error", "error": {"code": 502, "message": "Provider returned error"}},
    "failed response, named code": {
        "type": "response.failed",
        "response": {"id": "r1", "status": "failed", "error": {"code": "server_error", "message": "boom"}},
    },
}


@pytest.mark.parametrize("failure", list(_RETRYABLE_FAILURES.values()), ids=list(_RETRYABLE_FAILURES))
async def test_a_stream_that_opens_with_a_transient_error_is_retried(fake, failure):
    fake.enqueue(_stream_of(_CREATED, failure))
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("again")))
    assert content_of(payloads) == "Echo: again", "the retry answered; no card, nothing twice"
    statuses = [p["event"]["data"]["description"] for p in payloads if p.get("event", {}).get("type") == "status"]
    assert any("retrying in" in s for s in statuses), statuses
    assert len(fake.requests(path="/api/v1/responses")) == 2


async def test_a_stream_that_keeps_failing_transiently_ends_in_the_rate_limit_card(fake):
    failure = _RETRYABLE_FAILURES["flat error event, named code"]
    fake.enqueue([_stream_of(_CREATED, failure)] * 3)
    text = content_of(parse_lines(await collect(new_pipe(fake.base_url), chat_body("again"))))
    assert "Error ID" in text and "Echo" not in text, text
    assert "rate limit" in text.lower(), text
    assert len(fake.requests(path="/api/v1/responses")) == 3


async def test_a_stream_error_with_a_permanent_code_is_shown_at_once(fake):
    failure = {"type": "error", "error": {"code": "invalid_prompt", "message": "prompt rejected"}}
    fake.enqueue(_stream_of(_CREATED, failure))
    text = content_of(parse_lines(await collect(new_pipe(fake.base_url), chat_body("again"))))
    assert "prompt rejected" in text and "Error ID" in text, text
    assert len(fake.requests(path="/api/v1/responses")) == 1


async def test_a_transient_stream_error_after_text_is_not_retried(fake):
    delta = {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "delta": "Partial answer"}
    fake.enqueue(_stream_of(_CREATED, delta, _RETRYABLE_FAILURES["flat error event, named code"]))
    text = content_of(parse_lines(await collect(new_pipe(fake.base_url), chat_body("again"))))
    assert text.startswith("Partial answer") and "Error ID" in text, text
    assert "Echo" not in text
    assert len(fake.requests(path="/api/v1/responses")) == 1
