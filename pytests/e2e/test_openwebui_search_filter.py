"""End to end: the "OpenRouter Search" toggle in a real Open WebUI 0.12.4.

The pipe installs the filter on its own when Open WebUI lists the models, attaches it to the
models OpenRouter offers web search for (on by default), and a chat with the toggle on
reaches OpenRouter with its web plugin, while a chat without it does not.
"""

from __future__ import annotations

import pytest
from owui import FUNCTION_ID, saved_message, ui_path_chat, wait_until

pytestmark = pytest.mark.e2e

FILTER_ID = "openrouter_search"
SEARCH_MODEL = f"{FUNCTION_ID}.openai.gpt-4.1"  # the catalog prices web search
PLAIN_MODEL = f"{FUNCTION_ID}.gryphe.mythomax-l2-13b"  # no web search in the catalog
RESPONSES = "/api/v1/responses"


def model_entry(api, model_id: str) -> dict | None:
    r = api.request("GET", f"/api/v1/models/model?id={model_id}", expect=None)
    return r.json() if r.status_code == 200 and r.content and r.json() else None


@pytest.fixture(scope="module")
def search_filter(admin_api, openrouter) -> dict:
    """The installed filter, once the model sync attached it (then the model list is reloaded,
    so Open WebUI's chat path sees the new filter ids)."""
    admin_api.models(refresh=True)
    installed = wait_until(lambda: admin_api.function(FILTER_ID), 30, what="the OpenRouter Search filter")

    def attached():
        entry = model_entry(admin_api, SEARCH_MODEL)
        return entry if entry and FILTER_ID in (entry["meta"].get("filterIds") or []) else None

    wait_until(attached, 30, what=f"{FILTER_ID} in {SEARCH_MODEL}'s filterIds")
    admin_api.models(refresh=True)
    return installed


def test_the_filter_is_installed_as_an_active_toggle(search_filter):
    assert search_filter["type"] == "filter"
    assert search_filter["name"] == "OpenRouter Search"
    assert search_filter["is_active"] is True and search_filter["is_global"] is False
    assert search_filter["meta"].get("toggle") is True
    assert "openrouter_pipe:ors_filter:v1" in search_filter["content"]


def test_the_toggle_shows_on_web_search_models_only_and_starts_on(admin_api, search_filter):
    entry = model_entry(admin_api, SEARCH_MODEL)
    assert FILTER_ID in entry["meta"]["filterIds"]
    assert FILTER_ID in entry["meta"]["defaultFilterIds"]
    plain = model_entry(admin_api, PLAIN_MODEL)
    assert FILTER_ID not in ((plain or {}).get("meta") or {}).get("filterIds", [])
    listed = {m["id"]: m for m in admin_api.models()}
    assert FILTER_ID in [f["id"] for f in listed[SEARCH_MODEL].get("filters") or []]
    assert FILTER_ID not in [f["id"] for f in listed[PLAIN_MODEL].get("filters") or []]


def test_a_chat_with_the_toggle_on_sends_openrouters_web_plugin(admin_api, search_filter, fake):
    turn = ui_path_chat(
        admin_api.base_url,
        admin_api.token,
        SEARCH_MODEL,
        "what happened in rust this week?",
        extra_body={"filter_ids": [FILTER_ID]},
    )
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    assert "Echo: what happened in rust this week?" in msg.get("content", "")
    sent = fake.requests(RESPONSES)[-1]["body"]
    plugins = sent.get("plugins") or []
    assert [p.get("id") for p in plugins] == ["web"], f"plugins sent: {plugins}"


def test_a_chat_with_the_toggle_off_sends_no_web_plugin(admin_api, search_filter, fake):
    turn = ui_path_chat(admin_api.base_url, admin_api.token, SEARCH_MODEL, "no search please")
    saved_message(admin_api, turn.chat_id, turn.message_id)
    sent = fake.requests(RESPONSES)[-1]["body"]
    assert "plugins" not in sent, f"plugins sent without the toggle: {sent.get('plugins')}"
