"""Plans for the fake OpenRouter: validation, `[[fake ...]]` directives and synthesised answers.

A plan is a small dict telling the fake how to answer one `/responses` request (see README.md).
This module is pure (no I/O except checking that fixture files exist) so it is easy to test.
"""

import json
import os
import random
import re
import shlex
import string
import time

INT_KEYS = {"error", "status", "chunk", "disconnect_after", "synth", "reasoning", "times", "parallel"}
FLOAT_KEYS = {"drip_ms", "delay_ms", "rate", "pause_ms"}
BOOL_KEYS = {"hang", "call_always", "responses_unsupported", "per_event"}
STR_KEYS = {"fixture", "error_fixture", "framing", "text", "model", "reasoning_style", "reasoning_text", "label",
            "call", "call_args"}
OTHER_KEYS = {"split", "headers", "body", "calls"}
PLAN_KEYS = INT_KEYS | FLOAT_KEYS | BOOL_KEYS | STR_KEYS | OTHER_KEYS
FRAMINGS = {"lf": b"\n", "crlf": b"\r\n", "cr": b"\r"}

DIRECTIVE_RE = re.compile(r"\[\[fake\b(.*?)\]\]", re.S)
KEEPALIVE = ": OPENROUTER PROCESSING\n\n"
# Open WebUI's chat box turns typed quotes into typographic ones: read them as the plain ones.
_PLAIN_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
                               "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'"})
_ALNUM = string.ascii_letters + string.digits


class PlanError(ValueError):
    """A plan or directive that cannot be honoured."""


# ---------------------------------------------------------------------------------------------
# Validation


def _to_bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, str) and v.strip().lower() in ("1", "true", "yes", "on", ""):
        return True
    if isinstance(v, str) and v.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise PlanError(f"not a boolean: {v!r}")


def _to_headers(v):
    if isinstance(v, dict):
        return {str(k): str(x) for k, x in v.items()}
    if isinstance(v, str):  # directive form: "Name: value; Other: value"
        out = {}
        for part in filter(None, (p.strip() for p in v.split(";"))):
            name, sep, value = part.partition(":")
            if not sep:
                raise PlanError(f"bad header {part!r} (want Name:value)")
            out[name.strip()] = value.strip()
        return out
    raise PlanError("headers must be an object")


def _check_fixture(name, fixtures_dir):
    if not isinstance(name, str) or not name or os.path.basename(name) != name or name.startswith("."):
        raise PlanError(f"bad fixture name {name!r}")
    if fixtures_dir is not None and not os.path.isfile(os.path.join(fixtures_dir, name)):
        raise PlanError(f"no such fixture: {name}")
    return name


def normalize(plan, fixtures_dir=None):
    """Return a validated copy of `plan` with typed values; raise PlanError on any problem."""
    if not isinstance(plan, dict):
        raise PlanError("a plan must be a JSON object")
    out = {}
    for key, value in plan.items():
        if key in ("crlf", "cr", "lf"):  # shorthand: crlf=1
            if _to_bool(value):
                out["framing"] = key
            continue
        if key not in PLAN_KEYS:
            raise PlanError(f"unknown plan key {key!r} (known: {', '.join(sorted(PLAN_KEYS))})")
        try:
            if key in INT_KEYS:
                value = int(value)
            elif key in FLOAT_KEYS:
                value = float(value)
            elif key in BOOL_KEYS:
                value = _to_bool(value)
            elif key == "split":
                if isinstance(value, str):
                    value = [p for p in value.replace(" ", "").split(",") if p]
                if isinstance(value, int):
                    value = [value]
                value = sorted({int(x) for x in value})
            elif key == "headers":
                value = _to_headers(value)
            elif key == "calls":
                value = _to_calls(value)
            elif key == "body":
                value = value if isinstance(value, str) else json.dumps(value)
            elif key in STR_KEYS:
                value = str(value)
        except (TypeError, ValueError) as exc:
            raise PlanError(f"bad value for {key}: {value!r} ({exc})") from None
        out[key] = value
    for key in ("fixture", "error_fixture"):
        if key in out:
            out[key] = _check_fixture(out[key], fixtures_dir)
    if out.get("framing", "lf") not in FRAMINGS:
        raise PlanError(f"framing must be one of {sorted(FRAMINGS)}")
    if out.get("reasoning_style", "text") not in ("text", "summary"):
        raise PlanError("reasoning_style must be 'text' or 'summary'")
    for key in ("chunk", "synth", "reasoning", "disconnect_after", "times"):
        if out.get(key, 0) < 0:
            raise PlanError(f"{key} must be >= 0")
    if "error" in out and not 100 <= out["error"] <= 599:
        raise PlanError("error must be an HTTP status")
    return out


