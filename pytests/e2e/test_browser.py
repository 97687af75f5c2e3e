"""In a real Chromium, what a user of Open WebUI sees: the answer streaming in, the thinking block
live and then how long it thought, sources under a web-search answer, the usage status line,
error cards (a 429; a failure mid-answer below its partial text), all of it again after a reload,
and no hidden marker line on the page or in what the copy button copies.

The chats use the offline demo's models (`fake_openrouter/demo.py`), so this also checks that
the demo shows each feature with no directive. One browser and one sign-in serve the module.
"""

from __future__ import annotations

import importlib.util
import math
import re
import time

import pytest
from browser import MARKER_TEXT, Browser, missing_browser, thought_seconds
from owui import FUNCTION_ID, REPO_ROOT, TEST_ADMIN, TEST_API_KEY

pytestmark = pytest.mark.e2e

# "Time: 2.25s  4.4 tps | Cost $0.000009 | Total tokens: 29 (Input: 19, Output: 10)"; the page
# shows the two spaces before the speed as one (HTML collapses white space).
USAGE_LINE = re.compile(r"Time: \d+\.\d\ds\s+\d+\.\d tps \| (Cost \$[0-9.]+ \| )?Total tokens: \d+ \(")


def demo_model(name: str) -> str:
    return f"{FUNCTION_ID}.demo.{name}"


