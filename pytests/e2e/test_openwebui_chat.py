"""End to end: the product's Function in a real Open WebUI 0.12.4, talking to the fake OpenRouter.

Each test checks what a user of Open WebUI would notice: the model list, the streamed and
non-streamed answers, the saved chat (content, usage, title), and readable error cards.
"""

from __future__ import annotations

import json

import pytest
from owui import (
    FUNCTION_ID,
    REPO_ROOT,
    TEST_API_KEY,
    saved_message,
    sse_content,
    sse_usage,
    ui_path_chat,
    wait_until,
)

OR_MODEL = "openai/gpt-4o-mini"
MODEL = f"{FUNCTION_ID}.{OR_MODEL.replace('/', '.')}"
RESPONSES = "/api/v1/responses"
CATALOG = json.loads((REPO_ROOT / "fixtures/openrouter/models.json").read_text())["data"]

pytestmark = pytest.mark.e2e


def header(rec: dict, name: str) -> str | None:
    for k, v in (rec.get("headers") or {}).items():
        if k.lower() == name.lower():
            return v
    return None


def assert_no_leak(text: str) -> None:
    assert TEST_API_KEY not in text, "the API key leaked into what the user sees"
    assert "Traceback (most recent call last)" not in text, f"a traceback reached the user:\n{text[:2000]}"


def usage_tokens(usage: dict | None) -> int:
    if not isinstance(usage, dict):
        return 0
    for key in ("total_tokens", "completion_tokens", "output_tokens"):
        if isinstance(usage.get(key), int) and usage[key] > 0:
            return usage[key]
    return 0


def test_models_list_the_catalog_with_names(admin_api, openrouter):
    models = admin_api.models()
    by_id = {m["id"]: m for m in models}
    missing, misnamed = [], []
    for entry in CATALOG:
        owui_id = f"{FUNCTION_ID}.{entry['id'].replace('/', '.')}"
        model = by_id.get(owui_id)
        if model is None:
            missing.append(owui_id)
        elif entry["name"] not in model.get("name", ""):
            misnamed.append((owui_id, model.get("name"), entry["name"]))
    ours = sorted(i for i in by_id if i.startswith(FUNCTION_ID + "."))
    assert not missing, f"catalog models missing from GET /api/models: {missing}; listed: {ours}"
    assert not misnamed, f"models whose name lacks the catalog name (id, shown, expected): {misnamed}"
    assert by_id[MODEL]["name"].endswith("OpenAI: GPT-4o-mini")


def test_chat_stream_true_streams_the_answer_with_usage(admin_api, openrouter, fake):
    text = "Hello from the e2e stream test"
    r, chunks = admin_api.chat_stream(MODEL, text)
    assert r.status_code == 200, r.text[:2000]
    assert_no_leak(r.text)
    content = sse_content(chunks)
    assert f"Echo: {text}" in content, f"streamed content: {content!r}; raw: {r.text[:2000]}"
    assert content.count("Echo:") == 1, content
    assert usage_tokens(sse_usage(chunks)) > 0, f"no usage chunk in the stream: {r.text[-1500:]}"

    reqs = fake.requests(RESPONSES)
    assert len(reqs) == 1, f"expected one /responses request, got {len(reqs)}"
    rec = reqs[0]
    assert rec["body"]["model"] == OR_MODEL
    assert rec["body"].get("stream") is True
    assert text in json.dumps(rec["body"].get("input"), ensure_ascii=False)
    assert header(rec, "Authorization") == f"Bearer {TEST_API_KEY}"
    assert rec.get("response_text") and rec["response_text"] in content


def test_chat_stream_false_returns_the_full_answer(admin_api, openrouter, fake):
    text = "Hello from the e2e non-stream test"
    r = admin_api.chat(MODEL, text, stream=False)
    assert r.status_code == 200, r.text[:2000]
    assert_no_leak(r.text)
    data = r.json()
    assert "choices" in data, f"no choices in the reply: {data}"
    content = data["choices"][0]["message"]["content"]
    assert f"Echo: {text}" in content, f"content: {content!r}"
    reqs = fake.requests(RESPONSES)
    assert len(reqs) == 1, f"expected one /responses request, got {len(reqs)}"
    assert reqs[0]["body"]["model"] == OR_MODEL


def test_ui_path_chat_is_saved_with_content_and_usage(admin_api, openrouter, fake):
    text = "Hello from the e2e UI path"
    turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, text)
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    assert not msg.get("error"), f"the saved message has an error: {msg.get('error')}"
    assert f"Echo: {text}" in msg.get("content", ""), f"saved content: {msg.get('content')!r}"
    assert_no_leak(json.dumps(msg))
    assert usage_tokens(msg.get("usage")) > 0, f"no usage saved: {msg.get('usage')}"
    assert len(fake.requests(RESPONSES)) == 1

    # The user saw it live too: the socket events carried the text.
    live = json.dumps(turn.events, ensure_ascii=False)
    assert "Echo: " in live, f"no streamed text in the socket events: {turn.event_types()}"

    # The chat is listed and the user message is saved next to the answer.
    chat = admin_api.get_chat(turn.chat_id)
    user_msg = chat["chat"]["history"]["messages"][turn.user_message_id]
    assert user_msg["content"] == text


