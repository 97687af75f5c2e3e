"""Drive a real Open WebUI 0.12.4 on loopback: start/stop/restart, admin, Functions, chats.

Shared by the e2e tests (``pytests/e2e``) and by ``scripts/run.sh`` (through
``scripts/demo.py``). Runs with the Open WebUI venv's Python: it needs ``httpx`` and,
for the UI path, ``python-socketio`` with ``aiohttp``, all of which that venv has.

The recipe behind it is the headless one of Open WebUI 0.12.4: a fresh ``DATA_DIR``, offline
switches, admin signup, ``POST /api/v1/functions/create`` + toggle + valves, then
``GET /api/models`` (needed before any chat, it refreshes the server's model table).
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from typing import Any

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VENV = Path(
    os.environ.get("OWUI_VENV")
    or Path(os.environ.get("OPENROUTER_PIPE_CACHE", Path.home() / ".cache/openrouter-pipe"))
    / "owui-venv-0.12.4"
)

FUNCTION_ID = "openrouter"
FUNCTION_NAME = "OpenRouter"
TEST_API_KEY = "sk-or-test-key"
TEST_ADMIN = {"name": "Admin", "email": "admin@example.com", "password": "e2e-Passw0rd!"}
TEST_SECRET_KEY = "e2e-test-secret-key-not-for-production-0123456789"

# Environment of the tested headless recipe. Task generation is off so that the fake
# OpenRouter only sees the requests a test makes itself; a test turns a task on through
# the task config API when it wants one.
BASE_ENV = {
    "WEBUI_AUTH": "True",
    "ENABLE_SIGNUP": "True",
    "OFFLINE_MODE": "true",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ENABLE_VERSION_UPDATE_CHECK": "false",
    "RAG_EMBEDDING_ENGINE": "openai",
    "RAG_EMBEDDING_MODEL_AUTO_UPDATE": "false",
    "RAG_RERANKING_MODEL_AUTO_UPDATE": "false",
    "WHISPER_MODEL_AUTO_UPDATE": "false",
    "ENABLE_OLLAMA_API": "false",
    "ENABLE_OPENAI_API": "false",
    # Browser-side tool servers (the tool e2e answers execute:tool itself).
    "ENABLE_DIRECT_INTEGRATIONS": "true",
    "ENABLE_WEB_SEARCH": "false",
    "ENABLE_IMAGE_GENERATION": "false",
    "ENABLE_CODE_INTERPRETER": "false",
    "ENABLE_EVALUATION_ARENA_MODELS": "false",
    "ENABLE_TITLE_GENERATION": "false",
    "ENABLE_FOLLOW_UP_GENERATION": "false",
    "ENABLE_TAGS_GENERATION": "false",
    "ENABLE_AUTOCOMPLETE_GENERATION": "false",
    "ANONYMIZED_TELEMETRY": "false",
    "DO_NOT_TRACK": "true",
    "SCARF_NO_ANALYTICS": "true",
    "GLOBAL_LOG_LEVEL": "INFO",
    "UVICORN_WORKERS": "1",
    "PYTHONUNBUFFERED": "1",
}


class HarnessError(RuntimeError):
    """Something in the Open WebUI set-up went wrong (not a product assertion)."""


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.25, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; return that value or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - keep polling, report the last error
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")
        time.sleep(interval)


def _die_with_parent() -> None:
    """preexec_fn: SIGTERM the child when the process that started it dies (Linux only)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def stop_process_group(proc: subprocess.Popen, grace: float = 15.0) -> None:
    """Terminate a process started with ``start_new_session=True`` and its group; then kill."""
    if proc.poll() is not None:
        return
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def tail(path: Path, lines: int = 80) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        return f"<no log: {exc}>"
    return "\n".join(text.splitlines()[-lines:])


def parse_sse(text: str) -> list[Any]:
    """Parse an SSE body into the JSON payloads of its ``data:`` lines (``[DONE]`` kept as str)."""
    out: list[Any] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if not payload:
            continue
        if payload == "[DONE]":
            out.append(payload)
            continue
        try:
            out.append(json.loads(payload))
        except json.JSONDecodeError:
            out.append(payload)
    return out


