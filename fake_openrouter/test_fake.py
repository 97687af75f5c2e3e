"""Tests of the fake OpenRouter itself: python3 -m pytest -q fake_openrouter/test_fake.py"""

import http.client
import json
import os
import socket
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from fake_openrouter import FakeOpenRouter, plans  # noqa: E402

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "openrouter")
AUTH = {"Authorization": "Bearer sk-or-v1-test"}


def fixture(name):
    with open(os.path.join(FIX, name), "rb") as f:
        return f.read()


@pytest.fixture(scope="module")
def fake():
    with FakeOpenRouter() as f:
        yield f


@pytest.fixture(autouse=True)
def _fresh(fake):
    fake.clear()


# -- a tiny raw HTTP client that shows chunk boundaries, timing and truncation --------------------


class Resp:
    def __init__(self):
        self.status, self.headers, self.chunks, self.complete = None, {}, [], False
        self.t_headers = None

    @property
    def body(self):
        return b"".join(c for c, _ in self.chunks)

    def json(self):
        return json.loads(self.body)

    def events(self):
        return sse_events(self.body)


def sse_events(body):
    """Parse an LF-framed SSE body into JSON payloads (plus the string '[DONE]')."""
    out = []
    for frame in body.decode().split("\n\n"):
        data = [ln[5:].lstrip() for ln in frame.split("\n") if ln.startswith("data:")]
        if data:
            payload = "\n".join(data)
            out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def send(fake, method="POST", path="/api/v1/responses", body=None, headers=None):
    sock = socket.create_connection(("127.0.0.1", fake.port), timeout=15)
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    hdrs = {"Host": "x", "Content-Length": str(len(data)), **(headers or {})}
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
    sock.sendall(head.encode() + data)
    return sock


def read_response(sock):
    f = sock.makefile("rb")
    r = Resp()
    line = f.readline()
    r.t_headers = time.monotonic()
    r.status = int(line.split()[1])
    while True:
        line = f.readline().rstrip(b"\r\n")
        if not line:
            break
        k, _, v = line.decode().partition(":")
        r.headers[k.strip().lower()] = v.strip()
    if r.headers.get("transfer-encoding") == "chunked":
        while True:
            size_line = f.readline()
            if not size_line:
                return r  # EOF before the terminating chunk
            size = int(size_line.strip(), 16)
            if size == 0:
                f.readline()
                r.complete = True
                return r
            data = f.read(size)
            r.chunks.append((data, time.monotonic()))
            if len(data) < size or f.readline() != b"\r\n":
                return r
    n = int(r.headers.get("content-length", 0))
    data = f.read(n) if n else b""
    r.chunks.append((data, time.monotonic()))
    r.complete = len(data) == n
    return r


def call(fake, body=None, headers=AUTH, method="POST", path="/api/v1/responses"):
    sock = send(fake, method, path, body, headers)
    try:
        return read_response(sock)
    finally:
        sock.close()


def req(text="hello brave world", stream=True, **kw):
    return {"model": "openai/gpt-4o-mini", "input": text, "stream": stream, **kw}


# -- basics ---------------------------------------------------------------------------------------


def test_health_and_catalog(fake):
    assert call(fake, method="GET", path="/health").json() == {"ok": True}
    r = call(fake, method="GET", path="/api/v1/models", headers={})  # no auth needed
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    assert r.body == fixture("models.json")
    r = call(fake, method="GET", path="/api/frontend/v1/catalog/models", headers={})
    assert r.body == fixture("frontend_models.json")
    assert call(fake, method="GET", path="/api/v1/nope").status == 404


def test_auth_errors_do_not_consume_plans(fake):
    fake.enqueue({"text": "planned"})
    r = call(fake, req(), headers={})
    assert r.status == 401 and r.body == fixture("error_401.json")
    r = call(fake, req(), headers={"Authorization": "Bearer sk-or-invalid"})
    assert r.status == 401 and r.body == fixture("error_401_user_not_found.json")
    assert fake.stats()["plans_queued"] == 1
    assert "".join(e["delta"] for e in call(fake, req()).events()
                   if isinstance(e, dict) and e["type"] == "response.output_text.delta") == "planned"