def fake_reasoning_seconds() -> float:
    """How long the fake's demo reasoning streams: from its first reasoning delta to the first
    answer delta, at the plan's rate (deltas per second)."""
    spec = importlib.util.spec_from_file_location("fake_demo", REPO_ROOT / "fake_openrouter" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    plan = module.DEMO_MODELS["demo/reasoning"][2]
    return len(re.findall(r"\s*\S+", plan["reasoning_text"])) / plan["rate"]


def assert_no_marker(text: str, where: str) -> None:
    assert not MARKER_TEXT.search(text), f"a hidden marker line shows in {where}:\n{text}"
    assert TEST_API_KEY not in text, f"the API key shows in {where}"


@pytest.fixture(scope="module")
def browser(owui_server, openrouter):
    why = missing_browser()
    if why:
        pytest.fail(f"the browser suite cannot run: {why}", pytrace=False)
    b = Browser(owui_server.base_url, TEST_ADMIN["email"], TEST_ADMIN["password"])
    yield b
    b.close()


@pytest.fixture
def chat(browser, request):
    """Open a chat with a model: `chat(model_id)`; a failing test leaves a screenshot."""
    pages = []

    def open_chat(model_id: str):
        page = browser.new_chat(model_id)
        pages.append(page)
        return page

    yield open_chat
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for i, page in enumerate(pages):
        if failed:
            path = page.shot(f"{request.node.name}-{i}", always=True)
            print(f"\n[browser] screenshot of the failure: {path}")
        page.close()


def test_plain_answer_streams_in_and_copies_without_a_marker(chat, fake):
    page = chat(f"{FUNCTION_ID}.openai.gpt-4o-mini")
    # Typed quotes become typographic ones in the chat box; the directive still applies.
    page.send('[[fake text="One two three four five six seven eight nine ten." rate=4]] count')
    partial = page.wait_text(lambda t: "One two" in t, what="the first words")
    assert "ten." not in partial, f"the whole answer arrived at once, not streamed: {partial!r}"
    page.shot("plain-streaming")
    done = page.wait_done()
    assert "One two three four five six seven eight nine ten." in done
    assert USAGE_LINE.search(done), f"no usage status line, or not in its shape: {done!r}"
    copied = page.copied_answer()
    assert copied.strip() == "One two three four five six seven eight nine ten."
    assert_no_marker(page.page_text(), "the page")


def test_reasoning_is_live_then_says_how_long_it_thought_also_after_a_reload(chat, fake):
    page = chat(demo_model("reasoning"))
    sent = page.send("why is the sky blue?")
    live = page.wait_text(lambda t: "Thinking" in t, what='the live "Thinking…" block')
    seen_live = time.monotonic() - sent
    assert thought_seconds(live) is None, f"the block said it was done while still thinking: {live!r}"
    page.shot("reasoning-live")
    done = page.wait_text(lambda t: "Done thinking" in t and thought_seconds(t) is not None, what="the answer")
    shown = thought_seconds(done)
    fake_seconds = fake_reasoning_seconds()
    print(f"\n[browser] reasoning: fake streamed {fake_seconds:.2f} s, the block says {shown} s "
          f"(\"Thinking…\" seen {seen_live:.1f} s after sending)")
    assert math.floor(fake_seconds) <= shown <= fake_seconds + 3, (shown, fake_seconds)
    done = page.wait_done()
    assert "Total tokens:" in done and "Reasoning:" in done, f"no usage status line: {done!r}"
    page.shot("reasoning-done")
    assert_no_marker(page.page_text(), "the page")

    page.reload()
    again = page.answer_text()
    page.shot("reasoning-reloaded")
    assert thought_seconds(again) == shown, f"after a reload the block says {again!r}, before {shown} s"
    assert "Done thinking" in again and "Total tokens:" in again
    assert_no_marker(page.page_text(), "the reloaded page")


@pytest.mark.xfail(
    strict=True,
    reason="known: an answer with stored reasoning keeps its replay marker line in the message text, "
    "which Open WebUI's copy button copies (issue #15 item 2, not done)",
)
def test_copying_an_answer_with_reasoning_gives_no_marker(chat, fake):
    page = chat(demo_model("reasoning"))
    page.send("copy me")
    page.wait_done()
    assert_no_marker(page.copied_answer(), "the copied text")


def test_web_search_answer_lists_its_sources_also_after_a_reload(chat, fake):
    page = chat(demo_model("web-search"))
    page.send("what is new in rust?")
    done = page.wait_text(
        lambda t: "2 Sources" in t and "Rust 1.85.0 was released" in t, what="the answer with its sources under it"
    )
    assert "Rust 1.85.0 was released" in done
    assert done.index("Rust 1.85.0") < done.index("2 Sources"), "the sources are not under the answer"
    page.answer().locator('button[aria-label="Toggle 2 sources"]').click()
    listed = page.wait_text(lambda t: "blog.rust-lang.org" in t or "Rust 1.85.0 is out" in t, 10, "the source list")
    page.shot("web-search-sources")
    assert_no_marker(listed, "the answer")
    page.reload()
    assert "2 Sources" in page.answer_text()


def test_rate_limit_shows_an_error_card_also_after_a_reload(chat, fake):
    page = chat(demo_model("rate-limit"))
    page.send("hello")
    card = page.wait_text(lambda t: "Rate limit reached" in t, what="the 429 card")
    page.shot("rate-limit-card")
    assert "429" in card and "Demo: rate limit error (offline)" in card
    assert "Traceback" not in card
    page.wait_done()
    page.reload()
    assert "Rate limit reached" in page.answer_text()


def test_mid_answer_failure_keeps_the_partial_text_above_the_card_also_after_a_reload(chat, fake):
    page = chat(demo_model("error-mid-answer"))
    page.send("tell me a long story")
    shown = page.wait_text(lambda t: "stopped with an error" in t, what="the mid-answer error card")
    page.shot("mid-answer-card")
    partial = "Here is the first part of a long answer"
    assert partial in shown, f"the partial answer is gone: {shown!r}"
    assert shown.index(partial) < shown.index("stopped with an error"), "the partial text is not above the card"
    page.wait_done()
    page.reload()
    again = page.answer_text()
    assert partial in again and again.index(partial) < again.index("stopped with an error")
    assert_no_marker(page.page_text(), "the reloaded page")


def test_offline_demo_banner_and_models_say_they_are_offline(chat, admin_api):
    spec = importlib.util.spec_from_file_location("demo_script", REPO_ROOT / "scripts" / "demo.py")
    demo_script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo_script)
    demo_script.set_offline_banner(admin_api, True)
    try:
        page = chat(demo_model("reasoning"))
        banner = page.page.get_by_text("Offline demo: answers come from a local fake OpenRouter")
        banner.wait_for(state="visible", timeout=15_000)
        page.page.get_by_label("Selected model: Demo: reasoning (offline)").wait_for(state="visible")
        page.shot("offline-banner")
        names = [m.get("name", "") for m in admin_api.models() if m["id"].startswith(f"{FUNCTION_ID}.demo.")]
        assert sorted(names) == sorted(
            [
                "Demo: reasoning (offline)",
                "Demo: web search with sources (offline)",
                "Demo: tool call (offline)",
                "Demo: rate limit error (offline)",
                "Demo: error mid-answer (offline)",
            ]
        ), names
    finally:
        demo_script.set_offline_banner(admin_api, False)
    assert admin_api.get("/api/v1/configs/banners") == []