def sse_content(chunks: list[Any]) -> str:
    """Concatenate ``choices[0].delta.content`` of OpenAI chat chunks."""
    parts = []
    for c in chunks:
        if not isinstance(c, dict):
            continue
        for choice in c.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if isinstance(content, str):
                parts.append(content)
    return "".join(parts)


def sse_usage(chunks: list[Any]) -> dict | None:
    """The last ``usage`` object found in the chunks, if any."""
    usage = None
    for c in chunks:
        if isinstance(c, dict) and isinstance(c.get("usage"), dict):
            usage = c["usage"]
    return usage


def generate_shim(python: str | Path, output: Path, function_id: str | None = None) -> str:
    """Run ``python -m openrouter_pipe shim --output FILE`` and return the Function source."""
    cmd = [str(python), "-m", "openrouter_pipe", "shim", "--output", str(output)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise HarnessError(
            f"{' '.join(cmd)} failed with exit code {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    content = output.read_text()
    if "class Pipe" not in content:
        raise HarnessError(f"the generated shim {output} has no `class Pipe`")
    return content


# --------------------------------------------------------------------------- the server


class OpenWebUI:
    """One ``open-webui serve`` process on 127.0.0.1 with its own DATA_DIR.

    ``restart()`` keeps DATA_DIR, port and secret key, so tokens and chats stay valid.
    """

    def __init__(
        self,
        data_dir: Path,
        venv: Path = DEFAULT_VENV,
        port: int | None = None,
        host: str = "127.0.0.1",
        env: dict[str, str] | None = None,
        log_path: Path | None = None,
        secret_key: str = TEST_SECRET_KEY,
    ):
        self.venv = Path(venv)
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port or free_port()
        self.extra_env = dict(env or {})
        self.secret_key = secret_key
        self.log_path = (
            Path(log_path) if log_path else self.data_dir.parent / f"{self.data_dir.name}-server.log"
        )
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
        env.update(BASE_ENV)
        env.update(
            {
                "DATA_DIR": str(self.data_dir),
                "WEBUI_SECRET_KEY": self.secret_key,
                "PORT": str(self.port),
            }
        )
        env.update(self.extra_env)
        return env

    def command(self) -> list[str]:
        """What starts the server (the Docker recipe's test wraps it in the image's entry point)."""
        return [str(self.venv / "bin" / "open-webui"), "serve", "--host", self.host, "--port", str(self.port)]

    def start(self, timeout: float = 120.0) -> OpenWebUI:
        if self.proc and self.proc.poll() is None:
            raise HarnessError("Open WebUI is already running")
        exe = self.venv / "bin" / "open-webui"
        if not exe.exists():
            raise HarnessError(f"{exe} not found: run scripts/provision_openwebui.sh")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts + 1} at {time.strftime('%H:%M:%S')} =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.data_dir,
                env=self.environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - started from the main thread
            )
        self.starts += 1
        t0 = time.monotonic()
        try:
            self.wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        self.boot_seconds = time.monotonic() - t0
        return self

    def wait_healthy(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=5.0) as client:
            while True:
                if self.proc is None or self.proc.poll() is not None:
                    code = None if self.proc is None else self.proc.returncode
                    raise HarnessError(
                        f"Open WebUI exited with code {code} before becoming healthy; log tail "
                        f"({self.log_path}):\n{tail(self.log_path)}"
                    )
                try:
                    r = client.get(f"{self.base_url}/health")
                    if r.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() >= deadline:
                    raise HarnessError(
                        f"Open WebUI not healthy after {timeout:.0f}s on {self.base_url}; log tail "
                        f"({self.log_path}):\n{tail(self.log_path)}"
                    )
                time.sleep(0.3)

    def stop(self) -> None:
        if self.proc is not None:
            stop_process_group(self.proc)
            self.proc = None

    def restart(self, timeout: float = 120.0) -> OpenWebUI:
        self.stop()
        # Don't race the old socket's release: wait until the port is free again.
        wait_until(lambda: _port_free(self.host, self.port), 30, what=f"port {self.port} to be released")
        return self.start(timeout)

    def log_tail(self, lines: int = 80) -> str:
        return tail(self.log_path, lines)

    def __enter__(self) -> OpenWebUI:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


# --------------------------------------------------------------------------- the API


