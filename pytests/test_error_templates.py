"""Every failure class reaches its operator template valve against the fake OpenRouter.

Each test causes one real failure (an HTTP error, a stall longer than the timeout, a closed
port, an unusable body, a stream cut short, a refused model), sets that class's template
valve and checks what the user would read: the operator's card with its values filled in,
lines without a value dropped, and the built-in card when the template cannot be used.
Retried classes (408, 429, 5xx, transport) are queued for every attempt (`times: 3`).
"""

import uuid
import re
import socket

import pytest

from bridge_helpers import API_KEY, chat_body, collect, content_of, events_of, new_pipe, parse_lines

TEMPLATE = (
    "## Custom card: {kind}\n"
    "Ref `{error_id}` at {timestamp}\n"
    "{{#if status}}Status {status}{{/if}}\n"
    "- Provider: {provider}\n"
    "- Detail: {detail}\n"
    "Literal {not_a_placeholder} stays\n"
    "{{#if support_email}}\nWrite to {support_email}\n{{/if}}"
)


async def answer_text(pipe, body=None):
    payloads = parse_lines(await collect(pipe, body or chat_body("hello")))
    return content_of(payloads), payloads


def assert_custom(text, kind, status=None):
    assert f"## Custom card: {kind}" in text, text
    assert re.search(r"Ref `[0-9a-f]{16}` at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text), text
    assert "Literal {not_a_placeholder} stays" in text
    assert "Write to help@example.com" in text
    if status is None:
        assert "Status" not in text
    else:
        assert f"Status {status}" in text
    assert "Error ID" not in text, "the built-in card must not be shown as well"
    assert API_KEY not in text


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("valve", "plan", "kind", "status"),
    [
        ("OPENROUTER_ERROR_TEMPLATE", {"error": 400}, "context_too_long", 400),
        ("OPENROUTER_ERROR_TEMPLATE", {"error": 403}, "moderation", 403),
        ("AUTHENTICATION_ERROR_TEMPLATE", {"error": 401}, "authentication", 401),
        ("INSUFFICIENT_CREDITS_TEMPLATE", {"error": 402}, "insufficient_credits", 402),
        ("SERVER_TIMEOUT_TEMPLATE", {"error": 408, "times": 3}, "timeout", 408),
        ("PAYLOAD_TOO_LARGE_TEMPLATE", {"error": 413}, "payload_too_large", 413),
        ("RATE_LIMIT_TEMPLATE", {"error": 429, "headers": {"Retry-After": "0"}, "times": 3}, "rate_limited", 429),
        ("SERVICE_ERROR_TEMPLATE", {"error": 502, "times": 3}, "service_error", 502),
    ],
)
async def test_http_failures_use_their_template(fake, valve, plan, kind, status):
    fake.enqueue(plan)
    pipe = new_pipe(fake.base_url, SUPPORT_EMAIL="help@example.com", **{valve: TEMPLATE})
    text, payloads = await answer_text(pipe)
    fake.clear_plans()
    assert_custom(text, kind, status)
    statuses = events_of(payloads, "status")
    assert statuses[-1]["done"] is True


async def test_missing_values_drop_their_lines_and_present_ones_fill_in(fake):
    fake.enqueue({"error": 400})
    pipe = new_pipe(fake.base_url, SUPPORT_EMAIL="help@example.com", OPENROUTER_ERROR_TEMPLATE=TEMPLATE)
    text, _ = await answer_text(pipe)
    assert "- Provider: Anthropic" in text
    assert "- Detail: prompt is too long" in text

    fake.enqueue({"status": 400, "body": {"error": {"message": "Bad field", "code": 400}}})
    text, _ = await answer_text(pipe)
    assert "- Provider:" not in text, "no provider known: the line is dropped"
    assert "- Detail: Bad field" in text
    assert_custom(text, "bad_request", 400)


async def test_network_timeout_uses_its_template(fake):
    fake.enqueue({"delay_ms": 3000, "times": 3})
    template = "Timed out after {timeout_seconds}s calling {endpoint} ({kind})"
    pipe = new_pipe(fake.base_url, HTTP_TOTAL_TIMEOUT_SECONDS=1, NETWORK_TIMEOUT_TEMPLATE=template)
    text, _ = await answer_text(pipe)
    fake.clear_plans()
    assert text.strip() == f"Timed out after 1s calling {fake.base_url}/responses (network_timeout)"


async def test_connection_refused_uses_its_template():
    base = f"http://127.0.0.1:{closed_port()}/api/v1"
    template = "Cannot reach OpenRouter ({kind}).\n- Detail: {detail}\n{{#if status}}never{{/if}}"
    pipe = new_pipe(base, CONNECTION_ERROR_TEMPLATE=template)
    text, _ = await answer_text(pipe)
    assert text.strip().startswith("Cannot reach OpenRouter (network).")
    assert "- Detail: " in text and "never" not in text


