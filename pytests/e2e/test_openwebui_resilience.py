"""End to end: resilience in a real Open WebUI 0.12.4. A chat whose first upstream attempt
is rate limited is retried by the pipe and saved complete, with the retry status the user
saw while waiting."""

from __future__ import annotations

import json

import pytest
from owui import FUNCTION_ID, saved_message, ui_path_chat

MODEL = f"{FUNCTION_ID}.openai.gpt-4o-mini"
RESPONSES = "/api/v1/responses"

pytestmark = pytest.mark.e2e


def test_a_rate_limited_chat_is_retried_and_saved_complete(admin_api, openrouter, fake):
    fake.enqueue({"error": 429, "headers": {"Retry-After": "1"}})
    text = "Hello after a rate limit"
    turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, text)
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    assert not msg.get("error"), f"the saved message has an error: {msg.get('error')}"
    content = msg.get("content", "")
    assert f"Echo: {text}" in content, f"saved content: {content!r}"
    assert "Rate limit reached" not in content and "Error ID" not in content, content
    statuses = [r["status"] for r in fake.requests(RESPONSES)]
    assert statuses == [429, 200], statuses
    live = json.dumps(turn.events, ensure_ascii=False)
    assert "Rate limited by the provider, retrying in 1 s" in live, turn.event_types()


def test_the_admission_valves_are_in_the_admin_form_and_live(admin_api, openrouter):
    form = admin_api.get(f"/api/v1/functions/id/{FUNCTION_ID}/valves/spec")["properties"]
    for name in ("MAX_CONCURRENT_REQUESTS", "MAX_QUEUED_REQUESTS", "BREAKER_HISTORY_SIZE"):
        assert name in form, sorted(form)
        assert "Not active yet" not in form[name].get("description", ""), form[name]


@pytest.fixture
def one_slot_no_line(admin_api, openrouter):
    valves = admin_api.valves(FUNCTION_ID)
    admin_api.set_valves(FUNCTION_ID, {**valves, "MAX_CONCURRENT_REQUESTS": 1, "MAX_QUEUED_REQUESTS": 0})
    yield
    admin_api.set_valves(FUNCTION_ID, valves)


def test_a_chat_beyond_the_full_line_gets_the_busy_card_saved(admin_api, one_slot_no_line, fake):
    import time
    from concurrent.futures import ThreadPoolExecutor

    fake.enqueue({"delay_ms": 8000, "text": "the slow answer"})
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(ui_path_chat, admin_api.base_url, admin_api.token, MODEL, "slow one")
        deadline = time.monotonic() + 20
        while not fake.requests(RESPONSES) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert fake.requests(RESPONSES), "the slow chat never reached the fake"
        turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, "one too many")
        msg = saved_message(admin_api, turn.chat_id, turn.message_id)
        content = msg.get("content") or ""
        assert "The server is busy" in content and "Error ID" in content, content
        slow_turn = slow.result(timeout=60)
    slow_msg = saved_message(admin_api, slow_turn.chat_id, slow_turn.message_id)
    assert "the slow answer" in (slow_msg.get("content") or "")
    assert len(fake.requests(RESPONSES)) == 1, "the refused chat must not reach OpenRouter"


@pytest.fixture
def breaker_after_one_failure(admin_api, openrouter):
    import time

    valves = admin_api.valves(FUNCTION_ID)
    admin_api.set_valves(FUNCTION_ID, {**valves, "BREAKER_MAX_FAILURES": 1, "BREAKER_WINDOW_SECONDS": 5})
    yield
    admin_api.set_valves(FUNCTION_ID, valves)
    time.sleep(6)  # the admin's breaker closes before the next test chats as the admin


def test_a_user_whose_chats_keep_failing_gets_the_paused_card_saved(admin_api, breaker_after_one_failure, fake):
    fake.enqueue({"error": 503, "headers": {"Retry-After": "0"}, "times": 3})
    failed = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, "this one fails")
    failed_msg = saved_message(admin_api, failed.chat_id, failed.message_id)
    assert "Error ID" in (failed_msg.get("content") or ""), failed_msg
    attempts = len(fake.requests(RESPONSES))
    turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, "and this one is paused")
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    content = msg.get("content") or ""
    assert "paused" in content.lower() and "Error ID" in content, content
    assert len(fake.requests(RESPONSES)) == attempts, "a paused chat must not reach OpenRouter"