class Api:
    """Authenticated calls against a running Open WebUI."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    # -- plumbing
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, expect: int | None = 200, **kw) -> httpx.Response:
        with httpx.Client(base_url=self.base_url, timeout=kw.pop("timeout", self.timeout)) as c:
            r = c.request(method, path, headers={**self.headers(), **kw.pop("headers", {})}, **kw)
        if expect is not None and r.status_code != expect:
            raise HarnessError(f"{method} {path} -> {r.status_code}: {r.text[:2000]}")
        return r

    def get(self, path: str, **kw) -> Any:
        return self.request("GET", path, **kw).json()

    def post(self, path: str, body: Any = None, **kw) -> Any:
        return self.request("POST", path, json=body, **kw).json()

    # -- auth
    def signup(self, name: str, email: str, password: str) -> dict:
        user = self.post("/api/v1/auths/signup", {"name": name, "email": email, "password": password})
        self.token = user["token"]
        return user

    def signin(self, email: str, password: str) -> dict:
        user = self.post("/api/v1/auths/signin", {"email": email, "password": password})
        self.token = user["token"]
        return user

    def signup_or_signin(self, name: str, email: str, password: str) -> dict:
        """Sign in; if that account doesn't exist yet, sign up (the first account is admin)."""
        r = self.request(
            "POST", "/api/v1/auths/signin", expect=None, json={"email": email, "password": password}
        )
        if r.status_code == 200:
            self.token = r.json()["token"]
            return r.json()
        return self.signup(name, email, password)

    # -- functions
    def function(self, function_id: str) -> dict | None:
        r = self.request("GET", f"/api/v1/functions/id/{function_id}", expect=None)
        if r.status_code == 200:
            return r.json()
        return None

    def install_function(
        self, function_id: str, name: str, content: str, description: str = "", active: bool = True
    ) -> dict:
        """Create the Function, or update its content if it exists; then make it (in)active."""
        form = {"id": function_id, "name": name, "content": content, "meta": {"description": description}}
        existing = self.function(function_id)
        if existing is None:
            fn = self.post("/api/v1/functions/create", form)
        elif existing.get("content") != content or existing.get("name") != name:
            fn = self.post(f"/api/v1/functions/id/{function_id}/update", form)
        else:
            fn = existing
        fn = self.function(function_id) or fn
        if bool(fn.get("is_active")) != active:
            fn = self.post(f"/api/v1/functions/id/{function_id}/toggle")
        if bool(fn.get("is_active")) != active:
            raise HarnessError(f"could not set Function {function_id} active={active}: {fn}")
        return fn

    def delete_function(self, function_id: str) -> None:
        self.request("DELETE", f"/api/v1/functions/id/{function_id}/delete", expect=None)

    def set_valves(self, function_id: str, valves: dict) -> dict:
        return self.post(f"/api/v1/functions/id/{function_id}/valves/update", valves)

    def valves(self, function_id: str) -> dict:
        return self.get(f"/api/v1/functions/id/{function_id}/valves") or {}

    def set_user_valves(self, function_id: str, valves: dict) -> dict:
        return self.post(f"/api/v1/functions/id/{function_id}/valves/user/update", valves)

    # -- models and chats
    def models(self, refresh: bool = False) -> list[dict]:
        """``GET /api/models``: also refreshes the server's model table (needed before chats)."""
        data = self.get("/api/models", params={"refresh": "true"} if refresh else None)
        return data.get("data", data) if isinstance(data, dict) else data

    def chat(self, model: str, messages: list[dict] | str, stream: bool = False, **extra) -> httpx.Response:
        """``POST /api/chat/completions`` (plain API call: nothing is saved). Returns the response."""
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        body = {"model": model, "stream": stream, "messages": messages, **extra}
        return self.request("POST", "/api/chat/completions", json=body, expect=None)

    def chat_stream(self, model: str, messages: list[dict] | str, **extra) -> tuple[httpx.Response, list]:
        r = self.chat(model, messages, stream=True, **extra)
        return r, parse_sse(r.text)

    def get_chat(self, chat_id: str) -> dict:
        return self.get(f"/api/v1/chats/{chat_id}")

    # -- task config
    def task_config(self) -> dict:
        return self.get("/api/v1/tasks/config")

    def update_task_config(self, **changes) -> dict:
        """Read the task config, change some keys, write it back (the form wants every field)."""
        cfg = dict(self.task_config())
        # Values for keys the stored config lacks (or holds as null where the form wants a value).
        nullable = {"TASK_MODEL": None, "TASK_MODEL_EXTERNAL": None, "VOICE_MODE_PROMPT_TEMPLATE": None}
        required = {
            "ENABLE_TITLE_GENERATION": False,
            "TITLE_GENERATION_PROMPT_TEMPLATE": "",
            "IMAGE_PROMPT_GENERATION_PROMPT_TEMPLATE": "",
            "ENABLE_AUTOCOMPLETE_GENERATION": False,
            "AUTOCOMPLETE_GENERATION_PROMPT_TEMPLATE": "",
            "TAGS_GENERATION_PROMPT_TEMPLATE": "",
            "FOLLOW_UP_GENERATION_PROMPT_TEMPLATE": "",
            "ENABLE_FOLLOW_UP_GENERATION": False,
            "ENABLE_TAGS_GENERATION": False,
            "ENABLE_SEARCH_QUERY_GENERATION": False,
            "ENABLE_RETRIEVAL_QUERY_GENERATION": False,
            "QUERY_GENERATION_PROMPT_TEMPLATE": "",
            "TOOLS_FUNCTION_CALLING_PROMPT_TEMPLATE": "",
            "ENABLE_VOICE_MODE_PROMPT": False,
        }
        for k, v in nullable.items():
            cfg.setdefault(k, v)
        for k, v in required.items():
            if cfg.get(k) is None:
                cfg[k] = v
        cfg.update(changes)
        return self.post("/api/v1/tasks/config/update", cfg)


