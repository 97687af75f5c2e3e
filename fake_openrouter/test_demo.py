"""Tests of the fake's offline-demo side: demo models, task answers, chat-box quotes.

    python3 -m pytest -q fake_openrouter/test_demo.py
"""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fake_openrouter import FakeOpenRouter, demo, plans  # noqa: E402
from fake_openrouter.test_fake import FIX, call, fixture  # noqa: E402

TITLE_PROMPT = (
    "### Task:\nGenerate a concise title summarizing the chat history.\n### Output:\n"
    'JSON format: { "title": "your concise title here" }\n### Chat History:\n<chat_history>\n'
    "USER: [[fake error=429]] how do rockets fly in space\nASSISTANT: Echo: how\n</chat_history>"
)


@pytest.fixture(scope="module")
def demo_fake():
    with FakeOpenRouter(args=["--demo"]) as f:
        yield f


@pytest.fixture(scope="module")
def plain_fake():
    with FakeOpenRouter() as f:
        yield f


def text_of(resp):
    return "".join(e["delta"] for e in resp.events()[:-1] if e["type"] == "response.output_text.delta")


def ask(fake, model, text="hello", stream=True):
    return call(fake, {"model": model, "input": text, "stream": stream})


def test_demo_catalog_lists_offline_demo_models_next_to_the_real_catalog(demo_fake, plain_fake):
    listed = call(demo_fake, method="GET", path="/api/v1/models").json()["data"]
    plain = json.loads(fixture("models.json"))["data"]
    assert listed[: len(plain)] == plain
    demos = listed[len(plain):]
    assert [m["id"] for m in demos] == list(demo.DEMO_MODELS)
    for m in demos:
        assert m["name"].startswith("Demo: ") and m["name"].endswith("(offline)"), m["name"]
        assert m["description"].startswith("Offline demo"), m["description"]
    names = [m["name"] for m in demos]
    assert "Demo: web search with sources (offline)" in names and "Demo: error mid-answer (offline)" in names
    demo_fake.clear()  # a reset keeps the demo catalog
    assert len(call(demo_fake, method="GET", path="/api/v1/models").json()["data"]) == len(listed)
    assert call(plain_fake, method="GET", path="/api/v1/models").body == fixture("models.json")


def test_each_demo_model_shows_its_feature_without_a_directive(demo_fake):
    demo_fake.clear()
    r = ask(demo_fake, "demo/reasoning")
    kinds = [e["type"] for e in r.events()[:-1]]
    first_text = kinds.index("response.output_text.delta")
    assert "response.reasoning_text.delta" in kinds[:first_text]
    assert "Done thinking" in text_of(r)
    thought = demo_fake.requests()[-1]["reasoning_text"]
    assert thought.startswith("The user asked a question"), thought
    # about four seconds at its rate: long enough to watch "Thinking…"
    deltas = len(plans.words(demo.DEMO_MODELS["demo/reasoning"][2]["reasoning_text"]))
    assert deltas / demo.DEMO_MODELS["demo/reasoning"][2]["rate"] >= 3.5

    assert ask(demo_fake, "demo/web-search").body == fixture("stream_web_search.sse")
    assert ask(demo_fake, "demo/error-mid-answer").body == fixture("stream_error_midstream.sse")
    r = ask(demo_fake, "demo/rate-limit")
    assert r.status == 429 and r.json()["error"]["code"] == 429
    r = ask(demo_fake, "demo/tool-call")
    calls = [e["item"] for e in r.events()[:-1] if e["type"] == "response.output_item.done"]
    assert [c.get("name") for c in calls] == ["get_current_timestamp"]
    assert [x["plan_source"] for x in demo_fake.requests()] == ["demo"] * 5


def test_plain_models_still_echo_and_directives_still_win(demo_fake):
    demo_fake.clear()
    assert text_of(ask(demo_fake, "openai/gpt-4o-mini", "hi there")) == "Echo: hi there"
    assert ask(demo_fake, "demo/reasoning", "[[fake error=503]] x").status == 503


def test_a_title_task_never_echoes_or_obeys_the_quoted_directive(plain_fake):
    plain_fake.clear()
    r = ask(plain_fake, "openai/gpt-4o-mini", TITLE_PROMPT, stream=False)
    assert r.status == 200
    answer = r.json()["output"][0]["content"][0]["text"]
    assert json.loads(answer) == {"title": "How do rockets fly"}
    assert plain_fake.requests()[-1]["plan_source"] == "task"
    tags = TITLE_PROMPT.replace('"title": "your concise title here"', '"tags": ["tag1"]')
    r = ask(plain_fake, "demo/rate-limit", tags, stream=False)
    assert json.loads(r.json()["output"][0]["content"][0]["text"]) == {"tags": ["General"]}
    only_directive = TITLE_PROMPT.replace("how do rockets fly in space", "")
    title = json.loads(ask(plain_fake, "x/y", only_directive, stream=False).json()["output"][0]["content"][0]["text"])
    assert "fake" not in title["title"] and title["title"]


def test_a_directive_typed_with_typographic_quotes_works():
    typed = "[[fake reasoning=2 text=\u201dThought it over.\u201d]] go"
    assert plans.find_directive(typed, FIX) == {"reasoning": 2, "text": "Thought it over."}
    typed = "[[fake text=\u201ctwo words\u201d headers=\u2018X-A: 1\u2019]]"
    assert plans.find_directive(typed, FIX) == {"text": "two words", "headers": {"X-A": "1"}}
