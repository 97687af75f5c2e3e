"""The Rust bridge driven through the Function file, against the fake OpenRouter."""

import asyncio
import inspect
import json
import subprocess
import sys
import textwrap
import time

import pytest

from bridge_helpers import (
    API_KEY,
    chat_body,
    collect,
    content_of,
    new_pipe,
    parse_lines,
    reasoning_of,
    usage_of,
    with_loop_lag,
)
from fake_openrouter.client import FakeOpenRouter


async def test_streamed_answer_arrives_as_chat_chunks_with_usage(fake):
    pipe = new_pipe(fake.base_url)
    result = await pipe.pipe(chat_body("hello there"), __user__={"id": "u"}, __metadata__={})
    assert inspect.isasyncgen(result), "Open WebUI only relays async generators"
    payloads = parse_lines([line async for line in result])
    assert content_of(payloads) == "Echo: hello there"
    usage = usage_of(payloads)
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    sent = fake.requests("/api/v1/responses")[-1]
    assert sent["body"]["model"] == "openai/gpt-4o-mini"
    assert sent["body"]["stream"] is True
    assert sent["body"]["input"][-1]["content"][0] == {"type": "input_text", "text": "hello there"}
    assert sent["headers"]["authorization"] == f"Bearer {API_KEY}"


async def test_fixture_stream_text_is_reassembled_exactly(fake):
    fake.enqueue({"fixture": "stream_text.sse", "chunk": 7})
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("x")))
    assert content_of(payloads) == "Hello! Rust makes fast, safe software fun to write."
    assert usage_of(payloads)["total_tokens"] == 26


async def test_non_stream_request_returns_the_full_text(fake):
    pipe = new_pipe(fake.base_url)
    answer = await pipe.pipe(chat_body("plain please", stream=False), __user__={"id": "u"}, __metadata__={})
    assert answer == "Echo: plain please"
    assert fake.requests("/api/v1/responses")[-1]["body"]["stream"] is False


async def test_title_task_gets_the_model_text_without_streaming(fake):
    pipe = new_pipe(fake.base_url)
    body = chat_body("### Task: generate a title", stream=False)
    answer = await pipe.pipe(body, __user__={"id": "u"}, __metadata__={}, __task__="title_generation")
    assert isinstance(answer, str) and answer.startswith("Echo: ")


async def test_fast_stream_is_coalesced_into_few_chunks(fake):
    fake.enqueue({"synth": 2000})
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("go")))
    text_chunks = [p for p in payloads if p.get("choices")]
    assert content_of(payloads).count("tok") == 2000
    assert len(text_chunks) <= 100, f"{len(text_chunks)} chunks for 2000 deltas"


async def test_closing_the_stream_aborts_the_upstream_request_quickly(fake):
    fake.enqueue({"synth": 100000, "rate": 50})
    result = await new_pipe(fake.base_url).pipe(chat_body("long"), __user__={"id": "u"}, __metadata__={})
    first = await result.__anext__()
    assert first.startswith("data: ")
    closed_at = time.monotonic()
    await result.aclose()
    stats = await asyncio.to_thread(fake.wait_for, lambda s: s["client_aborted"] >= 1, 3.0)
    assert stats["client_aborted"] >= 1
    assert time.monotonic() - closed_at < 1.5


async def test_cancelling_the_consumer_task_aborts_the_upstream_request(fake):
    fake.enqueue({"hang": True})
    result = await new_pipe(fake.base_url).pipe(chat_body("wait"), __user__={"id": "u"}, __metadata__={})

    async def consume():
        async for _ in result:
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await result.aclose()
    stats = await asyncio.to_thread(fake.wait_for, lambda s: s["client_aborted"] >= 1, 2.0)
    assert stats["active_streams"] == 0


async def test_event_loop_stays_responsive_during_a_fast_stream(fake):
    fake.enqueue({"synth": 20000})
    pipe = new_pipe(fake.base_url)
    lines, worst = await with_loop_lag(collect(pipe, chat_body("big")))
    assert content_of(parse_lines(lines)).count("tok") == 20000
    assert worst < 0.25, f"event loop stalled {worst * 1000:.0f} ms"


@pytest.mark.parametrize(
    ("status", "words"),
    [(401, "authentication"), (402, "credit"), (429, "rate limit"), (503, "unavailable")],
)
async def test_http_errors_end_the_answer_with_a_readable_card(fake, status, words):
    fake.enqueue({"error": status, "times": 3})  # transient ones are retried twice first
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("x")))
    text = content_of(payloads)
    assert words in text.lower(), text
    assert "Error ID" in text or "error id" in text.lower()
    assert "Traceback" not in text and API_KEY not in text


async def test_unreachable_openrouter_is_explained_not_raised():
    pipe = new_pipe("http://127.0.0.1:9/api/v1")
    payloads = parse_lines(await collect(pipe, chat_body("x")))
    text = content_of(payloads)
    assert text.strip(), "the user must see why nothing came back"
    assert "Traceback" not in text and API_KEY not in text