def test_echo_stream_lifecycle(fake):
    r = call(fake, req())
    assert r.status == 200 and r.headers["content-type"] == "text/event-stream" and r.complete
    assert r.body.startswith(b": OPENROUTER PROCESSING\n\n")
    evs = r.events()
    assert evs[-1] == "[DONE]"
    evs = evs[:-1]
    types = [e["type"] for e in evs]
    assert types == ["response.created", "response.in_progress", "response.output_item.added",
                     "response.content_part.added"] + ["response.output_text.delta"] * 4 + [
        "response.output_text.done", "response.content_part.done", "response.output_item.done",
        "response.completed"]
    assert [e["sequence_number"] for e in evs] == list(range(len(evs)))
    assert [e["delta"] for e in evs if e["type"].endswith(".delta")] == ["Echo:", " hello", " brave", " world"]
    text = "".join(e["delta"] for e in evs if e["type"] == "response.output_text.delta")
    assert text == "Echo: hello brave world"
    done = evs[-1]["response"]
    assert done["status"] == "completed" and done["model"] == "openai/gpt-4o-mini"
    assert done["output"][0]["content"][0]["text"] == text
    u = done["usage"]
    assert u["output_tokens"] == 4 and u["total_tokens"] == u["input_tokens"] + 4 and u["cost"] > 0
    assert r.headers["x-generation-id"] == done["id"] and done["id"].startswith("gen-")
    rec = fake.requests("/api/v1/responses")[-1]
    assert rec["response_text"] == text and rec["outcome"] == "completed" and rec["plan_source"] == "default"


def test_echo_nonstream_and_content_parts(fake):
    body = {"model": "anthropic/claude-sonnet-4.5", "input": [
        {"role": "user", "content": "first"},
        {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
         "content": [{"type": "output_text", "text": "x", "annotations": []}]},
        {"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": "last"}, {"type": "input_image", "image_url": "data:,"},
            {"type": "input_text", "text": "question"}]}]}
    r = call(fake, body)
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    resp = r.json()
    assert resp["object"] == "response" and resp["status"] == "completed"
    assert resp["output"][0]["content"][0]["text"] == "Echo: last\nquestion"
    assert resp["usage"]["output_tokens"] == 3
    assert r.headers["x-generation-id"] == resp["id"]


# -- fixtures and delivery ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(FIX) if f.endswith(".sse")))
def test_sse_fixture_verbatim(fake, name):
    fake.enqueue({"fixture": name})
    r = call(fake, req())
    assert r.status == 200 and r.complete and r.headers["content-type"] == "text/event-stream"
    assert r.body == fixture(name)
    assert r.headers["x-generation-id"].startswith("gen-")
    if name == "stream_text.sse":
        rec = fake.requests()[-1]
        assert rec["response_text"] == "Hello! Rust makes fast, safe software fun to write."
        assert rec["bytes_sent"] == len(r.body) and rec["plan"] == {"fixture": name}


def test_json_fixture_verbatim(fake):
    fake.enqueue({"fixture": "nonstream_function_call.json"})
    r = call(fake, req(stream=False))
    assert r.status == 200 and r.body == fixture("nonstream_function_call.json")


def test_split_and_chunk(fake):
    data = fixture("stream_unicode.sse")
    offsets = json.loads(fixture("stream_unicode.byte_splits.json"))["split_at_byte_offsets"]
    fake.enqueue([{"fixture": "stream_unicode.sse", "split": offsets, "pause_ms": 0},
                  {"fixture": "stream_text.sse", "chunk": 500, "pause_ms": 0}])
    r = call(fake, req())
    assert r.body == data
    assert [len(c) for c, _ in r.chunks] == [b - a for a, b in zip([0] + offsets, offsets + [len(data)])]
    r = call(fake, req())
    sizes = [len(c) for c, _ in r.chunks]
    assert r.body == fixture("stream_text.sse") and set(sizes[:-1]) == {500} and sizes[-1] <= 500


def test_split_pieces_arrive_as_separate_reads(fake):
    fake.enqueue({"fixture": "stream_text.sse", "split": [10, 20], "pause_ms": 80})
    sock = send(fake, body=req(), headers=AUTH)
    got, t = [], []
    sock.settimeout(5)
    while True:
        data = sock.recv(65536)
        if not data:
            break
        got.append(data)
        t.append(time.monotonic())
        if b"0\r\n\r\n" in data[-5:]:
            break
    sock.close()
    body_reads = [g for g in got if b"HTTP/1.1" not in g]
    assert len(body_reads) >= 3 and t[-1] - t[0] >= 0.15


