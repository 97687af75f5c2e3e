"""Request-scoped logs and encrypted session-log archives (#14), driven through the generated
Function file against the fake OpenRouter: what an operator finds in the log and on disk."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from bridge_helpers import API_KEY, chat_body, content_of, events_of, new_pipe, parse_lines

pyzipper = pytest.importorskip("pyzipper", reason="pyzipper is installed by scripts/provision_openwebui.sh")

PASSWORD = "zip-pass-Secret-4242"
ENCRYPTION_KEY = "artifact-key-Secret-9191"
IDS = {"user": "user-7", "chat": "chat-7", "message": "msg-7", "session": "sess-7"}


def archive_pipe(fake, folder: Path, **valves):
    defaults = {
        "SESSION_LOG_STORE_ENABLED": True,
        "SESSION_LOG_ZIP_PASSWORD": PASSWORD,
        "SESSION_LOG_DIR": str(folder),
        "ARTIFACT_ENCRYPTION_KEY": ENCRYPTION_KEY,
    }
    return new_pipe(fake.base_url, **{**defaults, **valves})


async def ask(pipe, body, ids=IDS, user_valves=None, **kwargs):
    """One request as Open WebUI sends it; the answer's text (streamed or not)."""
    user = {"id": ids.get("user")}
    if user_valves:
        user["valves"] = pipe.module.Pipe.UserValves(**user_valves)
    metadata = {k: ids[k] for k in ("chat", "message", "session") if ids.get(k)}
    metadata = {f"{k}_id": v for k, v in metadata.items()}
    result = await pipe.pipe(body, __user__=user, __metadata__=metadata, **kwargs)
    if isinstance(result, str):
        return result
    return content_of(parse_lines([line async for line in result]))


