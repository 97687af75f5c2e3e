"""End to end: tools in a real Open WebUI. A Tool installed through Open WebUI's API, a
builtin tool, Open WebUI's own tool loop (``TOOL_EXECUTION_MODE=Open-WebUI``) and a
browser-side tool server answered by this test's socket.io client."""

from __future__ import annotations

import json

import pytest
from owui import FUNCTION_ID, saved_message, ui_path_chat, wait_until

pytestmark = pytest.mark.e2e

MODEL = f"{FUNCTION_ID}.openai.gpt-4o-mini"
RESPONSES = "/api/v1/responses"

TOOL_SOURCE = '''"""
title: E2E text tools
"""


class Tools:
    def __init__(self):
        pass

    async def reverse_text(self, text: str) -> str:
        """
        Reverse a piece of text.
        :param text: The text to reverse.
        """
        return text[::-1]

    async def fetch_url(self, url: str) -> str:
        """
        Read a web page.
        :param url: The address of the page.
        """
        return "Rust 1.85 stabilised the 2024 edition."
'''


@pytest.fixture(scope="module")
def text_tool(admin_api):
    form = {"id": "e2e_text_tools", "name": "E2E text tools", "content": TOOL_SOURCE, "meta": {"description": "e2e"}}
    existing = admin_api.request("GET", "/api/v1/tools/id/e2e_text_tools", expect=None)
    if existing.status_code == 200 and existing.json():
        admin_api.post("/api/v1/tools/id/e2e_text_tools/update", form)
    else:
        admin_api.post("/api/v1/tools/create", form)
    return "e2e_text_tools"


def responses(fake):
    return [r["body"] for r in fake.requests(path=RESPONSES)]


def outputs(request):
    return [i["output"] for i in request["input"] if i.get("type") == "function_call_output"]


def test_an_installed_tool_is_called_shown_and_answered(admin_api, openrouter, fake, text_tool):
    turn = ui_path_chat(
        admin_api.base_url,
        admin_api.token,
        MODEL,
        """[[fake call=reverse_text call_args='{"text": "stressed"}']] reverse it""",
        extra_body={"tool_ids": [text_tool]},
    )
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    content = msg.get("content", "")
    assert '<details type="tool_calls"' in content and 'name="reverse_text"' in content, content
    assert "Tool results: desserts" in content, content
    first, second = responses(fake)[-2:]
    assert "reverse_text" in [t.get("name") for t in first["tools"]]
    assert outputs(second) == ["desserts"]
    assert (msg.get("usage") or {}).get("total_tokens"), msg.get("usage")
    statuses = [s.get("description", "") for s in msg.get("statusHistory") or []]
    assert "Running reverse_text…" in statuses, statuses


def test_a_builtin_tool_is_called_and_answered(admin_api, openrouter, fake):
    turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, "[[fake call=get_current_timestamp]] time?")
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    [output] = outputs(responses(fake)[-1])
    assert output and "timestamp" in output.lower() or output[:1].isdigit(), output
    assert "Tool results:" in msg.get("content", "")


def test_open_webui_runs_the_calls_in_open_webui_mode(admin_api, openrouter, fake):
    valves = admin_api.valves(FUNCTION_ID)
    admin_api.set_valves(FUNCTION_ID, {**valves, "TOOL_EXECUTION_MODE": "Open-WebUI"})
    try:
        turn = ui_path_chat(admin_api.base_url, admin_api.token, MODEL, "[[fake call=get_current_timestamp]] time?")
        msg = saved_message(
            admin_api,
            turn.chat_id,
            turn.message_id,
            until=lambda m, _chat: (
                "Tool results:" in (m.get("content") or "")
                or any(o.get("type") == "function_call_output" for o in m.get("output") or [])
            ),
        )
    finally:
        admin_api.set_valves(FUNCTION_ID, valves)
    first, second = responses(fake)[-2:]
    assert "get_current_timestamp" in [t.get("name") for t in first["tools"]]
    assert outputs(second), "Open WebUI ran the tool and called the pipe again with its result"
    kinds = [o.get("type") for o in msg.get("output") or []]
    assert "function_call" in kinds, kinds
    assert '<details type="tool_calls"' not in msg.get("content", ""), "the pipe ran nothing itself"


