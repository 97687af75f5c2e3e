"""End to end: a model forced onto OpenRouter's Chat Completions API answers on Open WebUI's UI
path (socket.io session, saved chat), and a model whose provider lacks the Responses API falls
back to Chat Completions, both saved complete with their usage."""

from __future__ import annotations

import json

import pytest
from owui import FUNCTION_ID, saved_message, ui_path_chat

OR_MODEL = "openai/gpt-4o-mini"
MODEL = f"{FUNCTION_ID}.{OR_MODEL.replace('/', '.')}"
CHAT = "/api/v1/chat/completions"
RESPONSES = "/api/v1/responses"

pytestmark = pytest.mark.e2e


def test_a_forced_chat_completions_model_answers_on_the_ui_path(admin_api, openrouter, fake):
    valves = admin_api.valves(FUNCTION_ID)
    admin_api.set_valves(FUNCTION_ID, {**valves, "FORCE_CHAT_COMPLETIONS_MODELS": "openai/gpt-4o-*"})
    try:
        text = "Hello over Chat Completions"
        turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, text)
        msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    finally:
        admin_api.set_valves(FUNCTION_ID, valves)
    assert not msg.get("error"), msg.get("error")
    assert msg.get("content", "").strip() == f"Echo: {text}", msg.get("content")
    usage = msg.get("usage") or {}
    assert usage.get("prompt_tokens", 0) > 0 and usage.get("completion_tokens", 0) > 0, usage
    chats = fake.requests(CHAT)
    assert len(chats) == 1 and not fake.requests(RESPONSES)
    assert chats[0]["body"]["messages"][-1]["content"] == [{"type": "text", "text": text}]
    assert "Echo: " in json.dumps(turn.events, ensure_ascii=False), "the answer streamed live"


def test_a_model_without_the_responses_api_falls_back_and_is_saved_complete(admin_api, openrouter, fake):
    text = "[[fake responses_unsupported]] please fall back"
    turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, text)
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    assert not msg.get("error"), msg.get("error")
    assert msg.get("content", "").strip() == "Echo: please fall back", msg.get("content")
    assert "Error ID" not in msg.get("content", "")
    assert len(fake.requests(RESPONSES)) == 1 and len(fake.requests(CHAT)) == 1
