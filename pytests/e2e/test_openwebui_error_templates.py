"""End to end: an admin's error template is what a user finds in the saved chat.

The template valves are set through Open WebUI's own valve API, a real failure is caused on
the UI path (a 429 on every attempt, so the retries give up), and the saved message must hold
the admin's card, with its values filled in and empty lines dropped, instead of the built-in one.
"""

from __future__ import annotations

import json
import re

import pytest
from owui import FUNCTION_ID, TEST_API_KEY, saved_message, ui_path_chat

MODEL = f"{FUNCTION_ID}.openai.gpt-4o-mini"

pytestmark = pytest.mark.e2e

TEMPLATE = (
    "### 🧯 Our own rate-limit card\n"
    "Reference `{error_id}` ({timestamp})\n"
    "{{#if support_email}}\nWrite to {support_email}\n{{/if}}\n"
    "- Provider: {provider}\n"
    "Status {status}"
)


@pytest.fixture
def custom_rate_limit_card(admin_api, openrouter):
    valves = admin_api.valves(FUNCTION_ID)
    admin_api.set_valves(FUNCTION_ID, {**valves, "RATE_LIMIT_TEMPLATE": TEMPLATE, "SUPPORT_EMAIL": "help@example.com"})
    yield
    admin_api.set_valves(FUNCTION_ID, valves)


def test_a_custom_template_is_shown_in_the_saved_chat(admin_api, custom_rate_limit_card, fake):
    turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, "[[fake error=429]] hello?")
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    content = msg.get("content") or ""
    assert "### 🧯 Our own rate-limit card" in content, f"the admin's card is not in the saved chat: {msg}"
    assert re.search(r"Reference `[0-9a-f]{16}` \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)", content), content
    assert "Write to help@example.com" in content
    assert "Status 429" in content
    assert "- Provider:" not in content, "a line whose value is unknown must be dropped"
    assert "Error ID" not in content, "the built-in card must not be shown as well"
    assert TEST_API_KEY not in json.dumps(msg)
    assert len(fake.requests("/api/v1/responses")) == 3, "429 is retried before the card is shown"
