"""In a real Open WebUI 0.12.4: the admin form tells which valves do nothing yet, and a
configuration saved for the reference pipe (keys we don't know, values our compat valves
can't take) still saves, and chats keep working with it."""

from __future__ import annotations

import pytest
from owui import FUNCTION_ID, TEST_API_KEY

pytestmark = pytest.mark.e2e

MODEL = f"{FUNCTION_ID}.openai.gpt-4o-mini"


def test_admin_form_marks_valves_that_do_nothing(admin_api, openrouter):
    form = admin_api.get(f"/api/v1/functions/id/{FUNCTION_ID}/valves/spec")["properties"]
    # Every valve works now (the status style fix went live in session 13): none says "Not active yet".
    assert not [name for name, field in form.items() if field["description"].startswith("Not active yet")]
    assert not form["ENABLE_STATUS_CSS_PATCH"]["description"].startswith("Not active yet")
    assert not form["ENABLE_REDIS_CACHE"]["description"].startswith("Not active yet")  # live since #13
    assert not form["MAX_CONCURRENT_REQUESTS"]["description"].startswith("Not active yet")  # live since #12
    assert not form["ENABLE_SSRF_PROTECTION"]["description"].startswith("Not active yet")  # live since #11
    assert form["SSE_WORKERS_PER_REQUEST"]["description"].startswith("Accepted for compatibility, no effect: ")
    assert not form["MODEL_ID"]["description"].startswith(("Not active yet", "Accepted for compatibility"))


def test_reference_configuration_saves_and_chats_still_work(admin_api, openrouter, fake_server, fake):
    reference_config = {
        "API_KEY": TEST_API_KEY,
        "BASE_URL": fake_server.base_url,
        "RETIRED_QUEUE_MODE": "Pipeline",
        "SSE_WORKERS_PER_REQUEST": "four",
        "MIDDLEWARE_STREAM_QUEUE_PUT_TIMEOUT_SECONDS": "soon",
        "MAX_CONCURRENT_REQUESTS": 50,
    }
    try:
        admin_api.set_valves(FUNCTION_ID, reference_config)
        saved = admin_api.valves(FUNCTION_ID)
        assert "RETIRED_QUEUE_MODE" not in saved
        assert saved["SSE_WORKERS_PER_REQUEST"] == 4
        assert saved["MAX_CONCURRENT_REQUESTS"] == 50
        r = admin_api.chat(MODEL, "hello after the old configuration", stream=False)
        assert r.status_code == 200, r.text[:2000]
        assert "Echo: hello after the old configuration" in r.json()["choices"][0]["message"]["content"]
    finally:
        admin_api.set_valves(FUNCTION_ID, {"API_KEY": TEST_API_KEY, "BASE_URL": fake_server.base_url})