def test_a_browser_side_tool_server_is_answered_through_execute_tool(admin_api, openrouter, fake):
    asked = []

    def on_event(event):
        data = event.get("data") or {}
        if data.get("type") == "execute:tool":
            asked.append(data.get("data"))
            return [{"celsius": 21}, None]
        return None

    server = {
        "url": "http://127.0.0.1:9/unused",
        "path": "openapi.json",
        "specs": [
            {
                "name": "room_temperature",
                "description": "Temperature of a room.",
                "parameters": {"type": "object", "properties": {"room": {"type": "string"}}, "required": ["room"]},
            }
        ],
    }
    turn = ui_path_chat(
        admin_api.base_url,
        admin_api.token,
        MODEL,
        """[[fake call=room_temperature call_args='{"room": "kitchen"}']] warm?""",
        extra_body={"tool_servers": [server]},
        on_event=on_event,
    )
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    assert asked and asked[0]["name"] == "room_temperature" and asked[0]["params"] == {"room": "kitchen"}, asked
    assert "21" in json.dumps(outputs(responses(fake)[-1]))
    assert "Tool results:" in msg.get("content", "")


def test_a_result_open_webui_cites_shows_as_a_source(admin_api, openrouter, fake, text_tool):
    url = "https://blog.rust-lang.org/2025/02/20/Rust-1.85.0/"
    turn = ui_path_chat(
        admin_api.base_url,
        admin_api.token,
        MODEL,
        f"""[[fake call=fetch_url call_args='{{"url": "{url}"}}']] what changed?""",
        extra_body={"tool_ids": [text_tool]},
    )
    msg = saved_message(admin_api, turn.chat_id, turn.message_id)
    cited = [(s.get("source") or {}).get("id") for s in msg.get("sources") or []]
    assert url in cited, msg.get("sources")
    assert "Tool results: Rust 1.85 stabilised the 2024 edition." in msg.get("content", "")


def _model_entry(api, model_id):
    r = api.request("GET", f"/api/v1/models/model?id={model_id}", expect=None)
    return r.json() if r.status_code == 200 and r.content and r.json() else None


def test_a_legacy_model_entry_is_switched_to_native_and_then_runs_tools(admin_api, openrouter, fake, text_tool):
    """§6.2: Open WebUI's prompt-based ("legacy") tool step cannot use the model's own
    function calling, so the pipe switches the entry to native once and says so."""
    # A model no other e2e chat uses: UI chats carry builtin tools, so any earlier chat
    # would already have settled this one as native for the life of the process.
    model = f"{FUNCTION_ID}.x-ai.grok-4-fast"
    admin_api.models(refresh=True)
    entry = wait_until(lambda: _model_entry(admin_api, model), 20, what="synced model entry")
    form = {k: entry.get(k) for k in ("id", "base_model_id", "name", "meta", "params")}
    legacy = {**(entry.get("params") or {}), "function_calling": "legacy"}
    admin_api.post("/api/v1/models/model/update", {**form, "params": legacy})
    try:
        first = ui_path_chat(admin_api.base_url, admin_api.token, model, "hello", extra_body={"tool_ids": [text_tool]})
        notices = [n.get("content") for n in first.events_of("notification")]
        assert f"Enabling native function calling for model: {model}. Please re-run your query." in notices, notices
        switched = _model_entry(admin_api, model)
        assert switched["params"]["function_calling"] == "native", switched["params"]
        again = ui_path_chat(
            admin_api.base_url,
            admin_api.token,
            model,
            """[[fake call=reverse_text call_args='{"text": "drawer"}']] reverse it""",
            extra_body={"tool_ids": [text_tool]},
        )
        msg = saved_message(admin_api, again.chat_id, again.message_id)
        assert "Tool results: reward" in msg.get("content", ""), msg.get("content")
        assert not [n for n in again.events_of("notification") if "native" in (n.get("content") or "")]
    finally:
        admin_api.post("/api/v1/models/model/update", form)
