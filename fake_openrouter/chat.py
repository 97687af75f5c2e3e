"""Chat Completions (`POST /api/v1/chat/completions`) for the fake OpenRouter.

The fake's plans and made-up answers are written for the Responses API; this module lets the
same plans answer a Chat Completions request: the request's `messages` are read as Responses
`input` (so directives, `call`, tool results and the echo work unchanged), and an `Answer` is
rendered as `chat.completion.chunk` events or one `chat.completion` document, shaped like the
chunks described in the Chat Completions reference notes (role chunk, `reasoning` plus
`reasoning_details`, content deltas, tool-call fragments keyed by `index`, a finish chunk, then a
`choices: []` usage chunk and `data: [DONE]`).
"""

import json

try:
    from .plans import KEEPALIVE, _jdump
except ImportError:  # run as a script
    from plans import KEEPALIVE, _jdump


def as_responses_request(body):
    """A Responses-shaped copy of a Chat Completions body, for plan lookup and the echo."""
    if not isinstance(body, dict):
        return body
    items = []
    for msg in body.get("messages") or []:
        if not isinstance(msg, dict):
            continue
        role = msg.get("role")
        content = msg.get("content")
        if role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": msg.get("tool_call_id", ""),
                    "output": content if isinstance(content, str) else json.dumps(content),
                }
            )
            continue
        if isinstance(content, list):
            parts = [
                {"type": "input_text", "text": p.get("text", "")}
                for p in content
                if isinstance(p, dict) and p.get("type") == "text"
            ]
        else:
            parts = [{"type": "input_text", "text": content or ""}]
        if role == "system":
            items.append({"type": "message", "role": "system", "content": parts})
        elif role:
            items.append({"type": "message", "role": role, "content": parts})
        for call in msg.get("tool_calls") or []:
            fn = call.get("function") or {}
            items.append(
                {
                    "type": "function_call",
                    "call_id": call.get("id", ""),
                    "name": fn.get("name", ""),
                    "arguments": fn.get("arguments", ""),
                }
            )
    out = {k: v for k, v in body.items() if k != "messages"}
    out["input"] = items
    return out


def chat_usage(usage):
    """Responses usage of a made-up answer under Chat Completions names."""
    details = usage.get("cost_details") or {}
    return {
        "prompt_tokens": usage["input_tokens"],
        "completion_tokens": usage["output_tokens"],
        "total_tokens": usage["total_tokens"],
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": usage["output_tokens_details"]["reasoning_tokens"]},
        "cost": usage["cost"],
        "is_byok": False,
        "cost_details": {
            "upstream_inference_cost": None,
            "upstream_inference_prompt_cost": details.get("upstream_inference_input_cost"),
            "upstream_inference_completions_cost": details.get("upstream_inference_output_cost"),
        },
    }


def _detail(answer, text):
    return {"type": "reasoning.text", "text": text, "format": _format(answer), "index": 0}


def _format(answer):
    for prefix, fmt in (
        ("openai/", "openai-responses-v1"),
        ("anthropic/", "anthropic-claude-v1"),
        ("google/", "google-gemini-v1"),
    ):
        if answer.model.startswith(prefix):
            return fmt
    return "unknown"


def sse_events(answer):
    """(events, ticks) of a streamed Chat Completions answer, paced like the Responses one."""
    head = {
        "id": answer.id,
        "provider": "Fake",
        "model": answer.model,
        "object": "chat.completion.chunk",
        "created": answer.created,
    }
    ev, ticks, tick = [KEEPALIVE], [0], 0

    def add(choice_delta, finish=None, extra=None, advance=False):
        nonlocal tick
        chunk = dict(
            head,
            choices=[
                {
                    "index": 0,
                    "delta": choice_delta,
                    "finish_reason": finish,
                    "native_finish_reason": finish,
                    "logprobs": None,
                }
            ],
        )
        if extra:
            chunk.update(extra)
        ev.append("data: " + _jdump(chunk) + "\n\n")
        ticks.append(tick)
        if advance:
            tick += 1

    add({"role": "assistant", "content": ""})
    for text, _ in answer.reasoning_tokens:
        add(
            {"role": "assistant", "content": "", "reasoning": text, "reasoning_details": [_detail(answer, text)]},
            advance=True,
        )
    if answer.reasoning_tokens:
        add(
            {
                "role": "assistant",
                "content": "",
                "reasoning_details": [
                    {
                        "type": "reasoning.text",
                        "text": "",
                        "signature": "fakesig-" + answer.rs_id,
                        "format": _format(answer),
                        "index": 0,
                    }
                ],
            }
        )
    for text, _ in answer.text_tokens:
        add({"role": "assistant", "content": text}, advance=True)
    for i, call in enumerate(answer.calls):
        add(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": i,
                        "id": call["call_id"],
                        "type": "function",
                        "function": {"name": call["name"], "arguments": ""},
                    }
                ],
            }
        )
        add(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"index": i, "function": {"arguments": call["arguments"]}}],
            }
        )
    add({}, finish="tool_calls" if answer.calls else "stop")
    usage_chunk = dict(head, choices=[], usage=chat_usage(answer.usage))
    ev.append("data: " + _jdump(usage_chunk) + "\n\n")
    ticks.append(tick)
    ev.append("data: [DONE]\n\n")
    ticks.append(tick)
    tick_max = max(0, tick - 1)
    return [e.encode("utf-8") for e in ev], [min(t, tick_max) for t in ticks]


def json_body(answer):
    """The `chat.completion` document of a non-streamed answer."""
    message = {"role": "assistant", "content": answer.text or None}
    if answer.reasoning_text:
        message["reasoning"] = answer.reasoning_text
        message["reasoning_details"] = [
            dict(_detail(answer, answer.reasoning_text), signature="fakesig-" + answer.rs_id)
        ]
    if answer.calls:
        message["tool_calls"] = [
            {"id": c["call_id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in answer.calls
        ]
    doc = {
        "id": answer.id,
        "provider": "Fake",
        "model": answer.model,
        "object": "chat.completion",
        "created": answer.created,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "logprobs": None,
                "finish_reason": "tool_calls" if answer.calls else "stop",
                "native_finish_reason": "tool_calls" if answer.calls else "stop",
                "message": message,
            }
        ],
        "usage": chat_usage(answer.usage),
    }
    return _jdump(doc).encode("utf-8")
