"""Images a model generates (#11, #12), driven through the generated Function file against
the fake OpenRouter, on both routes, streamed and not: each image is its own paragraph,
`![Generated image N](url)`, after a "Generating an image…" status. Outside Open WebUI there
is no file storage, so inline images are shown from their `data:` URL (inside Open WebUI they
are stored and linked: see `e2e/test_openwebui_files.py`)."""

from __future__ import annotations

import json
import pathlib

from bridge_helpers import chat_body, collect, content_of, events_of, new_pipe, parse_lines

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "openrouter"
RED_SQUARE = json.loads((FIXTURES / "nonstream_image_generation.json").read_text())["output"][1]["result"]
SHOWN = f"Here is a red square.\n\n![Generated image 1](data:image/png;base64,{RED_SQUARE})"


def statuses(payloads):
    return [s["description"] for s in events_of(payloads, "status")]


async def complete(pipe, body):
    events = []

    async def emitter(event):
        events.append(event)

    text = await pipe.pipe(body, __user__={"id": "user-1"}, __metadata__={}, __event_emitter__=emitter)
    return text, [e["data"]["description"] for e in events if e.get("type") == "status"]


async def test_a_streamed_image_follows_the_text_after_a_generating_status(fake):
    fake.enqueue({"fixture": "stream_image_generation.sse"})
    payloads = parse_lines(await collect(new_pipe(fake.base_url), chat_body("draw a red square")))
    assert content_of(payloads) == SHOWN
    assert "Generating an image…" in statuses(payloads)
    assert "Ignoring" not in json.dumps(payloads)


async def test_a_complete_answer_shows_its_image_too(fake):
    fake.enqueue({"fixture": "nonstream_image_generation.json"})
    text, _ = await complete(new_pipe(fake.base_url), chat_body("draw", stream=False))
    assert text == SHOWN


async def test_the_chat_completions_route_shows_images_from_the_delta_and_the_message(fake):
    pipe = new_pipe(fake.base_url, FORCE_CHAT_COMPLETIONS_MODELS="openai/*")
    fake.enqueue({"fixture": "chat_stream_image_generation.sse"})
    payloads = parse_lines(await collect(pipe, chat_body("draw")))
    assert content_of(payloads) == SHOWN
    fake.enqueue({"fixture": "chat_nonstream_image_generation.json"})
    text, _ = await complete(pipe, chat_body("draw", stream=False))
    assert text == SHOWN


async def test_links_are_shown_as_given_and_unreadable_images_are_named(fake):
    items = [
        {"id": "ig_a", "type": "image_generation_call", "status": "completed", "result": "https://cdn.example/a.png"},
        {"id": "ig_b", "type": "image_generation_call", "status": "completed", "label": "Second\nview",
         "result": [{"b64_json": RED_SQUARE, "mime_type": "image/jpeg"}, "@@ not base64 @@"]},
    ]
    document = {"id": "gen-x", "object": "response", "status": "completed", "model": "openai/gpt-4o-mini",
                "output": items, "usage": {"input_tokens": 1, "output_tokens": 1}}
    fake.enqueue({"body": document})
    text, shown = await complete(new_pipe(fake.base_url), chat_body("two", stream=False))
    assert text == (
        "![Generated image 1](https://cdn.example/a.png)\n\n"
        f"![Second view](data:image/jpeg;base64,{RED_SQUARE})"
    )
    assert "⚠️ Unable to process generated image output" in shown


async def test_an_oversized_generated_image_is_refused_not_shown(fake):
    huge = "A" * (2 * 1024 * 1024)
    document = {"id": "gen-y", "object": "response", "status": "completed", "model": "openai/gpt-4o-mini",
                "output": [{"id": "ig_c", "type": "image_generation_call", "status": "completed", "result": huge},
                           {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed",
                            "content": [{"type": "output_text", "text": "Too big.", "annotations": []}]}],
                "usage": {"input_tokens": 1, "output_tokens": 1}}
    fake.enqueue({"body": document})
    text, shown = await complete(new_pipe(fake.base_url, BASE64_MAX_SIZE_MB=1), chat_body("big", stream=False))
    assert text == "Too big."
    assert "⚠️ Unable to process generated image output" in shown