def _to_calls(value):
    """`calls`: a list of {"name", "arguments"} (arguments: an object or its JSON text)."""
    if not isinstance(value, list) or not value:
        raise ValueError("calls must be a non-empty list")
    out = []
    for call in value:
        if not isinstance(call, dict) or not isinstance(call.get("name"), str):
            raise ValueError("each call needs a string name")
        args = call.get("arguments", {})
        out.append({"name": call["name"], "arguments": args if isinstance(args, str) else json.dumps(args)})
    return out


def planned_calls(plan, body):
    """The function calls a plan asks for, or [] when the request already carries tool
    results for its last user message (so a directive answers once the tools ran), unless
    `call_always` keeps the model calling."""
    calls = list(plan.get("calls") or ())
    if plan.get("call"):
        args = plan.get("call_args", "{}")
        calls += [{"name": plan["call"], "arguments": args}] * max(1, plan.get("parallel", 1))
    if not calls or plan.get("call_always"):
        return calls
    return [] if tool_outputs(body) else calls


def tool_outputs(body):
    """The `function_call_output` texts after the last user message of the input."""
    inp = body.get("input") if isinstance(body, dict) else None
    if not isinstance(inp, list):
        return []
    outputs = []
    for item in reversed(inp):
        if not isinstance(item, dict):
            continue
        if item.get("role") == "user" and item.get("type", "message") == "message":
            break
        if item.get("type") == "function_call_output":
            outputs.append(str(item.get("output", "")))
    return outputs[::-1]


# ---------------------------------------------------------------------------------------------
# Directives typed in chat: [[fake fixture=stream_text.sse split=7,100 crlf=1]]


def _resolve_word(word, fixtures_dir):
    """A bare word in a directive: flag, status code or fixture (with or without extension)."""
    if word.isdigit():
        return "error", word
    if word in BOOL_KEYS or word in ("crlf", "cr", "lf"):
        return word, "1"
    for cand in (word, word + ".sse", "stream_" + word + ".sse", word + ".json"):
        if fixtures_dir and os.path.isfile(os.path.join(fixtures_dir, cand)):
            return "fixture", cand
    if word.endswith((".sse", ".json")):
        return "fixture", word
    raise PlanError(f"unknown directive word {word!r}")


def find_directive(text, fixtures_dir=None):
    """Parse the first `[[fake ...]]` in text; None if there is none. Raises PlanError if malformed."""
    m = DIRECTIVE_RE.search(text or "")
    if not m:
        return None
    try:
        tokens = shlex.split(m.group(1).translate(_PLAIN_QUOTES))
    except ValueError:
        tokens = m.group(1).split()
    raw = {}
    for tok in tokens:
        key, sep, value = tok.partition("=")
        if not sep:
            key, value = _resolve_word(tok, fixtures_dir)
        raw[key] = value
    plan = normalize(raw, fixtures_dir)
    plan.pop("times", None)  # a directive always applies to exactly the request carrying it
    return plan


def strip_directives(text):
    return DIRECTIVE_RE.sub("", text or "").strip()


def last_user_text(body):
    """Text of the last user message of a Responses request's `input` ('' when there is none)."""
    inp = body.get("input") if isinstance(body, dict) else None
    if isinstance(inp, str):
        return inp
    if not isinstance(inp, list):
        return ""
    for item in reversed(inp):
        if not isinstance(item, dict) or item.get("role") != "user":
            continue
        if item.get("type", "message") != "message":
            continue
        content = item.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            texts = [p.get("text") for p in content
                     if isinstance(p, dict) and p.get("type") in ("input_text", "text")]
            return "\n".join(t for t in texts if isinstance(t, str))
        return ""
    return ""


