"""The offline demo's own models, and the answers Open WebUI's background tasks get.

The offline demo (`scripts/run.sh` without a key) should show what the pipe does without anyone
typing `[[fake ...]]` directives: each demo model answers with one feature (reasoning, web-search
sources, a tool call, a rate-limit card, a failure mid-answer). Every one is named and described
as offline, so nobody takes it for a real model. They are added to the catalog only when the fake
is started with `--demo` (the tests' catalog stays the one copied from the specification), but a
request for a demo model id gets its answer either way.

Title, tag and follow-up requests quote the chat, directives included; answering them with an
echo (or with the directive's error) would put `[[fake ...]]` into chat titles. They are
recognised by Open WebUI's task prompt shape and get a small JSON answer built from the user's
words with directives removed.
"""

import json
import re

DEMO_PREFIX = "demo/"
_OFFLINE = "Offline demo: answered by the local fake OpenRouter, not a real model. "

_REASONING = (
    "The user asked a question. Let me think it through step by step before answering, "
    "so the thinking block has something to show while it is open."
)

# id -> (display name, description, plan). Plans use the keys documented in README.md.
# Every demo answer takes about a second, as a real provider's does. Answered at full speed
# (within ~50 ms of the request), Open WebUI 0.12.0's page misses the live events of a new
# chat's first answer: the card was stored complete, yet the page stayed blank until a reload
# (seen once in ~8 runs of the browser suite).
DEMO_MODELS = {
    "demo/reasoning": (
        "Demo: reasoning (offline)",
        "Thinks for about four seconds (a live \"Thinking…\" block that then says how long it "
        "thought), then answers.",
        {"reasoning_text": _REASONING, "rate": 6,
         "text": "Done thinking. This answer came after a reasoning block you can open above."},
    ),
    "demo/web-search": (
        "Demo: web search with sources (offline)",
        "Answers as a web search would, with the sources listed under the answer.",
        {"fixture": "stream_web_search.sse", "rate": 15},
    ),
    "demo/tool-call": (
        "Demo: tool call (offline)",
        "Calls Open WebUI's get_current_timestamp tool, then answers with what the tool returned.",
        {"call": "get_current_timestamp", "delay_ms": 600},
    ),
    "demo/rate-limit": (
        "Demo: rate limit error (offline)",
        "Always answers HTTP 429, to show the rate-limit error card.",
        {"error": 429, "delay_ms": 800},
    ),
    "demo/error-mid-answer": (
        "Demo: error mid-answer (offline)",
        "Starts answering, then the provider fails: the partial answer stays above the error card.",
        {"fixture": "stream_error_midstream.sse", "rate": 4},
    ),
}


def plan_for(model):
    """The plan a demo model always answers with (a fresh copy), or None for other models."""
    entry = DEMO_MODELS.get(model) if isinstance(model, str) else None
    return dict(entry[2]) if entry else None


def catalog_entries():
    """The demo models as `GET /models` entries, shaped like the catalog's own."""
    entries = []
    for model_id, (name, description, plan) in DEMO_MODELS.items():
        params = ["max_tokens", "tools", "tool_choice"]
        if "reasoning_text" in plan:
            params += ["reasoning", "include_reasoning"]
        entries.append({
            "id": model_id,
            "canonical_slug": model_id,
            "name": name,
            "created": 1767225600,
            "description": _OFFLINE + description,
            "context_length": 32768,
            "architecture": {"modality": "text->text", "input_modalities": ["text"],
                             "output_modalities": ["text"], "tokenizer": "Other", "instruct_type": None},
            "pricing": {"prompt": "0", "completion": "0"},
            "top_provider": {"context_length": 32768, "max_completion_tokens": 4096, "is_moderated": False},
            "per_request_limits": None,
            "supported_parameters": params,
        })
    return entries


def with_demo_models(models_body):
    """A `GET /models` body with the demo models appended (bytes in, bytes out)."""
    doc = json.loads(models_body)
    known = {m.get("id") for m in doc.get("data", []) if isinstance(m, dict)}
    doc["data"] = list(doc.get("data", [])) + [m for m in catalog_entries() if m["id"] not in known]
    return json.dumps(doc).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Background tasks (title, tags, follow-ups, queries): Open WebUI's prompt templates start with
# "### Task:" and quote the chat inside <chat_history>…</chat_history>.

_HISTORY_RE = re.compile(r"<chat_history>(.*?)</chat_history>", re.S)
_KEY_RE = re.compile(r'JSON format:\s*\{\s*"([a-z_]+)"')
_USER_LINE_RE = re.compile(r"^USER:\s*(.*)$", re.M)


def is_task_prompt(text):
    """True for an Open WebUI background-task prompt (title, tags, follow-ups, …)."""
    stripped = (text or "").lstrip()
    return stripped.startswith("### Task:") and "<chat_history>" in stripped


def task_answer(text, strip_directives):
    """The JSON text a background task gets: a title from the user's first words, one tag,
    a few follow-ups, no queries. Directives never reach it."""
    history = _HISTORY_RE.search(text or "")
    users = _USER_LINE_RE.findall(history.group(1)) if history else []
    words = " ".join(strip_directives(u) for u in users).split()
    key = (_KEY_RE.search(text or "") or [None, None])[1]
    if key == "title":
        title = " ".join(words[:4]).strip(" .,:;!?\"'") or "Offline demo chat"
        return json.dumps({"title": title[:1].upper() + title[1:]})
    if key == "tags":
        return json.dumps({"tags": ["General"]})
    if key == "follow_ups":
        return json.dumps({"follow_ups": ["Tell me more.", "Can you give an example?"]})
    if key in ("queries", "prompt"):
        return json.dumps({key: [] if key == "queries" else " ".join(words)})
    return json.dumps({key: ""} if key else {})