@pytest.mark.parametrize("framing,sep", [("crlf", b"\r\n"), ("cr", b"\r"), ("lf", b"\n")])
def test_framing(fake, framing, sep):
    fake.enqueue({"fixture": "stream_tool_call.sse", "framing": framing})
    assert call(fake, req()).body == fixture("stream_tool_call.sse").replace(b"\n", sep)


def test_framing_applies_to_echo(fake):
    fake.enqueue({"crlf": 1})
    body = call(fake, req()).body
    assert b"\n\n" not in body and body.count(b"\r\n\r\n") == 14


def test_drip_and_delay(fake):
    fake.enqueue({"fixture": "stream_error_event_midstream.sse", "drip_ms": 40, "delay_ms": 250})
    t0 = time.monotonic()
    r = call(fake, req())
    n = len(plans.split_events(fixture("stream_error_event_midstream.sse")))
    assert r.t_headers - t0 >= 0.24
    assert r.body == fixture("stream_error_event_midstream.sse")
    assert len(r.chunks) == n  # one event per chunk
    assert r.chunks[-1][1] - r.chunks[0][1] >= (n - 1) * 0.04 * 0.9


def test_disconnect_after(fake):
    fake.enqueue([{"fixture": "stream_text.sse", "disconnect_after": 1000},
                  {"fixture": "nonstream_response.json", "disconnect_after": 50}])
    r = call(fake, req())
    assert r.status == 200 and not r.complete and r.body == fixture("stream_text.sse")[:1000]
    r = call(fake, req(stream=False))
    assert not r.complete and r.body == fixture("nonstream_response.json")[:50]
    st = fake.stats()
    assert st["server_disconnects"] == 2 and st["client_aborted"] == 0


def _abort_noticed_within(fake, sock, limit=1.0):
    before = fake.stats()["client_aborted"]
    sock.close()
    t_close = time.time()
    st = fake.wait_for(lambda s: s["client_aborted"] == before + 1, timeout=3)
    assert st["last_abort_ts"] - t_close < limit
    assert st["active_streams"] == 0
    return st


def test_hang_then_client_abort(fake):
    fake.enqueue({"hang": True})
    sock = send(fake, body=req(), headers=AUTH)
    fake.wait_for(lambda s: s["active_streams"] == 1)
    time.sleep(0.3)
    st = _abort_noticed_within(fake, sock)
    assert st["last_abort_latency_ms"] < 1000
    assert fake.requests("/api/v1/responses")[-1]["outcome"] == "aborted"


def test_abort_during_slow_drip(fake):
    fake.enqueue({"synth": 50, "drip_ms": 5000})
    sock = send(fake, body=req(), headers=AUTH)
    sock.settimeout(5)
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    _abort_noticed_within(fake, sock)


def test_abort_during_full_speed_stream(fake):
    fake.enqueue({"synth": 300000})
    sock = send(fake, body=req(), headers=AUTH)
    sock.settimeout(5)
    sock.recv(65536)
    st = _abort_noticed_within(fake, sock)
    assert st["streams_completed"] == 0


# -- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status,name", [(400, "error_400.json"), (401, "error_401.json"),
                                         (402, "error_402.json"), (403, "error_403_moderation.json"),
                                         (408, "error_408.json"), (429, "error_429.json"),
                                         (502, "error_502.json"), (503, "error_503.json")])
def test_error_plans(fake, status, name):
    fake.enqueue({"error": status})
    r = call(fake, req())
    assert r.status == status and r.body == fixture(name)
    assert r.headers["content-type"] == "application/json"
    if status == 429:
        assert r.headers["x-ratelimit-limit"] == "50" and r.headers["x-ratelimit-reset"] == "1767312000000"
        assert "retry-after" not in r.headers
    if status == 503:
        assert r.headers["retry-after"] == "20"


