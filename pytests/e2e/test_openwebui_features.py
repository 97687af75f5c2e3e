"""End to end, beyond plain text: live reasoning, web-search sources, the usage status line,
model capabilities synced into Open WebUI, and reasoning replayed across an Open WebUI restart.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
from owui import FUNCTION_ID, TEST_API_KEY, saved_message, ui_path_chat, wait_until

pytestmark = pytest.mark.e2e

REASONING_MODEL = f"{FUNCTION_ID}.openai.o4-mini"
SEARCH_MODEL = f"{FUNCTION_ID}.openai.gpt-4.1"
RESPONSES = "/api/v1/responses"
MARKER = re.compile(r"^\[[0-9A-HJKMNP-TV-Z]{20}\]: #$", re.M)


def reasoning_items(msg: dict) -> list[dict]:
    return [o for o in (msg.get("output") or []) if isinstance(o, dict) and o.get("type") == "reasoning"]


def test_reasoning_shows_as_a_thinking_block_with_usage_status(admin_api, openrouter, fake):
    turn = ui_path_chat(
        admin_api.base_url, admin_api.token, REASONING_MODEL, "[[fake fixture=stream_reasoning.sse]] 1995?"
    )
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    assert "Yes. In 2025, 1995 was exactly 30 years ago." in msg.get("content", "")
    thoughts = json.dumps(reasoning_items(msg))
    assert "Determining the current year" in thoughts, f"no reasoning block saved: {msg.get('output')}"
    statuses = [s.get("description", "") for s in msg.get("statusHistory") or []]
    assert any("Total tokens: 235" in s and "Reasoning: 192" in s for s in statuses), statuses
    assert (msg.get("usage") or {}).get("completion_tokens") == 214
    assert TEST_API_KEY not in json.dumps(msg)


def test_reasoning_keeps_its_real_duration(admin_api, openrouter, fake):
    """Open WebUI times the thinking box from the first reasoning delta to the first
    answer text: nothing of the answer (no marker) may come before the reasoning ends."""
    turn = ui_path_chat(
        admin_api.base_url, admin_api.token, REASONING_MODEL, '[[fake reasoning=8 rate=4 text="Thought it over."]] go'
    )
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    assert "Thought it over." in msg.get("content", "")
    [item] = reasoning_items(msg)
    assert item.get("status") == "completed", item
    assert (item.get("duration") or 0) >= 1, f"reasoning streamed for ~2 s but was saved as {item.get('duration')} s"


def test_web_search_answer_lists_its_sources(admin_api, openrouter, fake):
    turn = ui_path_chat(
        admin_api.base_url, admin_api.token, SEARCH_MODEL, "[[fake fixture=stream_web_search.sse]] rust 1.85?"
    )
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    urls = [(s.get("source") or {}).get("url") for s in msg.get("sources") or []]
    assert urls == [
        "https://blog.rust-lang.org/2025/02/20/Rust-1.85.0/",
        "https://doc.rust-lang.org/edition-guide/rust-2024/index.html",
    ], msg.get("sources")
    statuses = [s.get("description", "") for s in msg.get("statusHistory") or []]
    assert any("Searching the web" in s for s in statuses), statuses


def test_model_entries_get_catalog_capabilities(admin_api, openrouter):
    admin_api.models(refresh=True)

    def entry(model_id):
        r = admin_api.request("GET", f"/api/v1/models/model?id={model_id}", expect=None)
        return r.json() if r.status_code == 200 and r.content and r.json() else None

    vision = wait_until(lambda: entry(f"{FUNCTION_ID}.openai.gpt-4o-mini"), 20, what="synced model entry")
    caps = vision["meta"]["capabilities"]
    assert caps["vision"] is True and caps["file_upload"] is True
    assert "GPT-4o" in (vision["meta"].get("description") or "") or vision["meta"].get("description")
    text_only = wait_until(lambda: entry(f"{FUNCTION_ID}.gryphe.mythomax-l2-13b"), 20, what="synced entry")
    assert text_only["meta"]["capabilities"]["vision"] is False
    searchable = entry(f"{FUNCTION_ID}.openai.gpt-4.1")
    assert searchable["meta"]["capabilities"]["web_search"] is True
    icon = searchable["meta"]["profile_image_url"]
    # The picture itself, the SVG drawn to a PNG: Open WebUI drops SVG data URLs.
    assert icon and icon.startswith("data:image/png;base64,"), (icon or "")[:80]
    assert base64.b64decode(icon.split(",", 1)[1])[:4] == b"\x89PNG"
    image = admin_api.request("GET", f"/api/v1/models/model/profile/image?id={FUNCTION_ID}.openai.gpt-4.1")
    assert image.headers.get("content-type", "").startswith("image/png"), image.headers


def test_reasoning_is_replayed_on_the_next_turn_after_a_restart(admin_api, openrouter, fake, restart_owui):
    first = ui_path_chat(
        admin_api.base_url, admin_api.token, REASONING_MODEL, "[[fake fixture=stream_reasoning.sse]] first"
    )
    saved = saved_message(admin_api, first.chat_id, first.message_id)
    assert MARKER.search(saved.get("content", "")), f"no artifact marker saved: {saved.get('content')!r}"

    restart_owui()

    second = ui_path_chat(
        admin_api.base_url,
        admin_api.token,
        REASONING_MODEL,
        "and the second question",
        chat_id=first.chat_id,
        parent_id=first.message_id,
    )
    saved_message(admin_api, second.chat_id, second.message_id)
    last = fake.requests(RESPONSES)[-1]["body"]
    kinds = [item.get("type") for item in last["input"]]
    assert "reasoning" in kinds, f"turn 2 did not replay the reasoning item: {kinds}"
    reasoning = last["input"][kinds.index("reasoning")]
    assert reasoning.get("encrypted_content"), reasoning
    answer_at = next(i for i, item in enumerate(last["input"]) if item.get("role") == "assistant")
    assert kinds.index("reasoning") < answer_at, "reasoning replays before the answer it preceded"
    assert not MARKER.search(json.dumps(last)), "markers never reach the model"