async def test_the_reference_error_type_line_is_filled_on_connection_and_internal_cards(fake):
    base = f"http://127.0.0.1:{closed_port()}/api/v1"
    pipe = new_pipe(base, CONNECTION_ERROR_TEMPLATE="Custom error: {error_type}")
    text, _ = await answer_text(pipe)
    assert text.strip() == "Custom error: connection_error"
    fake.enqueue({"status": 200, "headers": {"Content-Type": "text/html"}, "body": "<html>hi</html>"})
    pipe = new_pipe(fake.base_url, INTERNAL_ERROR_TEMPLATE="Custom error: {error_type}")
    text, _ = await answer_text(pipe)
    assert text.strip() == "Custom error: internal_error"


@pytest.mark.parametrize("stream", [True, False])
async def test_an_unusable_success_body_uses_the_internal_template(fake, stream):
    fake.enqueue(
        {"status": 200, "headers": {"Content-Type": "text/html"}, "body": "<html><body>proxy says hi</body></html>"}
    )
    template = "Internal: {kind} ({error_id})\n{{#if raw}}Body: {raw}{{/if}}"
    pipe = new_pipe(fake.base_url, INTERNAL_ERROR_TEMPLATE=template)
    if stream:
        text, _ = await answer_text(pipe)
    else:
        text = await pipe.pipe(
            chat_body("hello", stream=False), __user__={"id": f"user-{uuid.uuid4().hex[:12]}"}, __metadata__={}
        )
    assert re.search(r"Internal: internal \([0-9a-f]{16}\)", text), text
    assert "Body: " in text and "proxy says hi" in text


async def test_a_stream_cut_short_keeps_the_text_and_uses_its_template(fake):
    fake.enqueue({"synth": 400, "disconnect_after": 3000})
    template = "---\n### Cut off\n{{#if model}}\n**Model:** {model}\n{{/if}}\nPlease retry."
    pipe = new_pipe(fake.base_url, STREAM_INTERRUPTED_TEMPLATE=template)
    text, _ = await answer_text(pipe)
    head, _, card = text.partition("---\n### Cut off")
    assert head.startswith("tok0 tok1"), head[:80]
    assert "**Model:** " in card and card.rstrip().endswith("Please retry.")


async def test_a_refused_model_uses_its_template(fake):
    template = "No {requested_model} here: {restriction_reasons} is `{model_id_filter}`."
    pipe = new_pipe(fake.base_url, MODEL_ID="anthropic/claude-sonnet-4.5", MODEL_RESTRICTED_TEMPLATE=template)
    fake.clear_requests()
    text, payloads = await answer_text(pipe)
    assert text.strip() == "No openai/gpt-4o-mini here: MODEL_ID valve is `anthropic/claude-sonnet-4.5`."
    assert events_of(payloads, "status")[-1]["description"] == "Model not enabled"
    assert fake.requests("/api/v1/responses") == []


@pytest.mark.parametrize(
    "broken",
    ["{{#if status}}never closed", "{{/if}} stray", "{{#each x}}no{{/each}}", "{{#if provider}}{provider}{{/if}}"],
)
async def test_a_broken_template_shows_the_built_in_card(fake, broken):
    fake.enqueue({"status": 400, "body": {"error": {"message": "Bad field", "code": 400}}})
    pipe = new_pipe(fake.base_url, OPENROUTER_ERROR_TEMPLATE=broken)
    text, _ = await answer_text(pipe)
    assert "could not process your request" in text and "Error ID" in text
    assert "Bad field" in text


async def test_built_in_cards_show_the_support_contacts(fake):
    fake.enqueue({"error": 401})
    pipe = new_pipe(fake.base_url, SUPPORT_EMAIL="help@example.com", SUPPORT_URL="https://help.example.com")
    text, _ = await answer_text(pipe)
    assert "Authentication failed" in text
    assert "- **Support:** help@example.com" in text
    assert "- **Support page:** https://help.example.com" in text


async def test_built_in_cards_are_unchanged_without_support_contacts(fake):
    fake.enqueue({"error": 401})
    text, _ = await answer_text(new_pipe(fake.base_url))
    assert "Authentication failed" in text and "Support" not in text


async def test_a_key_echoed_by_the_provider_never_reaches_a_custom_card(fake):
    key = "sk-or-v1-" + "ab12" * 16
    fake.enqueue({"status": 400, "body": {"error": {"message": f"key {key} rejected", "code": 400}}})
    pipe = new_pipe(fake.base_url, OPENROUTER_ERROR_TEMPLATE="Detail: {detail}\nMessage: {message}")
    text, _ = await answer_text(pipe)
    assert key not in text and "Detail: key sk-" in text