def test_error_fixture_and_raw_bodies(fake):
    fake.enqueue([{"error_fixture": "error_400_context_length.json"},
                  {"status": 502, "body": "<html><body>502 Bad Gateway</body></html>"},
                  {"status": 500},
                  {"status": 429, "body": {"error": {"message": "slow", "code": "429"}},
                   "headers": {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}},
                  {"error": 404}])
    r = call(fake, req())
    assert r.status == 400 and r.body == fixture("error_400_context_length.json")
    r = call(fake, req())
    assert r.status == 502 and r.headers["content-type"] == "text/html" and r.body.startswith(b"<html>")
    r = call(fake, req())
    assert r.status == 500 and r.body == b"" and r.complete
    r = call(fake, req())
    assert r.status == 429 and r.json()["error"]["code"] == "429"
    assert r.headers["retry-after"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    r = call(fake, req())
    assert r.status == 404 and r.json()["error"]["code"] == 404


# -- synth ------------------------------------------------------------------------------------------


def test_synth_stream_count_and_reasoning(fake):
    fake.enqueue([{"synth": 2000}, {"synth": 20, "reasoning": 7},
                  {"synth": 5, "reasoning": 3, "reasoning_style": "summary", "model": "openai/o4-mini"}])
    evs = call(fake, req()).events()
    deltas = [e["delta"] for e in evs if isinstance(e, dict) and e["type"] == "response.output_text.delta"]
    assert len(deltas) == 2000 and deltas[12] == "tok12 "
    assert "".join(deltas) == fake.requests()[-1]["response_text"]
    assert evs[-2]["response"]["usage"]["output_tokens"] == 2000
    evs = call(fake, req(model="anthropic/claude-sonnet-4.5")).events()
    types = [e["type"] for e in evs[:-1]]
    assert types.count("response.reasoning_text.delta") == 7
    assert types.count("response.output_text.delta") == 20
    final = evs[-2]["response"]
    assert [o["type"] for o in final["output"]] == ["reasoning", "message"]
    assert final["output"][0]["format"] == "anthropic-claude-v1"
    assert final["usage"]["output_tokens_details"]["reasoning_tokens"] == 7
    evs = call(fake, req()).events()
    assert sum(e["type"] == "response.reasoning_summary_text.delta" for e in evs[:-1]) == 3
    assert evs[-2]["response"]["model"] == "openai/o4-mini"
    assert evs[-2]["response"]["output"][0]["encrypted_content"]


def test_synth_nonstream(fake):
    fake.enqueue({"synth": 10})
    resp = call(fake, req(stream=False)).json()
    assert resp["output"][0]["content"][0]["text"] == "".join(f"tok{i} " for i in range(10))


def test_rate_roughly_honoured(fake):
    fake.enqueue({"synth": 50, "rate": 100})
    t0 = time.monotonic()
    r = call(fake, req())
    elapsed = time.monotonic() - t0
    assert 0.4 <= elapsed <= 1.5, elapsed
    assert len(r.chunks) > 10  # paced, not one blob


def test_per_event_writes_each_event_on_its_own_at_full_speed(fake):
    fake.enqueue([{"synth": 300, "per_event": 1}, {"synth": 300}])
    t0 = time.monotonic()
    each = call(fake, req())
    elapsed = time.monotonic() - t0
    batched = call(fake, req())
    frames = plans.split_events(each.body)
    assert [c for c, _ in each.chunks] == frames  # one HTTP chunk (one write) per SSE event
    deltas = [e for e in each.events() if isinstance(e, dict) and e["type"] == "response.output_text.delta"]
    assert [d["delta"] for d in deltas] == [f"tok{i} " for i in range(300)]
    assert len(batched.chunks) < 5 and len(plans.split_events(batched.body)) == len(frames)
    assert elapsed < 2, elapsed  # full speed: no pacing between the writes
    assert plans.find_directive("[[fake synth=5 per_event=1]]") == {"synth": 5, "per_event": True}


def test_full_speed_50_concurrent_streams(fake):
    fake.enqueue({"synth": 2000, "times": 50})
    counts, errors = [], []

    def one():
        try:
            evs = call(fake, req()).events()
            counts.append(sum(1 for e in evs if isinstance(e, dict) and e["type"] == "response.output_text.delta"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t0 = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    assert not errors and counts == [2000] * 50
    assert elapsed < 15, elapsed
    st = fake.stats()
    assert st["streams_completed"] == 50 and st["active_streams"] == 0


# -- directives, queue, recording, control ----------------------------------------------------------


def test_directive_parsing_unit():
    p = plans.find_directive("hi [[fake fixture=stream_reasoning.sse split=7,100 crlf=1]] there", FIX)
    assert p == {"fixture": "stream_reasoning.sse", "split": [7, 100], "framing": "crlf"}
    assert plans.find_directive("[[fake error=429]]") == {"error": 429}
    assert plans.find_directive("[[fake synth=2000 rate=100]]") == {"synth": 2000, "rate": 100.0}
    assert plans.find_directive("[[fake 503 delay_ms=10]]") == {"error": 503, "delay_ms": 10.0}
    assert plans.find_directive("[[fake tool_call hang]]", FIX) == {"fixture": "stream_tool_call.sse", "hang": True}
    assert plans.find_directive('[[fake text="two words" headers="X-A: 1; X-B: 2"]]') == {
        "text": "two words", "headers": {"X-A": "1", "X-B": "2"}}
    assert plans.find_directive("no directive here") is None
    with pytest.raises(plans.PlanError):
        plans.find_directive("[[fake bogus=1]]")


def test_directive_in_request(fake):
    body = req(text=[{"role": "user", "content": [
        {"type": "input_text", "text": "go [[fake fixture=stream_reasoning.sse split=7,100 crlf=1]]"}]}])
    body["input"] = body.pop("input")
    r = call(fake, body)
    assert r.body == fixture("stream_reasoning.sse").replace(b"\n", b"\r\n")
    assert [len(c) for c, _ in r.chunks[:2]] == [7, 93]
    assert fake.requests()[-1]["plan_source"] == "directive"
    assert call(fake, req(text="[[fake error=429]]")).status == 429
    r = call(fake, req(text="[[fake drip_ms=1]] hello"))
    assert "".join(e["delta"] for e in r.events()[:-1] if e["type"].endswith("text.delta")) == "Echo: hello"
    r = call(fake, req(text="[[fake nonsense_word]]"))
    assert r.status == 400 and "bad directive" in r.json()["error"]["message"]


def test_queue_fifo_times_and_forever(fake):
    fake.enqueue([{"text": "one", "times": 2}, {"text": "two"}])

    def text():
        return call(fake, req(stream=False)).json()["output"][0]["content"][0]["text"]

    assert [text(), text(), text(), text()] == ["one", "one", "two", "Echo: hello brave world"]
    fake.enqueue({"text": "always", "times": 0})
    assert [text(), text(), text()] == ["always"] * 3
    fake.clear_plans()
    assert text() == "Echo: hello brave world"


def test_queued_plan_beats_directive(fake):
    fake.enqueue({"text": "queued"})
    r = call(fake, req(text="[[fake error=429]]", stream=False))
    assert r.status == 200 and r.json()["output"][0]["content"][0]["text"] == "queued"


def test_request_recording_and_cap(fake):
    call(fake, req(), headers={**AUTH, "X-OpenRouter-Title": "Pipe", "HTTP-Referer": "http://x"})
    rec = fake.requests()[-1]
    assert rec["path"] == "/api/v1/responses" and rec["method"] == "POST"
    assert rec["headers"]["authorization"] == "Bearer sk-or-v1-test"
    assert rec["headers"]["x-openrouter-title"] == "Pipe"
    assert rec["body"]["input"] == "hello brave world" and abs(rec["ts"] - time.time()) < 5
    fake.clear_requests()
    conn = http.client.HTTPConnection("127.0.0.1", fake.port)  # keep-alive: one connection
    for i in range(1005):
        conn.request("GET", f"/api/v1/models?i={i}")
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    conn.close()
    recs = fake.requests()
    assert len(recs) == 1000 and recs[0]["query"] == "i=5" and recs[-1]["query"] == "i=1004"


def test_keep_alive_mixed_requests(fake):
    fake.enqueue([{"synth": 30}, {"error": 429}, {"fixture": "stream_text.sse", "split": [5]}])
    conn = http.client.HTTPConnection("127.0.0.1", fake.port)
    results = []
    for stream in (True, True, True, False):
        conn.request("POST", "/api/v1/responses", json.dumps(req(stream=stream)), AUTH)
        resp = conn.getresponse()
        results.append((resp.status, resp.read()))
    conn.close()
    assert [s for s, _ in results] == [200, 429, 200, 200]
    assert results[2][1] == fixture("stream_text.sse")
    assert fake.stats()["streams_completed"] == 4


def test_models_control(fake):
    fake.set_models([{"id": "a/b", "pricing": {"prompt": "0.001", "completion": "0.002"}}])
    assert call(fake, method="GET", path="/api/v1/models").json() == {
        "data": [{"id": "a/b", "pricing": {"prompt": "0.001", "completion": "0.002"}}]}
    usage = call(fake, {**req(stream=False), "model": "a/b"}).json()["usage"]
    assert usage["cost"] == pytest.approx(usage["input_tokens"] * 0.001 + usage["output_tokens"] * 0.002)
    fake.set_models(fixture="frontend_models.json")
    assert call(fake, method="GET", path="/api/v1/models").body == fixture("frontend_models.json")
    fake.set_models(error=503)
    r = call(fake, method="GET", path="/api/v1/models")
    assert r.status == 503 and r.headers["retry-after"] == "20"
    assert call(fake, method="GET", path="/api/v1/models").status == 503
    fake.reset_models()
    assert call(fake, method="GET", path="/api/v1/models").body == fixture("models.json")


def test_bad_plans_rejected(fake):
    for bad in ({"bogus": 1}, {"fixture": "../models.json"}, {"fixture": "nope.sse"},
                {"framing": "crcr"}, {"split": "a,b"}, [{"text": "ok"}, {"error": 42}]):
        with pytest.raises(RuntimeError, match="400"):
            fake.enqueue(bad)
    assert fake.stats()["plans_queued"] == 0


def test_request_body_limits_and_chunked_upload(fake):
    sock = send(fake, body=b"", headers={**AUTH, "Content-Length": str(200 * 1024 * 1024)})
    r = read_response(sock)
    sock.close()
    assert r.status == 413
    payload = json.dumps(req(stream=False)).encode()
    sock = socket.create_connection(("127.0.0.1", fake.port), timeout=10)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 7]), payload[i:i + 7]) for i in range(0, len(payload), 7))
    sock.sendall(b"POST /api/v1/responses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
    r = read_response(sock)
    sock.close()
    assert r.status == 200 and r.json()["output"][0]["content"][0]["text"] == "Echo: hello brave world"
    fake.enqueue({"text": "ok"})
    r = call(fake, req(stream=False, input="word " * 2_000_000))  # ~10 MB body
    assert r.status == 200 and fake.requests()[-1]["body"]["input"].startswith("word word")


# -- /chat/completions ----------------------------------------------------------------------------

CHAT = "/api/v1/chat/completions"


def chat_req(text="hello brave world", stream=True, **kw):
    return {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}], "stream": stream, **kw}