def test_tool_call_demo_runs_the_tool_and_answers_with_its_result(chat, fake):
    page = chat(demo_model("tool-call"))
    page.send("what time is it?")
    done = page.wait_text(lambda t: "Tool results:" in t, 45, "the answer after the tool ran")
    page.wait_done()
    page.shot("tool-call")
    assert "View Result from get_current_timestamp" in done, f"no tool block: {done!r}"
    assert '"current_timestamp":' in done, f"the answer does not carry the tool's result: {done!r}"
    assert done.index("View Result") < done.index("Tool results:"), "the tool block is not above the answer"
    assert_no_marker(page.page_text(), "the page")


def test_long_statuses_are_shown_in_full_through_the_status_style_fix(chat, fake):
    """ENABLE_STATUS_CSS_PATCH (on by default): the chat's first answer runs the pipe's
    script in the page through Open WebUI's `execute` event, and the status line's clamp is
    lifted."""
    page = chat(f"{FUNCTION_ID}.openai.gpt-4o-mini")
    page.send("status style please")
    page.wait_done()
    page.page.wait_for_function('document.getElementById("owui-status-unclamp") !== null', timeout=10_000)
    css = page.page.evaluate('document.getElementById("owui-status-unclamp").textContent')
    assert ".status-description .line-clamp-1" in css and "pre-wrap" in css, css
    clamped = page.page.evaluate(
        "Array.from(document.querySelectorAll('.status-description .line-clamp-1'))"
        ".map(e => getComputedStyle(e).whiteSpace)"
    )
    assert clamped and set(clamped) == {"pre-wrap"}, clamped


def test_reasoning_then_a_tool_then_the_answer_read_in_order(chat, fake):
    """A reasoning model that thinks, calls a tool, then answers: the thinking block, the
    tool's result and the answer each show once, in that order, with no marker."""
    page = chat(demo_model("tool-call"))
    page.send('[[fake reasoning_text="I should look at the clock first." call=get_current_timestamp]] time?')
    done = page.wait_text(lambda t: "Tool results:" in t, 45, "the answer after the tool ran")
    done = page.wait_done()
    page.shot("reasoning-tool")
    assert thought_seconds(done) is not None, f"no finished thinking block: {done!r}"
    assert "View Result from get_current_timestamp" in done, f"no tool block: {done!r}"
    assert done.index("Thought for") < done.index("View Result") < done.index("Tool results:"), done
    assert done.count("View Result from get_current_timestamp") == 1, done
    assert_no_marker(page.page_text(), "the page")


def test_an_answer_of_reasoning_alone_finishes_cleanly(chat, fake):
    """A model that only thinks and writes no text: the thinking block finishes, the answer
    is done (its buttons show), and no error card or marker appears."""
    page = chat(demo_model("reasoning"))
    page.send('[[fake reasoning_text="Nothing to add after all." text=""]] think only')
    done = page.wait_done()
    page.shot("reasoning-only")
    assert thought_seconds(done) is not None, f"no finished thinking block: {done!r}"
    assert "Error" not in done and "could not" not in done, done
    assert_no_marker(page.page_text(), "the page")
    page.reload()
    assert thought_seconds(page.answer_text()) is not None, "after a reload"