def _input_chars(value):
    """Characters of text in a request input (images/files ignored), to estimate tokens."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_input_chars(v) for v in value)
    if isinstance(value, dict):
        return sum(_input_chars(v) for k, v in value.items() if k in ("text", "content", "output", "arguments"))
    return 0


# ---------------------------------------------------------------------------------------------
# Synthesised answers (echo, `text`, `synth`): events shaped like stream_text.sse


def _jdump(obj):
    """Compact JSON with raw UTF-8, falling back to escapes when a lone surrogate is present."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        s = json.dumps(obj, separators=(",", ":"))
    return s


def _rand(n):
    return "".join(random.choice(_ALNUM) for _ in range(n))


def new_response_id():
    return f"gen-{int(time.time())}-{_rand(20)}"


def words(text):
    """Split into word tokens keeping the leading whitespace: 'a b' -> ['a', ' b']."""
    return re.findall(r"\s*\S+", text)


def _price(pricing, key):
    try:
        return max(0.0, float(pricing.get(key, 0)))
    except (TypeError, ValueError):
        return 0.0


def make_usage(input_tokens, output_tokens, reasoning_tokens, pricing):
    in_cost = round(input_tokens * _price(pricing, "prompt"), 10)
    out_cost = round(output_tokens * _price(pricing, "completion"), 10)
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning_tokens},
        "total_tokens": input_tokens + output_tokens,
        "cost": round(in_cost + out_cost, 10),
        "is_byok": False,
        "cost_details": {"upstream_inference_cost": None,
                         "upstream_inference_input_cost": in_cost,
                         "upstream_inference_output_cost": out_cost},
    }


_ECHO_FIELDS = (("instructions", None), ("metadata", None), ("temperature", None), ("top_p", None),
                ("presence_penalty", None), ("frequency_penalty", None), ("max_output_tokens", None),
                ("max_tool_calls", None), ("parallel_tool_calls", True), ("tool_choice", "auto"),
                ("tools", []))


def _reasoning_format(model):
    for prefix, fmt in (("openai/", "openai-responses-v1"), ("anthropic/", "anthropic-claude-v1"),
                        ("google/", "google-gemini-v1"), ("x-ai/", "xai-responses-v1")):
        if model.startswith(prefix):
            return fmt
    return "unknown"


