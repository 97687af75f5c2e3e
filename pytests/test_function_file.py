"""The Function file behaves the way Open WebUI needs it to, under both module namings."""

import asyncio
import inspect
import subprocess
import sys
import textwrap

import pytest

from loader import FUNCTION_FILE, load_function, owui_module_name

SOURCE = FUNCTION_FILE.read_text(encoding="utf-8")


@pytest.fixture(params=["0.12", "0.6"])
def module(request):
    name = owui_module_name("openrouter") if request.param == "0.12" else "function_openrouter"
    yield load_function(SOURCE, name)
    sys.modules.pop(name, None)


def test_frontmatter_is_parsed_by_open_webui_rules():
    lines = SOURCE.splitlines()
    assert lines[0].strip() == '"""'
    assert any(line.startswith("title: ") for line in lines[1:8])


def test_pipe_is_a_real_coroutine_function_naming_its_dunder_arguments(module):
    pipe = module.Pipe()
    assert inspect.iscoroutinefunction(pipe.pipe)
    params = inspect.signature(pipe.pipe).parameters
    # Every argument the roadmap (tools, files, browser-side tools) needs, named once,
    # so admins upload this file once for the whole feature wave.
    assert list(params) == [
        "body",
        "__user__",
        "__metadata__",
        "__event_emitter__",
        "__event_call__",
        "__tools__",
        "__files__",
        "__task__",
        "__task_body__",
        "__request__",
        "__chat_id__",
        "__session_id__",
        "__message_id__",
        "__oauth_token__",
    ]
    assert not any(p.kind is p.VAR_KEYWORD for p in params.values())


def test_function_id_is_recovered_from_either_module_name(module):
    assert module.Pipe().core.pipe_id == "openrouter"


def test_valves_keep_reference_names_and_secret_renders_as_password(module):
    valves = module.Pipe.Valves(API_KEY="sk-or-abc", MODEL_ID="openai/gpt-4o")
    assert valves.MODEL_ID == "openai/gpt-4o"
    assert valves.BASE_URL == "https://openrouter.ai/api/v1"
    schema = module.Pipe.Valves.model_json_schema()["properties"]
    assert schema["API_KEY"]["input"] == {"type": "password"}
    assert module.Pipe().valves.THINKING_OUTPUT_MODE == "open_webui"


def test_user_valves_accept_inherit_and_the_reference_stored_values(module):
    stored_by_reference_pipe = {"ENABLE_REASONING": False, "PERSIST_REASONING_TOKENS": "next_reply"}
    user_valves = module.Pipe.UserValves(**stored_by_reference_pipe)
    assert user_valves.ENABLE_REASONING is False
    assert user_valves.PERSIST_REASONING_TOKENS == "next_reply"
    assert module.Pipe.UserValves().THINKING_OUTPUT_MODE == "inherit"
    assert module.Pipe.UserValves(SHOW_FINAL_USAGE_STATUS="inherit").SHOW_FINAL_USAGE_STATUS == "inherit"


def test_no_api_key_gives_an_empty_model_list_not_an_exception(module, monkeypatch):
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    pipe = module.Pipe()
    pipe.valves = module.Pipe.Valves(API_KEY="", BASE_URL="http://127.0.0.1:9/api/v1")
    assert asyncio.run(pipe.pipes()) == []


def test_missing_api_key_is_explained_in_the_answer(module, monkeypatch):
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    pipe = module.Pipe()
    pipe.valves = module.Pipe.Valves(API_KEY="")
    body = {"model": "openrouter.openai.gpt-4o-mini", "stream": False, "messages": [{"role": "user", "content": "hi"}]}
    answer = asyncio.run(pipe.pipe(body, __user__={"id": "u1"}, __metadata__={}))
    assert "API key" in answer and "API_KEY" in answer


def test_function_loads_without_the_package_and_says_how_to_install():
    script = textwrap.dedent(
        f"""
        import asyncio, sys, types
        sys.modules["openrouter_pipe"] = None  # import fails as if the wheel were missing
        module = types.ModuleType("function_openrouter_" + "0" * 32)
        exec(compile(open({str(FUNCTION_FILE)!r}).read(), "f", "exec"), module.__dict__)
        pipe = module.Pipe()
        print(asyncio.run(pipe.pipes()))
        print(asyncio.run(pipe.pipe({{"model": "openrouter.x", "messages": []}})))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "engine not installed" in out.stdout
    assert "pip install" in out.stdout
