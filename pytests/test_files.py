"""Files, images, audio and video in chats (issue #11), end to end through the Function
file against the fake OpenRouter: what the fake received for each block type, the limits,
and the status lines and notifications a user reads. Outside Open WebUI there is no file
storage, so Open WebUI file links are refused visibly and no copies are kept."""

from __future__ import annotations

import base64

from bridge_helpers import collect, content_of, events_of, new_pipe, parse_lines

PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF_B64 = base64.b64encode(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF").decode()
VISION = "openrouter.openai.gpt-4o-mini"
TEXT_ONLY = "openrouter.deepseek.deepseek-r1"
AUDIO = "openrouter.openai.gpt-4o-audio-preview"
VIDEO = "openrouter.google.gemini-2.5-flash"


def body(parts, model=VISION, messages_before=()):
    return {"model": model, "stream": True, "messages": [*messages_before, {"role": "user", "content": parts}]}


async def ask(fake, parts, model=VISION, messages_before=(), files=None, **valves):
    pipe = new_pipe(fake.base_url, **valves)
    kwargs = {"__files__": files} if files is not None else {}
    payloads = parse_lines(await collect(pipe, body(parts, model, messages_before), **kwargs))
    sent = fake.requests("/api/v1/responses")[-1]["body"]["input"][-1]["content"]
    statuses = [e["description"] for e in events_of(payloads, "status")]
    notices = [e["content"] for e in events_of(payloads, "notification")]
    return sent, statuses, notices, content_of(payloads)


def text(t):
    return {"type": "text", "text": t}


async def test_an_inline_image_reaches_a_vision_model_as_base64(fake):
    sent, _, _, answer = await ask(fake, [text("what is it?"), {"type": "image_url", "image_url": {"url": PNG}}])
    assert sent[1] == {"type": "input_image", "image_url": PNG, "detail": "auto"}
    assert answer.startswith("Echo:")


async def test_images_on_a_model_without_vision_are_skipped_with_a_status(fake):
    sent, statuses, _, answer = await ask(
        fake, [text("look"), {"type": "image_url", "image_url": PNG}], model=TEXT_ONLY
    )
    assert [p["type"] for p in sent] == ["input_text"]
    assert "Model does not accept image inputs; skipping user attachments." in statuses
    assert answer.startswith("Echo:")


async def test_images_over_the_limit_are_dropped_with_a_status(fake):
    images = [{"type": "image_url", "image_url": PNG} for _ in range(4)]
    sent, statuses, _, _ = await ask(fake, [text("many"), *images], MAX_INPUT_IMAGES_PER_REQUEST=2)
    assert sum(p["type"] == "input_image" for p in sent) == 2
    assert "Dropped 2 extra images; limit is 2." in statuses


async def test_an_oversized_or_broken_inline_image_is_refused_before_decoding(fake):
    big = "data:image/png;base64," + "A" * (2 * 1024 * 1024)
    sent, statuses, _, answer = await ask(
        fake,
        [
            text("x"),
            {"type": "image_url", "image_url": big},
            {"type": "image_url", "image_url": "data:image/png;base64,@@"},
        ],
        BASE64_MAX_SIZE_MB=1,
    )
    assert [p["type"] for p in sent] == ["input_text"]
    assert "Skipping an image: it is too large (~1.5 MB, the limit is 1.0 MB)." in statuses
    assert "Skipping an image: its data is not valid base64." in statuses
    assert answer.startswith("Echo:")


async def test_the_previous_assistant_image_goes_with_a_follow_up(fake):
    before = [{"role": "user", "content": "draw"}, {"role": "assistant", "content": f"Done: ![img]({PNG})"}]
    sent, _, _, _ = await ask(fake, [text("make it bluer")], messages_before=before)
    assert sent[0]["type"] == "input_image" and sent[0]["image_url"] == PNG
    sent, _, _, _ = await ask(
        fake, [text("make it bluer")], messages_before=before, IMAGE_INPUT_SELECTION="user_turn_only"
    )
    assert [p["type"] for p in sent] == ["input_text"]


async def test_an_inline_pdf_is_sent_as_input_file_with_its_name(fake):
    block = {"type": "file", "file": {"filename": "report.pdf", "file_data": f"data:application/pdf;base64,{PDF_B64}"}}
    sent, _, _, _ = await ask(fake, [text("summarise"), block])
    assert sent[1] == {
        "type": "input_file",
        "filename": "report.pdf",
        "file_data": f"data:application/pdf;base64,{PDF_B64}",
    }


async def test_a_large_inline_pdf_and_image_reach_the_provider_intact(fake):
    # Over 1 MiB each: they travel beside the request JSON and are put back by the engine.
    big_pdf = base64.b64encode(b"%PDF-1.4\n" + bytes(range(256)) * 6000).decode()
    big_png = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n" + bytes(1 << 20)).decode()
    parts = [
        text("compare"),
        {"type": "file", "file": {"filename": "big.pdf", "file_data": f"data:application/pdf;base64,{big_pdf}"}},
        {"type": "image_url", "image_url": {"url": big_png}},
        text("\x00orp-blob:0:5\x00"),
    ]
    sent, _, _, _ = await ask(fake, parts)
    assert sent[1]["file_data"] == f"data:application/pdf;base64,{big_pdf}"
    assert sent[2]["image_url"] == big_png
    assert sent[3]["text"] == "\x00orp-blob:0:5\x00", "a forged placeholder is left as the user wrote it"


async def test_files_on_a_model_without_file_input_are_skipped_with_a_status(fake):
    block = {"type": "input_file", "filename": "a.pdf", "file_data": f"data:application/pdf;base64,{PDF_B64}"}
    sent, statuses, _, _ = await ask(fake, [text("x"), block], model=TEXT_ONLY)
    assert [p["type"] for p in sent] == ["input_text"]
    assert "Model does not accept file inputs; skipping attached files." in statuses


async def test_audio_goes_as_base64_with_its_format_and_links_are_refused(fake):
    wav = base64.b64encode(b"RIFF\x00\x00\x00\x00WAVEfmt ").decode()
    parts = [
        text("transcribe"),
        {"type": "input_audio", "input_audio": {"data": wav, "format": "wav"}},
        {"type": "audio", "data": "https://example.com/a.mp3"},
    ]
    sent, statuses, _, _ = await ask(fake, parts, model=AUDIO)
    assert sent[1] == {"type": "input_audio", "input_audio": {"data": wav, "format": "wav"}}
    assert len(sent) == 2
    assert "Skipping audio: audio must be sent as base64 data, not a link." in statuses
    _, statuses, _, _ = await ask(fake, parts, model=VISION)
    assert "Model does not accept audio inputs; skipping audio." in statuses


async def test_video_within_limits_is_sent_and_private_links_are_blocked_visibly(fake):
    parts = [
        text("watch"),
        {"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AAAAIGZ0eXBpc29t"}},
        {"type": "video_url", "video_url": {"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"}},
        {"type": "video_url", "video_url": {"url": "https://192.168.1.10/cam.mp4"}},
        {"type": "video_url", "video_url": {"url": "data:video/mp4;base64," + "A" * (2 * 1024 * 1024)}},
    ]
    sent, statuses, notices, answer = await ask(fake, parts, model=VIDEO, VIDEO_MAX_SIZE_MB=1)
    assert [p["type"] for p in sent] == ["input_text", "input_video", "input_video"]
    assert sent[2]["video_url"] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    assert "🎥 Processing base64 video input" in statuses
    assert "🎥 Processing YouTube video input" in statuses
    assert "Video URL blocked by security policy (private network)" in notices
    assert "Video too large (~1.5MB, max: 1MB)" in notices
    assert answer.startswith("Echo:")


