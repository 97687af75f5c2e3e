"""What an admin sees of valves that do nothing today, and that stored configurations
always load: Open WebUI 0.12.4 applies stored valves with
``Valves(**{k: v for k, v in stored.items() if v is not None})`` before every call
(``open_webui/functions.py``, ``get_function_module_by_id``) and re-raises a validation
error, which breaks every chat of the Function. So unknown keys must be dropped, and a
compat valve (no effect) must take any value.
"""

from __future__ import annotations

import pytest
from loader import FUNCTION_FILE, load_function, owui_module_name
from pydantic import ValidationError

from openrouter_pipe.valves import valve_specs

PLANNED = "Not active yet: "
COMPAT = "Accepted for compatibility, no effect: "

# The reference pipe's streaming internals; this engine has no such workers or queues.
REFERENCE_QUEUE_VALVES = {
    "SSE_WORKERS_PER_REQUEST",
    "STREAMING_CHUNK_QUEUE_MAXSIZE",
    "STREAMING_EVENT_QUEUE_MAXSIZE",
    "STREAMING_EVENT_QUEUE_WARN_SIZE",
    "MIDDLEWARE_STREAM_QUEUE_MAXSIZE",
    "MIDDLEWARE_STREAM_QUEUE_PUT_TIMEOUT_SECONDS",
}


@pytest.fixture(scope="module")
def pipe_class():
    module = load_function(FUNCTION_FILE.read_text(encoding="utf-8"), owui_module_name())
    return module.Pipe


def apply_stored(valves_class, stored: dict):
    """What Open WebUI 0.12.4 does with a Function's stored valves."""
    return valves_class(**{k: v for k, v in stored.items() if v is not None})


def by_status(status: str) -> set[str]:
    return {spec["name"] for spec in valve_specs() if spec["status"] == status}


def test_admin_form_marks_exactly_the_valves_that_do_nothing(pipe_class):
    form = pipe_class.Valves.model_json_schema()["properties"]
    assert set(form) == {spec["name"] for spec in valve_specs()}
    for spec in valve_specs():
        text = form[spec["name"]]["description"]
        if spec["status"] == "planned":
            assert text.startswith(PLANNED + "does nothing until "), (spec["name"], text)
            assert "(issue #" in text or "(issues #" in text, (spec["name"], text)
        elif spec["status"] == "compat":
            assert text.startswith(COMPAT), (spec["name"], text)
        else:
            assert spec["status"] == "live", spec
            assert PLANNED.strip() not in text and COMPAT.strip() not in text, (spec["name"], text)


def test_the_issues_examples_are_no_longer_presented_as_working(pipe_class):
    form = pipe_class.Valves.model_json_schema()["properties"]
    assert not form["ENABLE_STATUS_CSS_PATCH"]["description"].startswith(PLANNED)  # live since session 13
    assert by_status("planned") == set(), "every valve the issues named works now"
    assert not form["ENABLE_REDIS_CACHE"]["description"].startswith(PLANNED)  # live since #13
    assert not form["MAX_CONCURRENT_REQUESTS"]["description"].startswith(PLANNED)  # live since #12
    assert not form["ENABLE_SSRF_PROTECTION"]["description"].startswith(PLANNED)  # live since #11
    assert by_status("compat") == REFERENCE_QUEUE_VALVES
    assert len(by_status("live")) + len(by_status("planned")) + len(by_status("compat")) == len(valve_specs())


def test_user_form_shows_only_live_valves(pipe_class):
    form = pipe_class.UserValves.model_json_schema()["properties"]
    assert form, "the user valves are declared"
    assert set(form) <= by_status("live")


def test_stored_valves_with_unknown_keys_load(pipe_class):
    stored = {
        "API_KEY": "sk-or-stored",
        "MODEL_ID": "openai/gpt-4o",
        # Valves of other reference versions, or removed since: dropped, not an error.
        "RETIRED_QUEUE_MODE": "Pipeline",
        "ALLOW_INSECURE_HTTP": True,
        "SOME_FUTURE_VALVE": {"nested": [1, 2]},
        "LOG_LEVEL": None,
    }
    valves = apply_stored(pipe_class.Valves, stored)
    assert valves.API_KEY == "sk-or-stored"
    assert valves.MODEL_ID == "openai/gpt-4o"
    assert "RETIRED_QUEUE_MODE" not in valves.model_dump()
    assert "SOME_FUTURE_VALVE" not in valves.model_dump()


def test_compat_valves_take_any_stored_value(pipe_class):
    defaults = pipe_class.Valves()
    stored = {
        "SSE_WORKERS_PER_REQUEST": "four",
        "STREAMING_CHUNK_QUEUE_MAXSIZE": [500],
        "STREAMING_EVENT_QUEUE_MAXSIZE": -1,
        "STREAMING_EVENT_QUEUE_WARN_SIZE": 5,
        "MIDDLEWARE_STREAM_QUEUE_MAXSIZE": "unbounded",
        "MIDDLEWARE_STREAM_QUEUE_PUT_TIMEOUT_SECONDS": "soon",
    }
    valves = apply_stored(pipe_class.Valves, stored)
    for name in stored:
        assert getattr(valves, name) == getattr(defaults, name), name
    # A value the field can take is kept, so saving the form does not rewrite it.
    assert apply_stored(pipe_class.Valves, {"SSE_WORKERS_PER_REQUEST": 6}).SSE_WORKERS_PER_REQUEST == 6


def test_live_valves_still_reject_bad_values(pipe_class):
    # The admin form reports these instead of saving them.
    with pytest.raises(ValidationError):
        apply_stored(pipe_class.Valves, {"HTTP_CONNECT_TIMEOUT_SECONDS": "ten"})
    with pytest.raises(ValidationError):
        apply_stored(pipe_class.Valves, {"HTTP_CONNECT_TIMEOUT_SECONDS": 0})
