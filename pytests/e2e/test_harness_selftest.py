"""Self-test of the e2e harness with a tiny stand-in pipe (NOT the product's Function).

If these fail, the harness or Open WebUI itself is broken, not the product: the pipe below
is a few lines of plain Python written here, shaped like the 0.12.4 recipe's test pipe.
"""

from __future__ import annotations

import pytest
from owui import Api, saved_message, sse_content, sse_usage, ui_path_chat

DUMMY_ID = "e2e_dummy"
DUMMY_MODEL = f"{DUMMY_ID}.alpha"

DUMMY_PIPE = '''"""
title: e2e dummy pipe
version: 0.0.1
"""
import json
from pydantic import BaseModel


class Pipe:
    class Valves(BaseModel):
        PREFIX: str = "dummy"

    def __init__(self):
        self.valves = self.Valves()
        self.name = "Dummy/"

    def pipes(self):
        return [{"id": "alpha", "name": "Alpha"}, {"id": "beta", "name": "Beta"}]

    async def pipe(self, body: dict, __task__: str = None, __metadata__: dict = None):
        if __task__ == "title_generation":
            return json.dumps({"title": "Dummy Title"})
        if __task__:
            return "{}"
        text = body["messages"][-1]["content"]
        answer = f"{self.valves.PREFIX}: {text}"
        if not body.get("stream"):
            return answer

        async def gen():
            for word in answer.split(" "):
                yield word + " "
            yield {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8}}
        return gen()
'''


@pytest.fixture(scope="module")
def dummy(admin_api: Api):
    admin_api.install_function(DUMMY_ID, "E2E Dummy", DUMMY_PIPE, description="harness self-test")
    admin_api.set_valves(DUMMY_ID, {"PREFIX": "echo"})
    models = admin_api.models()
    yield models
    admin_api.delete_function(DUMMY_ID)
    admin_api.models()


def test_function_install_is_idempotent(admin_api, dummy):
    fn = admin_api.install_function(DUMMY_ID, "E2E Dummy", DUMMY_PIPE)
    assert fn["is_active"] is True
    assert admin_api.valves(DUMMY_ID) == {"PREFIX": "echo"}


def test_models_listed(dummy):
    by_id = {m["id"]: m for m in dummy}
    assert by_id[DUMMY_MODEL]["name"] == "Dummy/Alpha"
    assert f"{DUMMY_ID}.beta" in by_id


def test_stream_and_nonstream(admin_api, dummy):
    r, chunks = admin_api.chat_stream(DUMMY_MODEL, "hello harness")
    assert r.status_code == 200, r.text
    assert sse_content(chunks).strip() == "echo: hello harness"
    assert sse_usage(chunks)["total_tokens"] == 8
    assert chunks[-1] == "[DONE]"

    r = admin_api.chat(DUMMY_MODEL, "hello again", stream=False)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["message"]["content"] == "echo: hello again"


def test_ui_path_saves_chat_and_title(admin_api, dummy):
    old = admin_api.task_config()
    admin_api.update_task_config(ENABLE_TITLE_GENERATION=True)
    try:
        turn = ui_path_chat(
            admin_api.base_url,
            admin_api.token,
            DUMMY_MODEL,
            "from the ui path",
            background_tasks={"title_generation": True},
        )
        msg = saved_message(
            admin_api, turn.chat_id, turn.message_id, until=lambda m, chat: chat.get("title") == "Dummy Title"
        )
    finally:
        admin_api.update_task_config(**old)
    assert msg["content"].strip() == "echo: from the ui path"
    assert msg["usage"]["total_tokens"] == 8
    assert "chat:completion" in turn.event_types()

    # A second turn in the same chat.
    turn2 = ui_path_chat(
        admin_api.base_url,
        admin_api.token,
        DUMMY_MODEL,
        "second turn",
        chat_id=turn.chat_id,
        parent_id=turn.message_id,
    )
    msg2 = saved_message(admin_api, turn.chat_id, turn2.message_id)
    assert msg2["content"].strip() == "echo: second turn"
    assert msg2["parentId"] == turn2.user_message_id


def test_restart_keeps_function_chats_and_token(admin_api, dummy, restart_owui, owui_server):
    turn = ui_path_chat(admin_api.base_url, admin_api.token, DUMMY_MODEL, "before restart")
    saved_message(admin_api, turn.chat_id, turn.message_id)
    starts = owui_server.starts
    restart_owui()
    assert owui_server.starts == starts + 1
    chat = admin_api.get_chat(turn.chat_id)  # same token still valid
    assert chat["chat"]["history"]["messages"][turn.message_id]["content"].strip() == "echo: before restart"
    turn2 = ui_path_chat(
        admin_api.base_url,
        admin_api.token,
        DUMMY_MODEL,
        "after restart",
        chat_id=turn.chat_id,
        parent_id=turn.message_id,
    )
    assert (
        saved_message(admin_api, turn.chat_id, turn2.message_id)["content"].strip() == "echo: after restart"
    )
