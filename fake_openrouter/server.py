#!/usr/bin/env python3
"""Fake OpenRouter server (stdlib only, asyncio, hand-written HTTP/1.1).

    python3 fake_openrouter/server.py --host 127.0.0.1 --port 0 [--port-file PATH]

Prints `FAKE_OPENROUTER_PORT=<port>` as its first stdout line. See README.md for plans and the
control API.
"""

import argparse
import asyncio
import base64
import bisect
import email.utils
import hashlib
import json
import os
import signal
import sys
import time
import traceback
from collections import deque

try:
    from . import chat, demo, plans
    from .httpio import MAX_BODY, ClientGone, Conn, HttpError, Reply, error_json, reason
except ImportError:  # run as a script
    import chat
    import demo
    import plans
    from httpio import MAX_BODY, ClientGone, Conn, HttpError, Reply, error_json, reason

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_FIXTURES = os.path.normpath(os.path.join(HERE, "..", "fixtures", "openrouter"))
MAX_LOG = 1000
MAX_LOG_BYTES = 256 * 1024 * 1024
WRITE_SLICE = 256 * 1024
DEFAULT_PAUSE_MS = 1.0


class FakeOpenRouter:
    """Server state: plan queue, request log, stats, catalog; and the request handlers."""

    def __init__(self, fixtures_dir=DEFAULT_FIXTURES, max_body=MAX_BODY, verbose=False, demo=False):
        self.fixtures = fixtures_dir
        self.demo = demo
        self.max_body = max_body
        self.verbose = verbose
        self.plans = deque()  # [plan, remaining] pairs; remaining None = forever
        self.log = deque()
        self.log_bytes = 0
        self.seq = 0
        self.reset_models()
        self.reset_stats()
        self.downloads = {}  # name -> {"body", "content_type", "failures": [status...], "retry_after", "hits"}

    # -- state ----------------------------------------------------------------------------------

    def fixture_bytes(self, name):
        with open(os.path.join(self.fixtures, name), "rb") as f:
            return f.read()

    def reset_models(self):
        self.models_body = self.fixture_bytes("models.json")
        if self.demo:
            self.models_body = demo.with_demo_models(self.models_body)
        self.models_error = None
        self._prices = None

    def reset_stats(self):
        self.stats = {"active_streams": 0, "streams_started": 0, "streams_completed": 0,
                      "client_aborted": 0, "server_disconnects": 0, "api_connections": 0,
                      "last_abort_latency_ms": None, "last_abort_ts": None, "peak_active_streams": 0}

    def pricing(self, model):
        if self._prices is None:
            try:
                data = json.loads(self.models_body).get("data", [])
                self._prices = {m.get("id"): m.get("pricing") or {} for m in data if isinstance(m, dict)}
            except (ValueError, AttributeError):
                self._prices = {}
        return self._prices.get(model, {})

    def record(self, req):
        self.seq += 1
        body = req.json()
        rec = {"id": self.seq, "path": req.path, "query": req.query, "method": req.method,
               "headers": dict(req.headers), "body": body, "ts": time.time()}
        if body is None and req.body:
            rec["raw_body"] = req.body[:4096].decode("utf-8", "replace")
        rec["_size"] = len(req.body)
        self.log.append(rec)
        self.log_bytes += rec["_size"]
        while len(self.log) > MAX_LOG or (self.log_bytes > MAX_LOG_BYTES and len(self.log) > 1):
            self.log_bytes -= self.log.popleft()["_size"]
        return rec

    def next_plan(self, body):
        """(plan, source): the oldest queued plan, else a task's answer (a title, tags: never the
        directive the quoted chat carries), else a directive in the last user text, else a demo
        model's own plan, else {}."""
        if self.plans:
            entry = self.plans[0]
            if entry[1] is not None:
                entry[1] -= 1
                if entry[1] <= 0:
                    self.plans.popleft()
            return entry[0], "queue"
        text = plans.last_user_text(body)
        if demo.is_task_prompt(text):
            return {"text": demo.task_answer(text, plans.strip_directives)}, "task"
        plan = plans.find_directive(text, self.fixtures)
        if plan is not None:
            return plan, "directive"
        plan = demo.plan_for(body.get("model"))
        if plan is not None:
            return plans.normalize(plan, self.fixtures), "demo"
        return {}, "default"

    # -- connection loop ------------------------------------------------------------------------

    async def handle_conn(self, reader, writer):
        conn = Conn(reader, writer)
        counted = False
        try:
            while True:
                try:
                    req = await conn.read_request(self.max_body)
                except HttpError as exc:
                    await self.send_simple(conn, exc.status, error_json(exc.status, str(exc)), keep=False)
                    break
                if req is None:
                    break
                if not counted and not req.path.startswith("/_fake"):
                    counted = True  # a connection a client under test opened (not the control API)
                    self.stats["api_connections"] += 1
                conn.headers_sent, conn.keep_alive = False, req.keep_alive
                try:
                    keep = await self.dispatch(conn, req)
                except ClientGone:
                    break
                except Exception as exc:  # a bug in the fake: say so rather than hang the client
                    traceback.print_exc(file=sys.stderr)
                    if not conn.headers_sent:
                        await self.send_simple(conn, 500, error_json(500, f"fake server bug: {exc!r}"), keep=False)
                    break
                if not keep or not req.keep_alive:
                    break
        except (ClientGone, ConnectionError, OSError, asyncio.IncompleteReadError, EOFError):
            pass
        except asyncio.CancelledError:
            # Shutdown with idle keep-alive connections open: end quietly (a re-raised
            # cancellation is reported by asyncio as an error in a callback).
            pass
        finally:
            try:
                await conn.stop_watch()
                await conn.close()
            except (asyncio.CancelledError, OSError):
                pass

    async def send_simple(self, conn, status, body, ctype="application/json", keep=True, headers=()):
        head = [f"HTTP/1.1 {status} {reason(status)}", f"Content-Type: {ctype}",
                f"Content-Length: {len(body)}", f"Date: {email.utils.formatdate(usegmt=True)}"]
        head += [f"{k}: {v}" for k, v in headers]
        keep = keep and conn.keep_alive
        if not keep:
            head.append("Connection: close")
        conn.headers_sent = True
        await conn.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        return keep

    async def send_json(self, conn, obj, status=200):
        return await self.send_simple(conn, status, json.dumps(obj).encode())

    async def dispatch(self, conn, req):
        path = req.path.rstrip("/") or "/"
        if self.verbose:
            print(f"{req.method} {req.path}", file=sys.stderr, flush=True)
        if path == "/health":
            return await self.send_json(conn, {"ok": True})
        if path.startswith("/_fake/"):
            return await self.control(conn, req, path[len("/_fake/"):])
        if path.startswith("/files/") and req.method == "GET":
            return await self.serve_download(conn, path[len("/files/"):])
        if path.startswith("/images/icons/") and path.endswith(".svg") and req.method == "GET":
            # The provider icons the frontend catalog links to, as OpenRouter's site serves
            # them: one small SVG per name, filled with a colour of its own (so tests can tell
            # the drawn PNGs apart).
            self.record(req)
            name = path[len("/images/icons/"):-len(".svg")]
            color = hashlib.sha256(name.encode()).hexdigest()[:6]
            svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><title>{name}</title>'
                   f'<rect width="8" height="8" fill="#{color}"/></svg>')
            return await self.send_simple(conn, 200, svg.encode(), ctype="image/svg+xml")
        if not path.startswith("/api/"):
            return await self.send_simple(conn, 404, error_json(404, "Not Found"))
        rec = self.record(req)
        if path == "/api/v1/models" and req.method == "GET":
            if self.models_error:
                return await self.send_reply(conn, self.error_reply(self.models_error), {}, req.keep_alive)
            return await self.send_simple(conn, 200, self.models_body)
        if path in ("/api/frontend/v1/catalog/models", "/api/frontend/models") and req.method == "GET":
            return await self.send_simple(conn, 200, self.fixture_bytes("frontend_models.json"))
        if path in ("/api/v1/responses", "/api/v1/chat/completions") and req.method == "POST":
            return await self.responses(conn, req, rec, is_chat=path.endswith("/chat/completions"))
        if path in ("/api/v1/models", "/api/v1/responses", "/api/v1/chat/completions"):
            return await self.send_simple(conn, 405, error_json(405, "Method Not Allowed"))
        return await self.send_simple(conn, 404, error_json(404, "Not Found"))

    # -- /api/v1/responses ------------------------------------------------------------------------

    async def responses(self, conn, req, rec, is_chat=False):
        auth = req.headers.get("authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not token:
            return await self.send_reply(conn, self.error_reply(401, "error_401.json"), {}, req.keep_alive)
        if token == "sk-or-invalid":
            reply = self.error_reply(401, "error_401_user_not_found.json")
            return await self.send_reply(conn, reply, {}, req.keep_alive)
        body = rec["body"]
        if not isinstance(body, dict):
            return await self.send_simple(conn, 400, error_json(400, "Request body must be a JSON object"))
        try:
            plan, source = self.next_plan(chat.as_responses_request(body) if is_chat else body)
        except plans.PlanError as exc:
            return await self.send_simple(conn, 400, error_json(400, f"fake: bad directive: {exc}"))
        rec.update(plan=plan, plan_source=source, outcome="in_progress", response_text=None)
        st = self.stats
        st["streams_started"] += 1
        st["active_streams"] += 1
        st["peak_active_streams"] = max(st["peak_active_streams"], st["active_streams"])
        conn.start_watch()
        try:
            keep = await self.serve_plan(conn, req, rec, plan, body, is_chat)
            if keep is None:
                st["server_disconnects"] += 1
                rec["outcome"] = "disconnected"
                return False
            st["streams_completed"] += 1
            rec["outcome"] = "completed"
            return keep
        except ClientGone:
            now = time.monotonic()
            st["client_aborted"] += 1
            st["last_abort_latency_ms"] = round((now - (conn.gone_at or now)) * 1000, 3)
            st["last_abort_ts"] = time.time()
            rec["outcome"] = "aborted"
            rec["aborted_ts"] = st["last_abort_ts"]
            raise
        finally:
            st["active_streams"] -= 1
            await conn.stop_watch()

    async def serve_plan(self, conn, req, rec, plan, body, is_chat=False):
        if plan.get("delay_ms"):
            await conn.sleep(plan["delay_ms"] / 1000)
        if plan.get("hang"):
            await conn.gone.wait()
            raise ClientGone
        stream = body.get("stream") is True
        reply = self.build_reply(plan, body, stream, rec, is_chat)
        if not stream and plan.get("synth") and plan.get("rate"):
            await conn.sleep(plan["synth"] / plan["rate"])  # non-stream: simulate generation time
        rec["status"] = reply.status
        return await self.send_reply(conn, reply, plan, req.keep_alive, rec)

    def error_reply(self, status, name=None):
        """Reply for an HTTP error: error_<status>.json (or `name`) + its .headers.txt if any."""
        if name is None:
            cands = sorted(f for f in os.listdir(self.fixtures)
                           if f.startswith(f"error_{status}_") and f.endswith(".json"))
            name = f"error_{status}.json" if os.path.isfile(os.path.join(self.fixtures, f"error_{status}.json")) \
                else (cands[0] if cands else None)
        body = self.fixture_bytes(name) if name else error_json(status, reason(status))
        headers, phrase = [("Content-Type", "application/json")], None
        hfile = os.path.join(self.fixtures, name[:-5] + ".headers.txt") if name else ""
        if hfile and os.path.isfile(hfile):
            with open(hfile, encoding="utf-8") as f:
                lines = [ln.rstrip("\r\n") for ln in f if ln.strip()]
            parts = lines[0].split(" ", 2) if lines else []
            phrase = parts[2] if len(parts) == 3 and parts[1] == str(status) else None
            headers = [tuple(x.strip() for x in ln.split(":", 1)) for ln in lines[1:] if ":" in ln]
        return Reply(status, headers, [body], chunked=False, reason_phrase=phrase)

    def build_reply(self, plan, body, stream, rec, is_chat=False):
        model = plan.get("model") or body.get("model") or "openai/gpt-4o-mini"
        if is_chat:
            body = chat.as_responses_request(body)
        if plan.get("responses_unsupported") and not is_chat:
            reply = self.error_reply(400, "error_400_responses_unsupported.json")
        elif "error" in plan or "error_fixture" in plan:
            status = plan.get("error")
            if status is None:  # derive from the name: error_400_context_length.json -> 400
                digits = plan["error_fixture"].split("_")[1].split(".")[0]
                status = int(digits) if digits.isdigit() else 400
            reply = self.error_reply(status, plan.get("error_fixture"))
        elif "body" in plan or ("status" in plan and "fixture" not in plan):
            data = plan.get("body", "").encode("utf-8")
            text = data.lstrip()[:1]
            ctype = "application/json" if text in (b"{", b"[") else "text/html" if text == b"<" else "text/plain"
            reply = Reply(plan.get("status", 200), [("Content-Type", ctype)], [data], chunked=False)
        elif "fixture" in plan:
            data = self.fixture_bytes(plan["fixture"])
            rec["response_text"] = plans.fixture_text(data)
            if plan["fixture"].endswith(".sse"):
                gen = data.find(b'"id":"gen-')
                gid = data[gen + 6:data.find(b'"', gen + 6)].decode() if gen >= 0 else plans.new_response_id()
                headers = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                           ("X-Generation-Id", gid)]
                reply = Reply(plan.get("status", 200), headers, plans.split_events(data), chunked=True)
            else:
                reply = Reply(plan.get("status", 200), [("Content-Type", "application/json")], [data],
                              chunked=False)
        else:
            kw = {"reasoning_style": plan.get("reasoning_style"), "pricing": self.pricing(model),
                  "calls": plans.planned_calls(plan, body)}
            outputs = plans.tool_outputs(body)
            if "synth" in plan:
                ans = plans.Answer.synth(body, model, plan["synth"], plan.get("reasoning", 0), **kw)
            else:
                text = plan.get("text")
                if kw["calls"] and "text" not in plan:
                    text = ""
                elif text is None and outputs:
                    text = "Tool results: " + " | ".join(outputs)
                elif text is None:
                    text = "Echo: " + plans.strip_directives(plans.last_user_text(body))
                ans = plans.Answer.from_text(body, model, text, **kw)
                if plan.get("reasoning_text"):
                    think = [(w, plans._jdump(w)) for w in plans.words(plan["reasoning_text"])]
                    ans = plans.Answer(body, model, ans.text_tokens, think, **kw)
                elif plan.get("reasoning"):
                    ans = plans.Answer(body, model, ans.text_tokens,
                                       [("think%d " % i, '"think%d "' % i) for i in range(plan["reasoning"])], **kw)
            rec["calls"] = [c["name"] for c in ans.calls]
            rec.update(response_text=ans.text, reasoning_text=ans.reasoning_text, response_id=ans.id)
            if stream and is_chat:
                events, ticks = chat.sse_events(ans)
                headers = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                           ("X-Generation-Id", ans.id)]
                reply = Reply(200, headers, events, chunked=True, ticks=ticks)
            elif is_chat:
                reply = Reply(200, [("Content-Type", "application/json"), ("X-Generation-Id", ans.id)],
                              [chat.json_body(ans)], chunked=False)
            elif stream:
                events, ticks = ans.sse_events()
                headers = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"),
                           ("X-Generation-Id", ans.id)]
                reply = Reply(200, headers, events, chunked=True, ticks=ticks)
            else:
                reply = Reply(200, [("Content-Type", "application/json"), ("X-Generation-Id", ans.id)],
                              [ans.json_body()], chunked=False)
        if any(k.lower() == "content-type" and "event-stream" in v for k, v in reply.headers):
            reply.events = plans.reframe(reply.events, plan.get("framing"))
        extra = plan.get("headers") or {}
        if extra:
            lower = {k.lower() for k in extra}
            reply.headers = [(k, v) for k, v in reply.headers if k.lower() not in lower] + list(extra.items())
        return reply

    async def send_reply(self, conn, reply, plan, keep_alive, rec=None):
        """Write headers then the body, honouring split/chunk/drip/rate/per_event/disconnect_after.
        Returns keep-alive (bool), or None when the plan cut the connection on purpose."""
        total = sum(len(e) for e in reply.events)
        head = [f"HTTP/1.1 {reply.status} {reply.reason}"] + [f"{k}: {v}" for k, v in reply.headers]
        head.append("Transfer-Encoding: chunked" if reply.chunked else f"Content-Length: {total}")
        head.append(f"Date: {email.utils.formatdate(usegmt=True)}")
        if not keep_alive:
            head.append("Connection: close")
        conn.headers_sent = True
        await conn.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))

        cuts = {o for o in plan.get("split", ()) if 0 < o < total}
        if plan.get("chunk"):
            cuts.update(range(plan["chunk"], total, plan["chunk"]))
        cuts = sorted(cuts)
        pause = plan.get("pause_ms", DEFAULT_PAUSE_MS if cuts else 0) / 1000
        limit = plan.get("disconnect_after")
        interval = plan["drip_ms"] / 1000 if plan.get("drip_ms") else (1 / plan["rate"] if plan.get("rate") else 0)
        ticks = reply.ticks if (reply.ticks and not plan.get("drip_ms")) else range(len(reply.events))
        frame = (lambda p: b"%x\r\n%s\r\n" % (len(p), p)) if reply.chunked else (lambda p: p)
        loop = asyncio.get_running_loop()
        t0, sent, i, n = loop.time(), 0, 0, len(reply.events)
        per_event = plan.get("per_event") and not interval
        while i < n and (limit is None or sent < limit):
            j = n
            if per_event:  # full speed, but each event its own write, as a fast provider sends tokens
                j = i + 1
                if i:
                    await asyncio.sleep(0)  # let the other connections' writes interleave with this one
            elif interval:  # paced: send every frame that is due now, then wait for the next one
                await conn.sleep(t0 + ticks[i] * interval - loop.time())
                now, j = loop.time(), i + 1
                while j < n and t0 + ticks[j] * interval <= now:
                    j += 1
            data = b"".join(reply.events[i:j])
            i = j
            if limit is not None and sent + len(data) > limit:
                data = data[:limit - sent]
            start, end = sent, sent + len(data)
            k = bisect.bisect_right(cuts, start)
            bounds = [start] + [c for c in cuts[k:] if c < end] + [end] if cuts else \
                list(range(start, end, WRITE_SLICE)) + [end]
            for a, b in zip(bounds, bounds[1:]):
                if b <= a:
                    continue
                await conn.write(frame(data[a - start:b - start]))
                if cuts and pause:
                    await conn.sleep(pause)
            sent = end
        if rec is not None:
            rec["bytes_sent"] = sent
        if limit is not None:
            await conn.close()  # no final chunk: the client sees a truncated body
            return None
        if reply.chunked:
            await conn.write(b"0\r\n\r\n")
        return keep_alive

    # -- control API ----------------------------------------------------------------------------

    async def control(self, conn, req, what):
        m = req.method
        if what == "plans" and m == "POST":
            data = req.json()
            items = data if isinstance(data, list) else [data]
            try:
                new = [plans.normalize(p, self.fixtures) for p in items]
            except plans.PlanError as exc:
                return await self.send_json(conn, {"error": str(exc)}, 400)
            for p in new:
                times = p.pop("times", 1)
                self.plans.append([p, times if times > 0 else None])
            return await self.send_json(conn, {"queued": len(self.plans)})
        if what == "plans" and m == "GET":
            return await self.send_json(conn, [{"plan": p, "remaining": r} for p, r in self.plans])
        if what == "plans" and m == "DELETE":
            n = len(self.plans)
            self.plans.clear()
            return await self.send_json(conn, {"cleared": n})
        if what == "requests" and m == "GET":
            out = [{k: v for k, v in r.items() if k != "_size"} for r in self.log]
            return await self.send_json(conn, out)
        if what == "requests" and m == "DELETE":
            self.log.clear()
            self.log_bytes = 0
            return await self.send_json(conn, {"ok": True})
        if what == "stats" and m == "GET":
            return await self.send_json(conn, dict(self.stats, plans_queued=len(self.plans),
                                                   requests_logged=len(self.log)))
        if what == "stats" and m == "DELETE":
            active = self.stats["active_streams"]
            self.reset_stats()
            self.stats["active_streams"] = self.stats["peak_active_streams"] = active
            return await self.send_json(conn, {"ok": True})
        if what == "models" and m == "POST":
            return await self.set_models(conn, req.json())
        if what == "models" and m == "DELETE":
            self.reset_models()
            return await self.send_json(conn, {"ok": True})
        if what == "downloads" and m == "POST":
            return await self.set_download(conn, req.json())
        if what == "downloads" and m == "GET":
            return await self.send_json(conn, {n: d["hits"] for n, d in self.downloads.items()})
        if what == "reset" and m == "POST":
            self.downloads.clear()
            self.plans.clear()
            self.log.clear()
            self.log_bytes = 0
            self.reset_models()
            active = self.stats["active_streams"]
            self.reset_stats()
            self.stats["active_streams"] = self.stats["peak_active_streams"] = active
            return await self.send_json(conn, {"ok": True})
        return await self.send_simple(conn, 404, error_json(404, f"unknown control call {m} /_fake/{what}"))

    async def set_download(self, conn, data):
        """A file served at ``GET /files/<name>`` (for the pipe's downloads): ``body_b64``,
        ``content_type``, ``failures`` (statuses answered first, in order), ``retry_after``."""
        try:
            name = str(data["name"])
            body = base64.b64decode(data.get("body_b64", ""))
            failures = [int(s) for s in data.get("failures", [])]
        except (KeyError, TypeError, ValueError) as exc:
            return await self.send_json(conn, {"error": f"bad download: {exc}"}, 400)
        self.downloads[name] = {"body": body, "content_type": str(data.get("content_type", "application/octet-stream")),
                                "failures": failures, "retry_after": data.get("retry_after"), "hits": 0}
        return await self.send_json(conn, {"ok": True})

    async def serve_download(self, conn, name):
        item = self.downloads.get(name)
        if item is None:
            return await self.send_simple(conn, 404, error_json(404, "Not Found"))
        item["hits"] += 1
        if item["failures"]:
            status = item["failures"].pop(0)
            headers = [("Retry-After", str(item["retry_after"]))] if item["retry_after"] is not None else []
            return await self.send_simple(conn, status, error_json(status, "try later"), headers=headers)
        return await self.send_simple(conn, 200, item["body"], ctype=item["content_type"])

    async def set_models(self, conn, data):
        if not isinstance(data, dict):
            return await self.send_json(conn, {"error": "body must be a JSON object"}, 400)
        try:
            if "error" in data:
                self.models_error = int(data["error"])
            elif "fixture" in data:
                name = plans.normalize({"fixture": data["fixture"]}, self.fixtures)["fixture"]
                self.models_body, self.models_error, self._prices = self.fixture_bytes(name), None, None
            elif isinstance(data.get("data"), list):
                self.models_body, self.models_error, self._prices = json.dumps(data).encode(), None, None
            else:
                return await self.send_json(conn, {"error": "want {data:[...]}, {fixture:...} or {error:status}"}, 400)
        except (plans.PlanError, ValueError, TypeError) as exc:
            return await self.send_json(conn, {"error": str(exc)}, 400)
        return await self.send_json(conn, {"ok": True})


async def amain(args):
    srv = FakeOpenRouter(args.fixtures, max_body=args.max_body, verbose=args.verbose, demo=args.demo)
    server = await asyncio.start_server(srv.handle_conn, args.host, args.port, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f"FAKE_OPENROUTER_PORT={port}", flush=True)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    async with server:
        await stop.wait()


def _raise_fd_limit():
    """Thousands of concurrent streams need as many sockets: take the hard limit."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < hard:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError):
        pass


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake OpenRouter server for tests and demos")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    ap.add_argument("--port-file", help="also write the port number to this file")
    ap.add_argument("--fixtures", default=DEFAULT_FIXTURES, help="fixtures directory")
    ap.add_argument("--max-body", type=int, default=MAX_BODY, help="max request body bytes")
    ap.add_argument("--demo", action="store_true", help="list the offline demo's models (demo.py) too")
    ap.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    ap.add_argument("--uvloop", action="store_true",
                    help="run on uvloop when it is installed (load benchmarks: 1,000 paced streams)")
    args = ap.parse_args(argv)
    _raise_fd_limit()
    run = asyncio.run
    if args.uvloop:
        try:
            import uvloop

            run = uvloop.run
        except ImportError:
            pass
    try:
        run(amain(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