# --------------------------------------------------------------------------- UI path


@dataclass
class UiChat:
    """Result of one turn sent the way the browser sends it (socket.io session + saved chat)."""

    chat_id: str
    user_message_id: str
    message_id: str
    ack: dict
    events: list[dict] = field(default_factory=list)
    final: dict | None = None

    def event_types(self) -> list[str]:
        return [((e.get("data") or {}).get("type")) for e in self.events]

    def events_of(self, type_: str) -> list[dict]:
        return [
            (e.get("data") or {}).get("data")
            for e in self.events
            if (e.get("data") or {}).get("type") == type_
        ]


async def ui_path_chat_async(
    base_url: str,
    token: str,
    model: str,
    text: str,
    chat_id: str | None = None,
    parent_id: str | None = None,
    background_tasks: dict | None = None,
    features: dict | None = None,
    params: dict | None = None,
    timeout: float = 90.0,
    wait_for: Callable[[list[dict]], bool] | None = None,
    on_event: Callable[[dict], Any] | None = None,
    extra_body: dict | None = None,
    user_files: list[dict] | None = None,
) -> UiChat:
    """Send one user turn through the socket.io UI path and wait until the reply is done.

    New chat: ``chat_id=None`` (sent as ``parent_id: null``). Follow-up: pass the ``chat_id`` and
    ``parent_id`` = the previous assistant message id. ``wait_for(events)`` may demand more
    than the final ``chat:completion`` (for example a ``chat:title`` event).
    ``on_event`` is the socket handler: its return value answers ``__event_call__``.
    ``extra_body`` adds fields the browser sends in some chats (``filter_ids`` for toggles,
    ``tool_ids``, ``tool_servers``). ``user_files`` are the files the browser attaches to
    the user message (and sends as the request's ``files``), as Open WebUI's upload returns them.
    """
    import socketio  # the venv's python-socketio (client side uses aiohttp)

    events: list[dict] = []
    done = asyncio.Event()
    sio = socketio.AsyncClient(reconnection=False)

    def finished() -> bool:
        for e in events:
            d = e.get("data") or {}
            if d.get("type") == "chat:completion" and (d.get("data") or {}).get("done"):
                break
            if d.get("type") == "chat:message:error":
                break
        else:
            return False
        return wait_for(events) if wait_for else True

    @sio.on("events")
    async def _on_events(data):
        events.append(data)
        answer = None
        if on_event is not None:
            answer = on_event(data)
            if asyncio.iscoroutine(answer):
                answer = await answer
        if finished():
            done.set()
        return answer

    await sio.connect(
        base_url,
        socketio_path="/ws/socket.io",
        transports=["websocket"],
        auth={"token": token},
        wait_timeout=30,
    )
    try:
        await sio.emit("user-join", {"auth": {"token": token}})
        user_message_id = str(uuid.uuid4())
        assistant_id = str(uuid.uuid4())
        body = {
            "stream": True,
            "model": model,
            "session_id": sio.get_sid(namespace="/") or sio.sid,
            "id": assistant_id,
            "parent_id": parent_id,
            "user_message": {
                "id": user_message_id,
                "parentId": parent_id,
                "childrenIds": [assistant_id],
                "role": "user",
                "content": text,
                "timestamp": int(time.time()),
                "models": [model],
            },
            "background_tasks": background_tasks or {},
            "params": params or {},
            "features": features or {},
        }
        if chat_id:
            body["chat_id"] = chat_id
        if user_files:
            body["user_message"]["files"] = user_files
            body["files"] = user_files
        body.update(extra_body or {})
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            r = await client.post(
                "/api/chat/completions", json=body, headers={"Authorization": f"Bearer {token}"}
            )
        if r.status_code != 200:
            raise HarnessError(f"UI-path POST /api/chat/completions -> {r.status_code}: {r.text[:2000]}")
        ack = r.json()
        if not isinstance(ack, dict) or not ack.get("chat_id"):
            raise HarnessError(f"unexpected UI-path acknowledgement: {ack!r}")
        if finished():
            done.set()
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except TimeoutError:
            raise HarnessError(
                f"no finished chat:completion within {timeout:.0f}s; event types so far: "
                f"{[(e.get('data') or {}).get('type') for e in events]}"
            ) from None
        final = None
        for e in events:
            d = e.get("data") or {}
            if d.get("type") == "chat:completion" and (d.get("data") or {}).get("done"):
                final = d.get("data")
        return UiChat(
            chat_id=ack["chat_id"],
            user_message_id=user_message_id,
            message_id=assistant_id,
            ack=ack,
            events=events,
            final=final,
        )
    finally:
        await sio.disconnect()