def test_chat_completions_echo_streams_chunks_then_usage(fake):
    r = call(fake, chat_req(), path=CHAT)
    assert r.status == 200 and r.headers["content-type"] == "text/event-stream" and r.complete
    evs = r.events()
    assert evs[-1] == "[DONE]"
    chunks = evs[:-1]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Echo: hello brave world"
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finish[-1] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 4
    rec = fake.requests(CHAT)[-1]
    assert rec["response_text"] == text and rec["body"]["messages"][0]["content"] == "hello brave world"


def test_chat_completions_tool_calls_reasoning_and_json(fake):
    fake.enqueue({"call": "get_weather", "call_args": '{"city":"Paris"}', "reasoning": 2})
    chunks = call(fake, chat_req(), path=CHAT).events()[:-1]
    fragments = [tc for c in chunks if c["choices"] for tc in c["choices"][0]["delta"].get("tool_calls") or []]
    assert fragments[0]["function"]["name"] == "get_weather" and fragments[0]["id"].startswith("call_")
    assert "".join(f["function"].get("arguments", "") for f in fragments) == '{"city":"Paris"}'
    reasoning = "".join(c["choices"][0]["delta"].get("reasoning") or "" for c in chunks if c["choices"])
    assert reasoning == "think0 think1 "
    doc = call(fake, chat_req("the tool said", stream=False), path=CHAT).json()
    assert doc["object"] == "chat.completion"
    assert doc["choices"][0]["message"]["content"] == "Echo: the tool said"
    assert doc["usage"]["prompt_tokens"] > 0


def test_responses_unsupported_applies_to_responses_only(fake):
    fake.enqueue({"responses_unsupported": True, "times": 0})
    r = call(fake, req())
    assert r.status == 400 and r.body == fixture("error_400_responses_unsupported.json")
    doc = call(fake, chat_req(stream=False), path=CHAT).json()
    assert doc["choices"][0]["message"]["content"] == "Echo: hello brave world"