TITLE = "Fake Title Works"
TITLE_TEMPLATE = (
    "Reply with this JSON object and nothing else: "
    + json.dumps({"title": TITLE})
    + "\n<chat_history>\n{{MESSAGES:END:2}}\n</chat_history>"
)


@pytest.fixture
def title_generation_on(admin_api):
    old = admin_api.task_config()
    admin_api.update_task_config(
        ENABLE_TITLE_GENERATION=True, TITLE_GENERATION_PROMPT_TEMPLATE=TITLE_TEMPLATE
    )
    yield
    admin_api.update_task_config(**old)


def test_title_generation_task_is_answered_by_the_pipe(admin_api, openrouter, fake, title_generation_on):
    # The title prompt asks for a fixed JSON title; the fake echoes the prompt back, so the
    # chat gets that title only if the pipe answered Open WebUI's title_generation task.
    text = "Tell me about gardening"
    turn = ui_path_chat(
        admin_api.base_url, admin_api.token, MODEL, text, background_tasks={"title_generation": True}
    )
    saved_message(admin_api, turn.chat_id, turn.message_id)
    try:
        title = wait_until(
            lambda: (t := admin_api.get_chat(turn.chat_id).get("title")) == TITLE and t,
            30,
            what="the generated chat title",
        )
    except TimeoutError:
        title = admin_api.get_chat(turn.chat_id).get("title")
        seen = [(r.get("status"), r.get("response_text")) for r in fake.requests(RESPONSES)]
        pytest.fail(
            f"chat title is {title!r}, not {TITLE!r} (the fallback is the user message); "
            f"/responses requests seen by the fake (status, answer): {seen}"
        )
    assert title == TITLE
    task_reqs = [r for r in fake.requests(RESPONSES) if TITLE in json.dumps(r["body"])]
    assert len(task_reqs) >= 1
    assert task_reqs[0]["body"]["model"] == OR_MODEL
    assert task_reqs[0]["body"].get("stream") is not True, "task requests should not stream"


def test_a_directive_never_leaks_into_the_generated_title(admin_api, openrouter, fake):
    # Open WebUI's own title prompt quotes the chat, directive included: the title must come
    # from the user's words, not from an echo of the prompt or the directive's 429.
    old = admin_api.task_config()
    admin_api.update_task_config(ENABLE_TITLE_GENERATION=True, TITLE_GENERATION_PROMPT_TEMPLATE="")
    try:
        text = "[[fake error=429]] how do rockets fly in space"
        turn = ui_path_chat(
            admin_api.base_url, admin_api.token, MODEL, text, background_tasks={"title_generation": True}
        )
        saved_message(admin_api, turn.chat_id, turn.message_id)
        try:
            wait_until(lambda: admin_api.get_chat(turn.chat_id).get("title") == "How do rockets fly", 30)
        except TimeoutError:
            pytest.fail(f"the chat's title is {admin_api.get_chat(turn.chat_id).get('title')!r}")
    finally:
        admin_api.update_task_config(**old)


def _error_text(msg: dict) -> str:
    err = msg.get("error")
    err_text = err.get("content", "") if isinstance(err, dict) else str(err or "")
    return f"{msg.get('content', '')}\n{err_text}"


def test_http_429_shows_a_readable_card_in_the_stream(admin_api, openrouter, fake):
    r, chunks = admin_api.chat_stream(MODEL, "[[fake error=429]] are you there?")
    assert r.status_code == 200, r.text[:2000]
    assert_no_leak(r.text)
    shown = sse_content(chunks)
    errors = [c["error"] for c in chunks if isinstance(c, dict) and c.get("error")]
    assert not errors, f"the stream ended in an Open WebUI error instead of a card: {errors}"
    assert "rate limit" in shown.lower(), f"no readable rate-limit card: {shown!r}"
    assert "Error ID" in shown, f"the card has no Error ID: {shown!r}"
    assert len(fake.requests(RESPONSES)) >= 1


def test_http_429_shows_a_readable_card_in_the_saved_chat(admin_api, openrouter, fake):
    turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, "[[fake error=429]] hello?")
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    shown = _error_text(msg)
    assert_no_leak(json.dumps(msg))
    assert_no_leak(json.dumps(turn.events))
    assert "rate limit" in shown.lower(), f"no readable rate-limit card in the saved message: {msg}"
    assert "Error ID" in shown, f"the card has no Error ID: {shown!r}"