async def test_a_plain_http_video_link_to_a_public_address_is_passed_on(fake):
    # Videos are never downloaded by the pipe, so only the address checks apply to them.
    parts = [text("watch"), {"type": "video_url", "video_url": {"url": "http://93.184.216.34/clip.mp4"}}]
    sent, statuses, notices, _ = await ask(fake, parts, model=VIDEO)
    assert sent[1] == {"type": "input_video", "video_url": "http://93.184.216.34/clip.mp4"}
    assert "🎥 Processing video input" in statuses
    assert notices == []
    parts = [text("watch"), {"type": "video_url", "video_url": {"url": "ftp://93.184.216.34/clip.mp4"}}]
    sent, statuses, notices, _ = await ask(fake, parts, model=VIDEO)
    assert [p["type"] for p in sent] == ["input_text"]
    assert "Skipping a video: only http and https links are accepted." in statuses
    assert notices == [], "not a private network: no security notice"


async def test_open_webui_links_outside_open_webui_are_refused_visibly(fake):
    parts = [text("x"), {"type": "image_url", "image_url": "/api/v1/files/abc/content"}]
    sent, statuses, _, _ = await ask(fake, parts, files=[{"type": "file", "id": "doc1", "name": "notes.pdf"}])
    assert [p["type"] for p in sent] == ["input_text"]
    assert "Skipping image abc: Open WebUI file unavailable." in statuses
    assert "Skipping file notes.pdf: Open WebUI file unavailable." in statuses