async def wait_until(done, message: str, seconds: float = 30.0) -> None:
    """Polls `done()` without blocking the event loop: the request's last steps may still need it."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, message
        await asyncio.sleep(0.02)


async def wait_for(path: Path) -> Path:
    await wait_until(path.exists, f"no archive at {path}")
    return path


async def archive_of(folder: Path, ids=IDS) -> Path:
    return await wait_for(folder / ids["user"] / ids["chat"] / f"{ids['message']}.zip")


def members(path: Path, password: str = PASSWORD) -> dict[str, str]:
    with pyzipper.AESZipFile(path) as zf:
        zf.setpassword(password.encode())
        return {name: zf.read(name).decode("utf-8") for name in zf.namelist()}


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in members(path)["logs.jsonl"].splitlines()]


def assert_no_secrets(path: Path) -> None:
    raw = path.read_bytes()
    for secret in (API_KEY, PASSWORD, ENCRYPTION_KEY):
        assert secret.encode() not in raw
        for name, text in members(path).items():
            assert secret not in text, f"{secret!r} in {name}"


async def test_a_streamed_chat_leaves_one_encrypted_archive_with_the_reference_members(fake, tmp_path):
    pipe = archive_pipe(fake, tmp_path)
    assert (await ask(pipe, chat_body("hello there"))).startswith("Echo:")
    path = await archive_of(tmp_path)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["msg-7.zip"], "no temporary file left"
    files = members(path)
    assert sorted(files) == ["logs.jsonl", "meta.json"]
    meta = json.loads(files["meta.json"])
    assert meta["ids"] == {"user_id": "user-7", "session_id": "sess-7", "chat_id": "chat-7", "message_id": "msg-7"}
    assert meta["log_format"] == "jsonl" and re.fullmatch(r"[0-9A-Z]{20}", meta["request_id"])
    assert meta["created_at"].endswith("+00:00")
    timing = meta["timing"]
    assert timing["upstream_ms"] > 0 and timing["time_to_first_token_ms"] > 0
    assert timing["output_tokens"] > 0 and timing["tokens_per_second"] > 0
    assert timing["queue_wait_ms"] >= 0 and timing["tool_ms"] == 0
    rows = records(path)
    assert {r["request_id"] for r in rows} == {meta["request_id"]}
    assert all(r["logger"] == "openrouter_pipe" and r["ts"].endswith("Z") for r in rows)
    kinds = [r["event_type"] for r in rows]
    # Captured at DEBUG although the console level is INFO.
    assert "openrouter.request.headers" in kinds and "openrouter.request.payload" in kinds
    payload = next(r for r in rows if r["event_type"] == "openrouter.request.payload")
    assert "hello there" in payload["message"] and payload["level"] == "DEBUG"
    events = [r["message"] for r in rows if r["event_type"] == "openrouter.sse.event"]
    assert any("response.completed" in e for e in events)
    assert not any(".delta" in e.split(",")[0] for e in events), "deltas are not logged"
    headers = next(r for r in rows if r["event_type"] == "openrouter.request.headers")["message"]
    assert "Bearer [redacted]" in headers
    assert_no_secrets(path)


async def test_an_archive_is_refused_without_its_password(fake, tmp_path):
    pipe = archive_pipe(fake, tmp_path)
    await ask(pipe, chat_body("hi"))
    path = await archive_of(tmp_path)
    with pyzipper.AESZipFile(path) as zf:
        with pytest.raises(RuntimeError):
            zf.read("logs.jsonl")
        zf.setpassword(b"wrong password")
        with pytest.raises(RuntimeError):
            zf.read("logs.jsonl")


@pytest.mark.parametrize(
    "fmt,compression,level,expected",
    [
        ("both", "deflated", 9, ["logs.jsonl", "logs.txt", "meta.json"]),
        ("text", "bzip2", None, ["logs.txt", "meta.json"]),
        ("jsonl", "stored", None, ["logs.jsonl", "meta.json"]),
        ("jsonl", "lzma", None, ["logs.jsonl", "meta.json"]),
    ],
)
async def test_formats_and_compressions_open_with_pyzipper_and_7z(fake, tmp_path, fmt, compression, level, expected):
    pipe = archive_pipe(
        fake,
        tmp_path,
        SESSION_LOG_FORMAT=fmt,
        SESSION_LOG_ZIP_COMPRESSION=compression,
        SESSION_LOG_ZIP_COMPRESSLEVEL=level,
    )
    await ask(pipe, chat_body("formats", stream=False))
    path = await archive_of(tmp_path)
    files = members(path)
    assert sorted(files) == expected
    methods = {"stored": pyzipper.ZIP_STORED, "deflated": pyzipper.ZIP_DEFLATED, "bzip2": pyzipper.ZIP_BZIP2,
               "lzma": pyzipper.ZIP_LZMA}
    with pyzipper.AESZipFile(path) as zf:
        assert {i.compress_type for i in zf.infolist()} == {methods[compression]}, "the method the valve names"
    if "logs.txt" in files:
        first = files["logs.txt"].splitlines()[0]
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[(DEBUG|INFO|WARNING|ERROR)\] \[user=user-7\] ", first)
    if shutil.which("7z") is None:
        pytest.skip("7z is installed by .ci/run (p7zip-full)")
    ok = subprocess.run(["7z", "t", f"-p{PASSWORD}", str(path)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    shown = subprocess.run(["7z", "x", f"-p{PASSWORD}", "-so", str(path), "meta.json"], capture_output=True)
    assert json.loads(shown.stdout)["ids"]["chat_id"] == "chat-7"
    refused = subprocess.run(["7z", "t", "-pnot-it", str(path)], capture_output=True, text=True)
    assert refused.returncode != 0


async def test_the_default_archive_is_lzma_inside_winzip_aes(fake, tmp_path):
    import zipfile

    pipe = archive_pipe(fake, tmp_path, SESSION_LOG_FORMAT="both")
    await ask(pipe, chat_body("default packing"))
    path = await archive_of(tmp_path)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert sorted(i.filename for i in infos) == ["logs.jsonl", "logs.txt", "meta.json"]
        assert all(i.compress_type == 99 and i.flag_bits & 1 for i in infos), "WinZip AES"
        assert all(i.external_attr >> 16 == 0o100600 for i in infos), "private to its owner"
    with pyzipper.AESZipFile(path) as zf:
        zf.setpassword(PASSWORD.encode())
        assert all(i.compress_type == pyzipper.ZIP_LZMA for i in zf.infolist())
        jsonl = zf.read("logs.jsonl").decode()
        raw = zf.read("meta.json")
    assert "default packing" in jsonl and json.loads(raw)["ids"]["chat_id"] == "chat-7"
    # A log compresses: the archive is far smaller than what it holds.
    assert path.stat().st_size < len(jsonl) / 2


async def test_a_non_streamed_chat_is_archived_too(fake, tmp_path):
    pipe = archive_pipe(fake, tmp_path)
    assert (await ask(pipe, chat_body("complete me", stream=False))).startswith("Echo:")
    rows = records(await archive_of(tmp_path))
    events = [r["message"] for r in rows if r["event_type"] == "openrouter.sse.event"]
    assert events and "complete me" in events[0], "the whole JSON answer is logged at DEBUG"


async def test_an_errored_chat_is_archived_with_its_error_id_and_no_secret(fake, tmp_path):
    echo = f"upstream echoed Authorization: Bearer {API_KEY} key {API_KEY} pw {PASSWORD} enc {ENCRYPTION_KEY}"
    fake.enqueue({"status": 400, "body": {"error": {"code": 400, "message": echo}}})
    pipe = archive_pipe(fake, tmp_path, SESSION_LOG_FORMAT="both")
    card = await ask(pipe, chat_body("fail please"))
    error_id = re.search(r"\b([0-9a-f]{16})\b", card).group(1)
    path = await archive_of(tmp_path)
    assert_no_secrets(path)
    rows = records(path)
    assert any(error_id in r["message"] and r["level"] == "WARNING" for r in rows), rows


async def test_an_error_card_cites_its_session_log_without_secrets_or_debug_lines(fake, tmp_path):
    echo = f"upstream echoed key {API_KEY} pw {PASSWORD}"
    fake.enqueue({"status": 400, "body": {"error": {"code": 400, "message": echo}}})
    pipe = archive_pipe(fake, tmp_path)
    metadata = {"chat_id": IDS["chat"], "message_id": IDS["message"], "session_id": IDS["session"]}
    result = await pipe.pipe(chat_body("fail please"), __user__={"id": IDS["user"]}, __metadata__=metadata)
    payloads = parse_lines([line async for line in result])
    error_id = re.search(r"\b([0-9a-f]{16})\b", content_of(payloads)).group(1)
    sources = events_of(payloads, "source")
    cited = [s for s in sources if s["source"]["name"] == f"Session log {error_id}"]
    assert len(cited) == 1, sources
    assert cited[0]["metadata"][0]["archive"] == "user-7/chat-7/msg-7.zip"
    document = cited[0]["document"][0]
    assert f"Error ID: {error_id}" in document and error_id in document.splitlines()[-1]
    assert "OpenRouter request payload" not in document, "DEBUG lines stay in the archive"
    for secret in (API_KEY, PASSWORD, ENCRYPTION_KEY):
        assert secret not in json.dumps(cited)
    await archive_of(tmp_path)


async def test_without_archives_an_error_card_has_no_log_citation(fake):
    fake.enqueue({"status": 400, "body": {"error": {"code": 400, "message": "bad"}}})
    pipe = new_pipe(fake.base_url)
    metadata = {"chat_id": "c", "message_id": "m", "session_id": "s"}
    result = await pipe.pipe(chat_body("fail please"), __user__={"id": "u"}, __metadata__=metadata)
    payloads = parse_lines([line async for line in result])
    assert re.search(r"[0-9a-f]{16}", content_of(payloads)), "the card was shown"
    assert events_of(payloads, "source") == []


async def test_a_tool_using_chat_is_archived_with_both_rounds_and_tool_time(fake, tmp_path):
    async def get_weather(city):
        await asyncio.sleep(0.05)
        return {"city": city, "sky": "sunny"}

    tools = {
        "get_weather": {
            "tool_id": "t",
            "callable": get_weather,
            "spec": {
                "name": "get_weather",
                "description": "Weather.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    }
    fake.enqueue({"call": "get_weather", "call_args": json.dumps({"city": "Paris"}), "text": "Let me check."})
    pipe = archive_pipe(fake, tmp_path)
    await ask(pipe, chat_body("weather?"), __tools__=tools)
    path = await archive_of(tmp_path)
    rows = records(path)
    payloads = [r for r in rows if r["event_type"] == "openrouter.request.payload"]
    assert len(payloads) == 2, "one outbound request per round"
    assert "function_call_output" in payloads[1]["message"]
    timing = json.loads(members(path)["meta.json"])["timing"]
    assert timing["tool_ms"] >= 40
    assert_no_secrets(path)


def failing_tool():
    async def read_gauge(name):
        raise RuntimeError(f"gauge {name} is on fire")

    return {
        "read_gauge": {
            "tool_id": "t",
            "callable": read_gauge,
            "spec": {
                "name": "read_gauge",
                "description": "Reads a gauge.",
                "parameters": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
            },
        }
    }


async def test_the_python_layers_lines_about_a_chat_are_in_its_archive(fake, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="openrouter_pipe")
    fake.enqueue({"call": "read_gauge", "call_args": json.dumps({"name": "boiler"}), "text": "Checking."})
    pipe = archive_pipe(fake, tmp_path)
    await ask(pipe, chat_body("how is the boiler?"), __tools__=failing_tool())
    path = await archive_of(tmp_path)
    rows = records(path)
    failed = [r for r in rows if "Host call tool failed" in r["message"]]
    assert failed, [r["message"][:80] for r in rows]
    assert failed[0]["level"] == "DEBUG" and failed[0]["module"] == "openrouter_pipe.host"
    assert "RuntimeError: gauge boiler is on fire" in failed[0]["message"], "the traceback is kept"
    assert failed[0]["request_id"] == json.loads(members(path)["meta.json"])["request_id"]
    assert not request_lines(caplog, "Host call tool failed"), "DEBUG stays out of an INFO log"
    assert_no_secrets(path)


async def test_a_tools_failed_citation_is_logged_in_its_chats_archive(fake, tmp_path, monkeypatch):
    # Open WebUI's citation helper (loaded inside a server) raising on a tool's result: the
    # tools module's line about it belongs to the chat that ran the tool.
    def broken_citation(**_kwargs):
        raise ValueError("citation parser choked")

    middleware = types.ModuleType("open_webui.utils.middleware")
    middleware.CITATION_TOOL_NAMES = ["fetch_url"]
    middleware.get_citation_source_from_tool_result = broken_citation
    monkeypatch.setitem(sys.modules, "open_webui.utils.middleware", middleware)

    async def fetch_url(url):
        return f"The page at {url} says hello."

    tools = {
        "fetch_url": {
            "tool_id": "web",
            "callable": fetch_url,
            "spec": {
                "name": "fetch_url",
                "description": "Fetches a page.",
                "parameters": {"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
            },
        }
    }
    fake.enqueue({"call": "fetch_url", "call_args": json.dumps({"url": "http://example.test/"}), "text": "Fetched."})
    emitted = []

    async def emitter(event):
        emitted.append(event)

    pipe = archive_pipe(fake, tmp_path)
    await ask(pipe, chat_body("read the page"), __tools__=tools, __event_emitter__=emitter)
    rows = records(await archive_of(tmp_path))
    cited = [r for r in rows if "No citation for fetch_url" in r["message"]]
    assert cited, [r["message"][:80] for r in rows]
    assert cited[0]["module"] == "openrouter_pipe.tools" and cited[0]["level"] == "DEBUG"
    assert "ValueError: citation parser choked" in cited[0]["message"]
    assert not [e for e in emitted if e.get("type") == "source"], "no citation was made up"


async def test_a_users_debug_level_shows_the_python_layers_lines_with_the_request_tag(fake, caplog):
    caplog.set_level(logging.INFO, logger="openrouter_pipe")
    fake.enqueue({"call": "read_gauge", "call_args": json.dumps({"name": "boiler"}), "text": "Checking."})
    pipe = new_pipe(fake.base_url)
    chat = {**IDS, "chat": "chat-gauge"}
    await ask(pipe, chat_body("boiler?"), ids=chat, __tools__=failing_tool(), user_valves={"LOG_LEVEL": "DEBUG"})
    lines = [line for line in request_lines(caplog, "chat=chat-gauge") if "Host call tool failed" in line]
    assert lines, request_lines(caplog, "chat=chat-gauge")
    assert re.match(r"\[DEBUG\] \[request=\w+ user=user-7 chat=chat-gauge message=msg-7\] Host call", lines[0])


@pytest.mark.parametrize(
    "hostile",
    [
        {"user": "../../escape", "chat": "/etc", "message": "..", "session": "s"},
        {"user": "a/b\\c", "chat": "..\x00..", "message": "/abs/path", "session": "s"},
    ],
)
async def test_hostile_ids_stay_inside_the_folder(fake, tmp_path, hostile):
    folder = tmp_path / "logs"
    pipe = archive_pipe(fake, folder)
    await ask(pipe, chat_body("hostile"), ids=hostile)
    await wait_until(lambda: list(folder.rglob("*.zip")), "no archive")
    every = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(every) == 1 and every[0].is_relative_to(folder)
    assert len(every[0].relative_to(folder).parts) == 3
    assert json.loads(members(every[0])["meta.json"])["ids"]["user_id"] == hostile["user"]


async def test_tasks_and_requests_missing_an_id_leave_no_archive(fake, tmp_path):
    pipe = archive_pipe(fake, tmp_path)
    await ask(pipe, chat_body("title", stream=False), __task__="title_generation")
    for missing in ("user", "chat", "message", "session"):
        await ask(pipe, chat_body("no id"), ids={**IDS, missing: None})
    await ask(pipe, chat_body("the one"), ids={**IDS, "message": "kept"})
    await wait_for(tmp_path / "user-7" / "chat-7" / "kept.zip")
    await asyncio.sleep(0.2)
    assert [p.name for p in tmp_path.rglob("*.zip")] == ["kept.zip"]


async def test_a_missing_password_warns_once_and_the_chat_goes_on(fake, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="openrouter_pipe")
    pipe = archive_pipe(fake, tmp_path, SESSION_LOG_ZIP_PASSWORD="")
    for _ in range(2):
        assert (await ask(pipe, chat_body("no password"))).startswith("Echo:")
    await asyncio.sleep(0.2)
    assert not list(tmp_path.rglob("*.zip"))
    warned = [r for r in caplog.records if "SESSION_LOG_ZIP_PASSWORD is empty" in r.getMessage()]
    assert len(warned) <= 1  # said once per process (an earlier test may already have said it)


async def test_an_unwritable_folder_gives_a_warning_never_a_failed_chat(fake, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="openrouter_pipe")
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    pipe = archive_pipe(fake, blocked)
    assert (await ask(pipe, chat_body("disk trouble"))).startswith("Echo:")
    deadline = time.monotonic() + 30
    while True:
        await ask(pipe, chat_body("flush"), ids={**IDS, "chat": None})  # drains the engine's log lines
        if any("Session log archive not written" in r.getMessage() for r in caplog.records):
            break
        assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
        await asyncio.sleep(0.05)


async def test_old_archives_are_removed_and_empty_folders_pruned(fake, tmp_path):
    old = tmp_path / "old-user" / "old-chat" / "old.zip"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"old")
    three_days_ago = time.time() - 3 * 86400
    os.utime(old, (three_days_ago, three_days_ago))
    pipe = archive_pipe(fake, tmp_path, SESSION_LOG_RETENTION_DAYS=1)
    await ask(pipe, chat_body("sweep"))
    await archive_of(tmp_path)
    await wait_until(lambda: not (tmp_path / "old-user").exists(), "old archive still there")
    assert (await archive_of(tmp_path)).exists(), "a fresh archive is kept"


def request_lines(caplog, marker: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "openrouter_pipe" and marker in r.getMessage()]


async def test_a_users_log_level_changes_what_reaches_the_log(fake, caplog):
    caplog.set_level(logging.INFO, logger="openrouter_pipe")
    pipe = new_pipe(fake.base_url)  # admin level: INFO (the default)
    chat = {**IDS, "chat": "chat-debug"}
    await ask(pipe, chat_body("debug me"), ids=chat, user_valves={"LOG_LEVEL": "DEBUG"})
    lines = request_lines(caplog, "chat=chat-debug")
    payload = [line for line in lines if "OpenRouter request payload:" in line]
    assert payload and "debug me" in payload[0]
    assert all(line.startswith("[DEBUG] [request=") for line in payload), "kept its level name"
    assert "user=user-7" in payload[0] and "message=msg-7" in payload[0]
    assert any("OpenRouter payload:" in line and "response.completed" in line for line in lines)
    assert not any(API_KEY in line for line in lines)
    caplog.clear()
    await ask(pipe, chat_body("quiet"), ids={**IDS, "chat": "chat-quiet"})
    assert not request_lines(caplog, "OpenRouter request payload:"), "INFO shows no payloads"


async def test_a_user_can_lower_the_level_below_the_admins(fake, caplog):
    caplog.set_level(logging.DEBUG, logger="openrouter_pipe")
    pipe = new_pipe(fake.base_url, LOG_LEVEL="DEBUG")
    await ask(pipe, chat_body("loud"), ids={**IDS, "chat": "chat-loud"})
    assert request_lines(caplog, "chat=chat-loud")
    await ask(pipe, chat_body("silent"), ids={**IDS, "chat": "chat-silent"}, user_valves={"LOG_LEVEL": "ERROR"})
    assert not request_lines(caplog, "chat=chat-silent")


async def test_the_error_id_on_a_card_finds_its_log_line(fake, caplog):
    caplog.set_level(logging.INFO, logger="openrouter_pipe")
    fake.enqueue({"error": 400})
    pipe = new_pipe(fake.base_url)
    card = await ask(pipe, chat_body("x"), ids={**IDS, "chat": "chat-card"})
    error_id = re.search(r"\b([0-9a-f]{16})\b", card).group(1)
    lines = [line for line in request_lines(caplog, error_id) if "chat=chat-card" in line]
    assert lines and f"error={error_id}]" in lines[0]


async def test_the_python_layers_lines_carry_the_same_request_tag_as_the_engines(fake, caplog):
    caplog.set_level(logging.INFO, logger="openrouter_pipe")
    fake.enqueue({"error": 400})
    pipe = new_pipe(fake.base_url)
    chat = {**IDS, "chat": "chat-task-tag"}
    body = chat_body("### Task: generate a title", stream=False)
    assert await ask(pipe, body, ids=chat, __task__="title_generation") == ""
    lines = request_lines(caplog, "chat=chat-task-tag")
    python_lines = [line for line in lines if "could not answer the title_generation task" in line]
    engine_lines = [line for line in lines if "Error ID" in line or "error=" in line]
    assert python_lines and engine_lines, lines
    tag = re.match(r"\[request=(\w+) user=user-7 chat=chat-task-tag message=msg-7\]", python_lines[0])
    assert tag, python_lines[0]
    assert all(f"[request={tag.group(1)} " in line for line in engine_lines), (tag.group(1), engine_lines)