class Answer:
    """A synthesised answer: text deltas (+ optional reasoning deltas) and the final response object.

    Token lists hold (plain_text, json_string_literal) pairs so the stream builder never calls
    json.dumps per delta.
    """

    def __init__(self, request, model, text_tokens, reasoning_tokens=(), reasoning_style=None,
                 pricing=None, calls=()):
        self.request = request if isinstance(request, dict) else {}
        self.model = model
        self.text_tokens = text_tokens
        self.reasoning_tokens = list(reasoning_tokens)
        self.reasoning_style = reasoning_style or ("summary" if model.startswith("openai/") else "text")
        self.text = "".join(t for t, _ in text_tokens)
        self.reasoning_text = "".join(t for t, _ in self.reasoning_tokens)
        self.id = new_response_id()
        self.created = int(time.time())
        self.msg_id = "msg_tmp_" + _rand(11).lower()
        self.rs_id = "rs_tmp_" + _rand(11).lower()
        self.calls = [{"type": "function_call", "id": "fc_tmp_" + _rand(11).lower(),
                       "call_id": "call_" + _rand(16), "name": c["name"], "arguments": c["arguments"],
                       "status": "completed"} for c in calls]
        in_tok = max(1, (_input_chars(self.request.get("input")) + _input_chars(self.request.get("instructions"))) // 4)
        out_tok = len(text_tokens) + len(self.reasoning_tokens) + 8 * len(self.calls)
        self.usage = make_usage(in_tok, out_tok, len(self.reasoning_tokens), pricing or {})

    @classmethod
    def from_text(cls, request, model, text, **kw):
        return cls(request, model, [(w, _jdump(w)) for w in words(text)], **kw)

    @classmethod
    def synth(cls, request, model, n, reasoning=0, **kw):
        text = [("tok%d " % i, '"tok%d "' % i) for i in range(n)]
        think = [("think%d " % i, '"think%d "' % i) for i in range(reasoning)]
        return cls(request, model, text, think, **kw)

    # -- response objects ---------------------------------------------------------------------

    def _items(self):
        items = []
        if self.reasoning_tokens:
            rs = {"id": self.rs_id, "type": "reasoning", "status": "completed"}
            if self.reasoning_style == "summary":
                rs["summary"] = [{"type": "summary_text", "text": self.reasoning_text}]
                rs["encrypted_content"] = "gAAAAB" + _rand(64)
            else:
                rs["summary"] = []
                rs["content"] = [{"type": "reasoning_text", "text": self.reasoning_text}]
                rs["signature"] = "fakesig" + _rand(40)
            rs["format"] = _reasoning_format(self.model)
            items.append(rs)
        if self.text_tokens or not self.calls:
            items.append({"id": self.msg_id, "type": "message", "role": "assistant", "status": "completed",
                          "content": [{"type": "output_text", "text": self.text, "annotations": []}]})
        items.extend(self.calls)
        return items

    def response(self, done=True):
        r = {"id": self.id, "object": "response", "created_at": self.created, "model": self.model,
             "status": "completed" if done else "in_progress",
             "completed_at": self.created + 1 if done else None,
             "output": self._items() if done else [], "error": None, "incomplete_details": None,
             "usage": self.usage if done else None}
        for key, default in _ECHO_FIELDS:
            r[key] = self.request.get(key, default)
        if self.request.get("reasoning") is not None:
            r["reasoning"] = self.request["reasoning"]
        r["store"] = False
        r["background"] = False
        return r

    def json_body(self):
        return _jdump(self.response(done=True)).encode("utf-8")

    # -- stream ---------------------------------------------------------------------------------

    def sse_events(self):
        """Return (events, ticks): SSE frames as bytes and, per frame, the index of the delta it
        belongs to (used to pace `rate`: lifecycle frames go out with their neighbouring delta)."""
        ev, ticks = [KEEPALIVE], [0]
        seq = 0
        tick = 0

        def add(obj):
            nonlocal seq
            s = _jdump(obj)
            ev.append("data: " + s[:-1] + ',"sequence_number":%d}\n\n' % seq)
            ticks.append(tick)
            seq += 1

        def add_deltas(prefix, suffix, tokens):
            nonlocal seq, tick
            for _, lit in tokens:
                ev.append(prefix + lit + suffix + "%d}\n\n" % seq)
                ticks.append(tick)
                seq += 1
                tick += 1

        add({"type": "response.created", "response": self.response(done=False)})
        add({"type": "response.in_progress", "response": self.response(done=False)})
        items = self._items()
        out = 0
        if self.reasoning_tokens:
            rs, rid, rtext = items[0], self.rs_id, self.reasoning_text
            if self.reasoning_style == "summary":
                add({"type": "response.output_item.added", "output_index": 0,
                     "item": {"id": rid, "type": "reasoning", "summary": []}})
                loc = {"output_index": 0, "item_id": rid, "summary_index": 0}
                add({"type": "response.reasoning_summary_part.added", **loc,
                     "part": {"type": "summary_text", "text": ""}})
                add_deltas('data: {"type":"response.reasoning_summary_text.delta","output_index":0,'
                           '"item_id":"%s","summary_index":0,"delta":' % rid, ',"sequence_number":',
                           self.reasoning_tokens)
                add({"type": "response.reasoning_summary_text.done", **loc, "text": rtext})
                add({"type": "response.reasoning_summary_part.done", **loc,
                     "part": {"type": "summary_text", "text": rtext}})
            else:
                add({"type": "response.output_item.added", "output_index": 0,
                     "item": {"id": rid, "type": "reasoning", "status": "in_progress",
                              "summary": [], "content": []}})
                loc = {"output_index": 0, "item_id": rid, "content_index": 0}
                add({"type": "response.content_part.added", **loc,
                     "part": {"type": "reasoning_text", "text": ""}})
                add_deltas('data: {"type":"response.reasoning_text.delta","output_index":0,'
                           '"item_id":"%s","content_index":0,"delta":' % rid, ',"sequence_number":',
                           self.reasoning_tokens)
                add({"type": "response.reasoning_text.done", **loc, "text": rtext})
                add({"type": "response.content_part.done", **loc,
                     "part": {"type": "reasoning_text", "text": rtext}})
            add({"type": "response.output_item.done", "output_index": 0, "item": rs})
            out = 1
        if self.text_tokens or not self.calls:
            out = self._message_events(add, add_deltas, out, items)
        for call in self.calls:
            added = dict(call, arguments="", status="in_progress")
            add({"type": "response.output_item.added", "output_index": out, "item": added})
            add({"type": "response.function_call_arguments.delta", "output_index": out,
                 "item_id": call["id"], "delta": call["arguments"]})
            add({"type": "response.function_call_arguments.done", "output_index": out,
                 "item_id": call["id"], "arguments": call["arguments"]})
            add({"type": "response.output_item.done", "output_index": out, "item": call})
            out += 1
        add({"type": "response.completed", "response": self.response(done=True)})
        ev.append("data: [DONE]\n\n")
        ticks.append(ticks[-1])
        tick_max = max(0, tick - 1)
        return [e.encode("utf-8") for e in ev], [min(t, tick_max) for t in ticks]

    def _message_events(self, add, add_deltas, out, items):
        mid = self.msg_id
        add({"type": "response.output_item.added", "output_index": out,
             "item": {"id": mid, "type": "message", "role": "assistant", "status": "in_progress",
                      "content": []}})
        loc = {"output_index": out, "item_id": mid, "content_index": 0}
        add({"type": "response.content_part.added", **loc,
             "part": {"type": "output_text", "text": "", "annotations": []}})
        add_deltas('data: {"type":"response.output_text.delta","output_index":%d,"item_id":"%s",'
                   '"content_index":0,"delta":' % (out, mid), ',"logprobs":[],"sequence_number":',
                   self.text_tokens)
        add({"type": "response.output_text.done", **loc, "text": self.text, "logprobs": []})
        add({"type": "response.content_part.done", **loc,
             "part": {"type": "output_text", "text": self.text, "annotations": []}})
        message = next(i for i in items if i["type"] == "message")
        add({"type": "response.output_item.done", "output_index": out, "item": message})
        return out + 1


def fixture_text(data):
    """Concatenated assistant text of a fixture (output_text deltas of an .sse, or the
    output_text parts of a JSON response); None when there is none."""
    parts = []
    try:
        if data.lstrip()[:1] == b"{":
            for item in json.loads(data).get("output") or []:
                for c in item.get("content") or [] if isinstance(item, dict) else []:
                    if isinstance(c, dict) and c.get("type") == "output_text":
                        parts.append(c.get("text", ""))
        else:
            for line in data.decode("utf-8", "replace").splitlines():
                if line.startswith("data: {") and '"response.output_text.delta"' in line:
                    parts.append(json.loads(line[6:]).get("delta", ""))
    except (ValueError, AttributeError):
        return None
    if not parts:
        return None
    text = "".join(parts)  # re-pair UTF-16 surrogates split across deltas
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def split_events(data):
    """Cut an LF-framed SSE body after each blank line (b'\\n\\n'); a trailing partial frame is kept."""
    out, start = [], 0
    while True:
        i = data.find(b"\n\n", start)
        if i < 0:
            break
        out.append(data[start:i + 2])
        start = i + 2
    if start < len(data):
        out.append(data[start:])
    return out


def reframe(events, framing):
    sep = FRAMINGS.get(framing or "lf", b"\n")
    return events if sep == b"\n" else [e.replace(b"\n", sep) for e in events]