async def test_a_full_link_to_open_webuis_own_file_is_read_as_that_file(fake):
    """A link with Open WebUI's own address (the request's base URL) is its file: read
    from storage (refused here, outside Open WebUI), never fetched over the network;
    the same link on another port is an ordinary remote image."""

    class Request:
        base_url = "http://127.0.0.1:8080/"

    parts = [text("x"), {"type": "image_url", "image_url": {"url": "http://127.0.0.1:8080/api/v1/files/abc/content"}}]
    pipe = new_pipe(fake.base_url)
    payloads = parse_lines(await collect(pipe, body(parts), __request__=Request()))
    statuses = [e["description"] for e in events_of(payloads, "status")]
    assert "Skipping image abc: Open WebUI file unavailable." in statuses, statuses

    parts[1]["image_url"]["url"] = "http://127.0.0.1:9/api/v1/files/abc/content"
    payloads = parse_lines(await collect(pipe, body(parts), __request__=Request()))
    statuses = [e["description"] for e in events_of(payloads, "status")]
    assert "Skipping image abc: Open WebUI file unavailable." not in statuses, statuses
    assert any(s.startswith("Skipping an image:") for s in statuses), statuses


async def test_remote_images_from_private_addresses_are_never_fetched(fake):
    fake.call(
        "POST", "/_fake/downloads", {"name": "cat.png", "body_b64": PNG.split(",", 1)[1], "content_type": "image/png"}
    )
    url = f"{fake.url}/files/cat.png"
    sent, statuses, _, answer = await ask(fake, [text("x"), {"type": "image_url", "image_url": url}])
    assert [p["type"] for p in sent] == ["input_text"]
    assert any(s.startswith("Skipping an image:") for s in statuses), statuses
    assert fake.call("GET", "/_fake/downloads") == {"cat.png": 0}
    assert answer.startswith("Echo:")


def trusted_loopback():
    return {"ENABLE_SSRF_PROTECTION": False, "ALLOW_INSECURE_HTTP_HOSTS": "127.0.0.1"}


async def test_a_remote_image_is_retried_after_the_servers_retry_after_and_inlined(fake):
    fake.call(
        "POST",
        "/_fake/downloads",
        {
            "name": "cat.png",
            "body_b64": PNG.split(",", 1)[1],
            "content_type": "image/png",
            "failures": [503],
            "retry_after": 2,
        },
    )
    url = f"{fake.url}/files/cat.png"
    sent, statuses, _, _ = await ask(
        fake,
        [text("x"), {"type": "image_url", "image_url": url}],
        REMOTE_DOWNLOAD_INITIAL_RETRY_DELAY_SECONDS=1,
        **trusted_loopback(),
    )
    assert sent[1]["image_url"] == PNG
    assert fake.call("GET", "/_fake/downloads") == {"cat.png": 2}
    assert any(s.startswith("Download failed (the server answered HTTP 503); retrying in 2 s") for s in statuses), (
        statuses
    )


async def test_a_remote_file_is_downloaded_or_passed_on_with_a_warning(fake):
    fake.call("POST", "/_fake/downloads", {"name": "r.pdf", "body_b64": PDF_B64, "content_type": "application/pdf"})
    block = {"type": "input_file", "file_url": f"{fake.url}/files/r.pdf"}
    sent, _, _, _ = await ask(fake, [text("x"), block], **trusted_loopback())
    assert sent[1] == {"type": "input_file", "filename": "r.pdf", "file_data": f"data:application/pdf;base64,{PDF_B64}"}
    missing = {"type": "input_file", "filename": "gone.pdf", "file_url": f"{fake.url}/files/gone.pdf"}
    sent, _, notices, answer = await ask(fake, [text("x"), missing], **trusted_loopback())
    assert sent[1] == {"type": "input_file", "filename": "gone.pdf", "file_url": f"{fake.url}/files/gone.pdf"}
    assert "Unable to download/re-host file 'gone.pdf'. Using the remote URL as-is." in notices
    assert answer.startswith("Echo:")


async def test_knowledge_collections_and_notes_in_files_are_left_to_open_webui(fake):
    files = [
        {"type": "collection", "id": "kb-1", "name": "Handbook", "collection_names": ["kb-1"]},
        {"id": "kb-legacy", "name": "Old handbook", "legacy": True},
        {"type": "note", "id": "note-1", "name": "My note"},
        {"type": "web_search", "name": "results", "urls": ["https://example.com"]},
        {"type": "file", "id": "doc-1", "name": "real.pdf"},
    ]
    sent, statuses, _, answer = await ask(fake, [text("what does it say?")], files=files)
    assert [p["type"] for p in sent] == ["input_text"]
    skipped = [s for s in statuses if s.startswith("Skipping")]
    # Only the real file is tried (and, outside Open WebUI, cannot be read).
    assert skipped == ["Skipping file real.pdf: Open WebUI file unavailable."], statuses
    assert answer.startswith("Echo:")