def ui_path_chat(*args, **kwargs) -> UiChat:
    """Synchronous wrapper of :func:`ui_path_chat_async`."""
    return asyncio.run(ui_path_chat_async(*args, **kwargs))


def saved_message(api: Api, chat_id: str, message_id: str, timeout: float = 30.0, until=None) -> dict:
    """The message as saved in the DB (``GET /api/v1/chats/{id}``), once it is ``done``.

    The UI path saves the reply once at the end, shortly after the last socket event, so poll.
    ``until(message, chat)`` may require more (e.g. a generated title).
    """

    def probe():
        chat = api.get_chat(chat_id)
        msg = ((chat.get("chat") or {}).get("history") or {}).get("messages", {}).get(message_id)
        if not msg or not msg.get("done"):
            return None
        if until is not None and not until(msg, chat):
            return None
        return msg

    return wait_until(probe, timeout, interval=0.3, what=f"saved message {message_id} in chat {chat_id}")


# --------------------------------------------------------------------------- set-up in one call


def install_openrouter_function(
    api: Api,
    content: str,
    base_url: str,
    api_key: str = TEST_API_KEY,
    function_id: str = FUNCTION_ID,
    name: str = FUNCTION_NAME,
    extra_valves: dict | None = None,
) -> list[dict]:
    """Create/update + activate the Function, set API_KEY/BASE_URL, return ``GET /api/models``."""
    api.install_function(function_id, name, content, description="OpenRouter Responses API pipe")
    api.set_valves(function_id, {"API_KEY": api_key, "BASE_URL": base_url, **(extra_valves or {})})
    return api.models()


def main(argv: list[str] | None = None) -> int:
    """Tiny CLI for manual poking: ``python pytests/e2e/owui.py serve DATA_DIR [PORT]``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) >= 2 and argv[0] == "serve":
        server = OpenWebUI(Path(argv[1]), port=int(argv[2]) if len(argv) > 2 else None)
        server.start()
        print(f"Open WebUI on {server.base_url} (log {server.log_path}); Ctrl-C stops it", flush=True)
        try:
            while server.proc and server.proc.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
        return 0
    print(main.__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