async def test_stream_cut_mid_answer_keeps_the_partial_text_and_says_so(fake):
    fake.enqueue({"fixture": "stream_text.sse", "disconnect_after": 2500})
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("x")))
    text = content_of(payloads)
    assert text.startswith("Hello!")
    assert "interrupt" in text.lower()


async def test_pipes_lists_the_catalog_with_sanitised_ids_sorted_by_name(fake):
    models = await new_pipe(fake.base_url).pipes()
    ids = [m["id"] for m in models]
    assert "openai.gpt-4o-mini" in ids and all("/" not in i for i in ids)
    names = [m["name"] for m in models]
    assert names == sorted(names, key=str.lower)
    assert {"OpenAI: GPT-4o-mini"} <= set(names)


async def test_model_id_valve_restricts_the_list(fake):
    pipe = new_pipe(fake.base_url, MODEL_ID="openai/gpt-4o-mini, anthropic.claude-sonnet-4.5")
    ids = sorted(m["id"] for m in await pipe.pipes())
    assert ids == ["anthropic.claude-sonnet-4.5", "openai.gpt-4o-mini"]


def test_a_forked_child_can_still_stream(fake):
    script = textwrap.dedent(
        f"""
        import asyncio, os, sys
        sys.path[:0] = {sys.path[:3]!r}
        from bridge_helpers import new_pipe, chat_body, collect, content_of, parse_lines

        async def once(tag):
            lines = await asyncio.wait_for(collect(new_pipe({fake.base_url!r}), chat_body(tag)), 10)
            return content_of(parse_lines(lines))

        assert asyncio.run(once("parent")) == "Echo: parent"
        pid = os.fork()
        if pid == 0:
            try:
                ok = asyncio.run(once("child")) == "Echo: child"
            except BaseException:
                ok = False
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        print("child-exit", os.waitstatus_to_exitcode(status))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         cwd=str(__import__("pathlib").Path(__file__).parent))
    assert "child-exit 0" in out.stdout, out.stdout + out.stderr


_EXIT_WITH_ANSWERS_PENDING = textwrap.dedent(
    """
    import asyncio, json, random, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import openrouter_pipe
    from openrouter_pipe import _native

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(random.random() * 0.05)
            body = json.dumps({"data": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    valves = json.dumps({"API_KEY": "sk-test",
                         "BASE_URL": f"http://127.0.0.1:{server.server_address[1]}/api/v1"})

    async def leave_early():
        pending = [asyncio.ensure_future(_native.list_models(valves)) for _ in range(200)]
        await asyncio.sleep(random.random() * 0.03)

    asyncio.run(leave_early())
    """
)


def test_a_worker_that_exits_with_answers_still_pending_exits_cleanly():
    # Measured before the fix: about 1 run in 30 aborted ("PyGILState_Release: thread state
    # must be current") or segfaulted, when an engine thread handed a result to the
    # interpreter being torn down. Several runs give the race a fair chance to show.
    for attempt in range(12):
        out = subprocess.run([sys.executable, "-c", _EXIT_WITH_ANSWERS_PENDING], capture_output=True,
                             text=True, timeout=60)
        assert out.returncode == 0 and "Fatal Python error" not in out.stderr, (attempt, out.stderr[-2000:])


def test_malformed_body_does_not_raise(fake):
    pipe = new_pipe(fake.base_url)
    answer = asyncio.run(pipe.pipe("not a dict", __user__=None, __metadata__=None))
    assert isinstance(answer, str)
    json.dumps(answer)


async def test_failed_task_returns_nothing_rather_than_an_error_card_as_a_title(fake):
    fake.enqueue({"error": 502, "times": 3})
    pipe = new_pipe(fake.base_url)
    body = chat_body("### Task: generate a title", stream=False)
    assert await pipe.pipe(body, __user__={"id": "u"}, __metadata__={}, __task__="title_generation") == ""


async def test_a_paced_stream_is_merged_into_few_chunks_at_the_upstream_pace(fake):
    fake.enqueue({"synth": 60, "rate": 100})
    started = time.monotonic()
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("slow")))
    elapsed = time.monotonic() - started
    text_chunks = [p for p in payloads if p.get("choices")]
    assert content_of(payloads).count("tok") == 60
    assert len(text_chunks) <= 30, f"{len(text_chunks)} chunks for 60 deltas at 100/s"
    assert elapsed < 1.5, f"coalescing must not slow the stream down ({elapsed:.2f}s for a 0.6s stream)"


async def test_api_key_stored_in_open_webuis_encrypted_form_still_works(fake, monkeypatch):
    fernet = pytest.importorskip("cryptography.fernet", reason="needs cryptography")
    import base64
    import hashlib

    secret = "webui-secret-for-this-test"
    monkeypatch.setenv("WEBUI_SECRET_KEY", secret)
    token = fernet.Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())).encrypt(
        API_KEY.encode()
    )
    pipe = new_pipe(fake.base_url)
    pipe.valves = pipe.module.Pipe.Valves(API_KEY="encrypted:" + token.decode(), BASE_URL=fake.base_url)
    payloads = parse_lines(await collect(pipe, chat_body("secret hello")))
    assert content_of(payloads) == "Echo: secret hello"
    assert fake.requests("/api/v1/responses")[-1]["headers"]["authorization"] == f"Bearer {API_KEY}"


def test_streams_also_work_on_a_loop_without_add_reader(fake):
    class NoReaderLoop(asyncio.SelectorEventLoop):
        def add_reader(self, *args, **kwargs):
            raise NotImplementedError

    async def run():
        return content_of(parse_lines(await collect(new_pipe(fake.base_url), chat_body("plain loop"))))

    loop = NoReaderLoop()
    try:
        assert loop.run_until_complete(run()) == "Echo: plain loop"
    finally:
        loop.close()


async def test_user_valves_override_the_admins_and_inherit_keeps_them(fake):
    pipe = new_pipe(fake.base_url, THINKING_OUTPUT_MODE="open_webui")
    user_valves = pipe.module.Pipe.UserValves(THINKING_OUTPUT_MODE="status", SHOW_FINAL_USAGE_STATUS=False)
    fake.enqueue({"fixture": "stream_reasoning.sse"})
    result = await pipe.pipe(chat_body("x"), __user__={"id": "u", "valves": user_valves}, __metadata__={})
    payloads = parse_lines([line async for line in result])
    assert reasoning_of(payloads) == "", "status mode shows no Thinking block"
    statuses = [p["event"]["data"]["description"] for p in payloads if p.get("event", {}).get("type") == "status"]
    assert any("Determining the current year" in s for s in statuses), statuses
    assert statuses[-1].startswith("Thought for"), statuses[-1]

    inherit = pipe.module.Pipe.UserValves()
    fake.enqueue({"fixture": "stream_reasoning.sse"})
    result = await pipe.pipe(chat_body("x"), __user__={"id": "u", "valves": inherit}, __metadata__={})
    payloads = parse_lines([line async for line in result])
    assert "Determining the current year" in reasoning_of(payloads)


async def test_models_outside_model_id_cannot_be_reached_by_chat_but_tasks_can(fake):
    pipe = new_pipe(fake.base_url, MODEL_ID="openai/gpt-4o-mini")
    other = chat_body("hi", model="openrouter.anthropic.claude-sonnet-4.5")
    text = content_of(parse_lines(await collect(pipe, other)))
    assert "not enabled" in text
    assert fake.requests("/api/v1/responses") == []
    task = chat_body("title please", stream=False, model="openrouter.anthropic.claude-sonnet-4.5")
    answer = await pipe.pipe(task, __user__={"id": "u"}, __metadata__={}, __task__="title_generation")
    assert answer.startswith("Echo:")
    allowed = content_of(parse_lines(await collect(pipe, chat_body("ok"))))
    assert allowed == "Echo: ok"


async def test_valves_with_a_key_warm_the_model_catalog_in_the_background(monkeypatch):
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    with FakeOpenRouter() as own:  # a fresh base URL: nothing cached for it yet
        keyless = new_pipe(own.base_url)
        keyless.valves = keyless.module.Pipe.Valves(API_KEY="", BASE_URL=own.base_url)
        pipe = new_pipe(own.base_url)  # Open WebUI assigns valves; nothing else is called
        for _ in range(150):
            if own.requests("/api/v1/models"):
                break
            await asyncio.sleep(0.02)
        assert len(own.requests("/api/v1/models")) == 1, "the catalog is fetched once, before anyone asks"
        pipe.valves = pipe.module.Pipe.Valves(API_KEY=API_KEY, BASE_URL=own.base_url)  # as before every call
        assert [m for m in await pipe.pipes() if m["id"] == "openai.gpt-4o-mini"]
        assert len(own.requests("/api/v1/models")) == 1, "the model list is served from the warm cache"


async def test_sequential_answers_reuse_one_connection():
    events = (
        'data: {"type":"response.output_text.delta","item_id":"m","output_index":0,"delta":"Reused"}\n\n'
        'data: {"type":"response.completed","response":{"status":"completed","output":[]}}\n\n'
    )
    # `[DONE]` and the end of the body come in later writes, as they may over a real network.
    plan = {
        "status": 200,
        "headers": {"Content-Type": "text/event-stream"},
        "body": events + "data: [DONE]\n\n",
        "split": [len(events.encode())],
        "pause_ms": 20,
    }
    with FakeOpenRouter() as own:
        pipe = new_pipe(own.base_url)
        await pipe.pipes()
        before = own.stats()["api_connections"]
        for _ in range(5):
            own.enqueue(plan)
            assert content_of(parse_lines(await collect(pipe, chat_body("again")))) == "Reused"
        opened = own.stats()["api_connections"] - before
        assert opened <= 1, f"{opened} new connections for 5 answers: each one pays a new TCP/TLS handshake"