async def test_request_context_is_available_to_templates(fake):
    fake.enqueue({"error": 401})
    pipe = new_pipe(fake.base_url, AUTHENTICATION_ERROR_TEMPLATE="user={user_id} chat={chat_id} session={session_id}")
    result = await pipe.pipe(
        chat_body("hello"),
        __user__={"id": "user-42"},
        __metadata__={"chat_id": "chat-7", "session_id": "sess-9", "message_id": "msg-1"},
    )
    text = content_of(parse_lines([line async for line in result]))
    assert text.strip() == "user=user-42 chat=chat-7 session=sess-9"


async def test_huge_templates_and_huge_cards_are_bounded(fake):
    fake.enqueue({"status": 400, "body": {"error": {"message": "Bad field", "code": 400}}})
    too_long = "x" * 20_001
    text, _ = await answer_text(new_pipe(fake.base_url, OPENROUTER_ERROR_TEMPLATE=too_long))
    assert "could not process your request" in text and "xxxx" not in text

    fake.enqueue({"status": 400, "body": {"error": {"message": "m" * 900, "code": 400}}})
    repeated = "{message}\n" * 1000
    text, _ = await answer_text(new_pipe(fake.base_url, OPENROUTER_ERROR_TEMPLATE=repeated))
    assert text.rstrip().endswith("…(card shortened)")
    assert len(text) < 33_000


@pytest.mark.parametrize("stream", [True, False])
async def test_a_panic_before_the_settings_exist_still_shows_the_internal_error_card(fake, monkeypatch, stream):
    # Outside the answer's guard (before the request's settings are built) the operator's
    # template cannot be read: the built-in card, with its error id and time, says so.
    monkeypatch.setenv("OPENROUTER_PIPE_TEST_PANIC_MODEL", "panic-on-purpose")
    monkeypatch.setenv("OPENROUTER_PIPE_TEST_PANIC_AT", "start")
    pipe = new_pipe(fake.base_url, INTERNAL_ERROR_TEMPLATE="Custom: {error_id}")
    body = chat_body("hello", stream=stream, model="openrouter.openai.panic-on-purpose")
    result = await pipe.pipe(body, __user__={"id": "user-panic"}, __metadata__={"chat_id": "chat-panic"})
    text = result if isinstance(result, str) else content_of(parse_lines([line async for line in result]))
    assert "The pipe failed while answering" in text, text
    assert re.search(r"Error ID:\*\* `[0-9a-f]{16}`", text), text
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|\d{4}-\d\d-\d\d \d\d:\d\d", text), text
    assert "Custom:" not in text
    assert not fake.requests(), "nothing went upstream"
    monkeypatch.delenv("OPENROUTER_PIPE_TEST_PANIC_AT")
    monkeypatch.delenv("OPENROUTER_PIPE_TEST_PANIC_MODEL")
    fake.enqueue({"text": "still here"})
    text, _ = await answer_text(new_pipe(fake.base_url, MAX_CONCURRENT_REQUESTS=1))
    assert text == "still here"


@pytest.mark.parametrize("stream", [True, False])
async def test_a_panic_while_answering_uses_the_internal_template(fake, monkeypatch, stream):
    # The engine's test-only hook (src/engine/fault_hook.rs) panics for this model only.
    monkeypatch.setenv("OPENROUTER_PIPE_TEST_PANIC_MODEL", "panic-on-purpose")
    template = "Internal: {kind} ({error_id}) at {timestamp}\nuser={user_id} chat={chat_id}\nmodel={model_id}"
    pipe = new_pipe(fake.base_url, INTERNAL_ERROR_TEMPLATE=template)
    body = chat_body("hello", stream=stream, model="openrouter.openai.panic-on-purpose")
    result = await pipe.pipe(body, __user__={"id": "user-panic"}, __metadata__={"chat_id": "chat-panic"})
    text = result if isinstance(result, str) else content_of(parse_lines([line async for line in result]))
    assert re.search(r"Internal: internal \([0-9a-f]{16}\) at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text), text
    assert "user=user-panic chat=chat-panic" in text
    assert "model=openai.panic-on-purpose" in text
    # The worker keeps answering, and the panicked chat's admission slot was released.
    monkeypatch.delenv("OPENROUTER_PIPE_TEST_PANIC_MODEL")
    fake.enqueue({"text": "still here"})
    text, _ = await answer_text(new_pipe(fake.base_url, MAX_CONCURRENT_REQUESTS=1))
    assert text == "still here"
