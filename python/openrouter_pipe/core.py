"""The Python side of a pipe call: gathers what Open WebUI passes, hands it to the
Rust engine, and relays the answer. Everything heavy happens in Rust."""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import re
import sys
import uuid
from pathlib import Path
from collections.abc import AsyncIterator
from typing import Any

from . import _native, relay, status_css
from .files import describe_attached
from .host import HostSession
from .request_log import RequestLines
from .tools import ChatTools
from .model_sync import CatalogEntry, SyncScheduler
from .native_function_calling import NativeFunctionCalling

log = logging.getLogger("openrouter_pipe")

# The engine's threads must not hand a result to an interpreter that is being torn down
# (that aborts the worker); atexit runs before the teardown begins.
atexit.register(_native.close_for_exit)

# Open WebUI 0.12 executes a Function as module `function_<id>_<32 hex>`; 0.6 used
# `function_<id>`. The suffix must go, or the id no longer matches the model ids.
_MODULE_NAME = re.compile(r"^function_(?P<id>.+?)(?:_[0-9a-f]{32})?$")

# Bodies larger than this are serialised off the event loop.
_INLINE_JSON_LIMIT = 256 * 1024

# The longest a chat with tools waits for its model entry check (§6.2) before it starts.
_FUNCTION_CALLING_CHECK_SECONDS = 3.0

_LOG_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}


def pipe_id_from_module(module_name: str, default: str = "openrouter") -> str:
    """The Function id Open WebUI loaded us under, from the module name."""
    match = _MODULE_NAME.match(module_name or "")
    return match.group("id") if match else default


def flush_logs() -> None:
    """Moves the engine's queued log lines into Python's ``logging``.

    The engine already filtered each line by its request's ``LOG_LEVEL`` (a user's own
    level, else the admin's). A line below what this logger shows (a user asked for DEBUG
    while Open WebUI runs at INFO) is logged at the logger's own level with its level name
    in front, so it still reaches Open WebUI's log."""
    shown = log.getEffectiveLevel()
    for level, message in _native.drain_logs():
        levelno = _LOG_LEVELS.get(level, logging.INFO)
        if levelno >= shown:
            log.log(levelno, message)
        else:
            log.log(shown, "[%s] %s", level, message)


def _dump(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if isinstance(value, dict):
        return dict(value)
    return None


def _set_valves(valves: Any) -> dict[str, Any]:
    """The admin valves for the engine: only those set (what Open WebUI stored), since the
    engine applies the same declared defaults to the rest. Dumping all of them (long
    template texts included) and parsing them back was about a fifth of a short chat's
    CPU (callgrind)."""
    if hasattr(valves, "model_dump"):
        return valves.model_dump(exclude_unset=True)
    return _dump(valves) or {}


def _valves_json(valves: Any) -> str:
    return json.dumps(_set_valves(valves), default=str, ensure_ascii=False)


def _approx_size(body: dict[str, Any]) -> int:
    size = 0
    for message in body.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            size += len(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict):
                    for value in part.values():
                        if isinstance(value, str):
                            size += len(value)
                        elif isinstance(value, dict):
                            size += sum(len(v) for v in value.values() if isinstance(v, str))
    return size


# Strings at least this long travel beside the request JSON (``start_chat(blobs=…)``).
_BLOB_MIN_CHARS = 1 << 20


def _lift_blobs(value: Any, blobs: list[str]) -> Any:
    """``value`` with every string of ``_BLOB_MIN_CHARS`` or more replaced by a placeholder
    the engine puts it back for (containers on the way are copied, nothing else is):
    ``json.dumps`` would otherwise copy a 50 MB attachment twice."""
    if isinstance(value, str):
        if len(value) < _BLOB_MIN_CHARS:
            return value
        blobs.append(value)
        return f"\x00orp-blob:{len(blobs) - 1}:{len(value)}\x00"
    if isinstance(value, dict):
        lifted = {k: _lift_blobs(v, blobs) for k, v in value.items()}
        return lifted if any(lifted[k] is not value[k] for k in value) else value
    if isinstance(value, list):
        items = [_lift_blobs(v, blobs) for v in value]
        return items if any(a is not b for a, b in zip(items, value)) else value
    return value


async def _to_json(document: dict[str, Any], body: dict[str, Any]) -> tuple[str, list[str]]:
    """The request JSON and the large strings lifted out of its body."""

    def dump() -> tuple[str, list[str]]:
        blobs: list[str] = []
        lifted = dict(document, body=_lift_blobs(body, blobs)) if large else document
        return json.dumps(lifted, default=str, ensure_ascii=False), blobs

    large = _approx_size(body) > _INLINE_JSON_LIMIT
    if large:
        return await asyncio.to_thread(dump)
    return dump()


def default_artifact_db_path() -> str | None:
    """``<Open WebUI DATA_DIR>/openrouter_pipe/artifacts.db``: the pipe's own SQLite file,
    never Open WebUI's database. ``None`` outside Open WebUI when no ``DATA_DIR`` is set."""
    owui_env = sys.modules.get("open_webui.env")
    data_dir = getattr(owui_env, "DATA_DIR", None) or os.environ.get("DATA_DIR")
    if not data_dir:
        return None
    return str(Path(data_dir) / "openrouter_pipe" / "artifacts.db")


def owui_database_settings() -> dict[str, str | None]:
    """Open WebUI's database settings for the engine, which stores artifacts in its
    PostgreSQL database when it runs on one. ``DATABASE_URL`` comes from ``open_webui.env``
    when Open WebUI is loaded (it applies its defaults and rewrites there), else from the
    environment; the ``DATABASE_*`` parts from the environment, as Open WebUI reads them."""
    owui_env = sys.modules.get("open_webui.env")
    url = getattr(owui_env, "DATABASE_URL", None) or os.environ.get("DATABASE_URL")
    names = ("type", "user", "password", "host", "port", "name")
    parts = {key: os.environ.get(f"DATABASE_{key.upper()}") for key in names}
    return {"url": url if isinstance(url, str) else None, **parts}


def _env_value(owui_env: Any, name: str) -> str | None:
    """Open WebUI's own reading of a setting (it applies defaults, such as
    ``WEBSOCKET_REDIS_URL`` falling back to ``REDIS_URL``), else the environment."""
    value = getattr(owui_env, name, None) if owui_env is not None else None
    if value is None:
        value = os.environ.get(name)
    if isinstance(value, bool):
        return "true" if value else ""
    return str(value).strip() if value not in (None, "") else None


def deployment_from_environment() -> dict[str, Any]:
    """What the engine needs to decide whether Redis is used (§9.1): the worker count and
    Open WebUI's Redis settings. Rust decides; this only reads."""
    owui_env = sys.modules.get("open_webui.env")
    try:
        workers = int(_env_value(owui_env, "UVICORN_WORKERS") or "1")
    except ValueError:
        workers = 1
    cluster = (_env_value(owui_env, "REDIS_CLUSTER") or "").lower() in ("1", "true", "yes")
    return {
        "redis_url": _env_value(owui_env, "REDIS_URL"),
        "workers": max(workers, 1),
        "websocket_manager": _env_value(owui_env, "WEBSOCKET_MANAGER"),
        "websocket_redis_url": _env_value(owui_env, "WEBSOCKET_REDIS_URL"),
        "sentinel_hosts": _env_value(owui_env, "REDIS_SENTINEL_HOSTS"),
        "cluster": cluster,
    }


def configure_deployment() -> bool:
    """Tells the engine about the deployment once per process; never raises."""
    try:
        return _native.configure_deployment(json.dumps(deployment_from_environment()))
    except Exception:  # noqa: BLE001 - Redis is an optimisation; the pipe works without it
        log.warning("Redis settings could not be read; Redis is not used", exc_info=True)
        return False
    finally:
        flush_logs()


def _webui_origins(request: Any) -> list[str]:
    """Open WebUI's own addresses: the base URL this request came in on and the
    ``WEBUI_URL`` the admin configured (full file links there are Open WebUI's files)."""
    origins = []
    base = getattr(request, "base_url", None)
    if base is not None:
        origins.append(str(base))
    configured = os.environ.get("WEBUI_URL", "").strip()
    if configured:
        origins.append(configured)
    return origins


def _pipe_id_from_model(body: dict[str, Any], fallback: str) -> str:
    model = body.get("model")
    if isinstance(model, str) and "." in model and "/" not in model:
        return model.split(".", 1)[0]
    return fallback


async def _collect(request_json: str, blobs: list[str], host: HostSession) -> _native.Completion | None:
    """Runs a complete answer or task through its host session; logs are flushed after."""
    try:
        return await relay.complete(_native.start_chat(request_json, collect=True, blobs=blobs), host)
    finally:
        flush_logs()


class PipeCore:
    """State a Function instance keeps: its id. Valves arrive with every call."""

    def __init__(self, module_name: str) -> None:
        self.pipe_id = pipe_id_from_module(module_name)
        self.artifact_db_path = default_artifact_db_path()
        self.owui_database = owui_database_settings()


        self.uses_redis = configure_deployment()
        self._sync = SyncScheduler()
        self._warmed: tuple[Any, Any] | None = None
        self._function_calling = NativeFunctionCalling()
        # Catalog features by listed id (`openai.gpt-4o`), from the last model list.
        self._features: dict[str, dict[str, Any]] = {}

    def warm(self, valves: Any) -> None:
        """Starts fetching the catalog in the background when valves with a new key or base
        URL arrive (Open WebUI assigns valves before every call; repeats cost nothing)."""
        target = (getattr(valves, "API_KEY", None), getattr(valves, "BASE_URL", None))
        if target == self._warmed:
            return
        self._warmed = target
        try:
            _native.warm_catalog(_valves_json(valves))
        except Exception:  # noqa: BLE001 - warming is an optimisation only
            log.debug("OpenRouter catalog warm-up could not start", exc_info=True)

    async def pipes(self, valves: Any) -> list[dict[str, str]]:
        """The model list for Open WebUI's selector; ``[]`` (and a log line) when the
        catalog cannot be had and nothing is cached."""
        try:
            models, error = await _native.list_models(_valves_json(valves))
        except Exception:  # noqa: BLE001 - a model list must never take Open WebUI down
            log.exception("OpenRouter model list failed")
            models, error = [], None
        finally:
            flush_logs()
        if error:
            log.warning("OpenRouter models unavailable: %s", error)
        entries = self._remember(models)
        self._sync.maybe_schedule(self.pipe_id, entries, valves)
        return [{"id": entry.id, "name": entry.name} for entry in entries]

    def _remember(self, models: list[_native.ModelEntry]) -> list[CatalogEntry]:
        entries = [
            CatalogEntry(
                m.id,
                m.name,
                m.description,
                json.loads(m.capabilities_json),
                m.icon_url,
                json.loads(m.features_json),
            )
            for m in models
        ]
        if entries:
            self._features = {entry.id: entry.features for entry in entries}
        return entries

    async def _model_features(self, valves: Any, listed_id: str) -> dict[str, Any]:
        """The catalog features of a listed model; asks the engine's (cached) catalog when
        this process has not listed models yet."""
        if listed_id not in self._features:
            try:
                models, _ = await _native.list_models(_valves_json(valves))
                self._remember(models)
            except Exception:  # noqa: BLE001 - the check is best effort
                log.debug("OpenRouter catalog unavailable for the function calling check", exc_info=True)
            finally:
                flush_logs()
        return self._features.get(listed_id) or {}

    async def _ensure_native_tools(
        self, valves: Any, body: dict[str, Any], metadata: dict[str, Any], context: dict[str, Any], pipe_id: str
    ) -> None:
        """§6.2: a chat with tools on a model that can call functions needs Open WebUI's
        native function calling; checked once per model id and process."""
        model = body.get("model")
        if not context.get("tools") or not isinstance(model, str):
            return
        selected = metadata.get("model") if isinstance(metadata.get("model"), dict) else {}
        owui_id = selected.get("id") if isinstance(selected.get("id"), str) else model
        if self._function_calling.known_native(owui_id):
            return
        listed_id = model.removeprefix(f"{pipe_id}.")
        try:
            features = await self._model_features(valves, listed_id)
            if not features.get("function_calling"):
                return
            await asyncio.wait_for(
                self._function_calling.ensure(owui_id, metadata, context.get("event_emitter")),
                _FUNCTION_CALLING_CHECK_SECONDS,
            )
        except Exception:  # noqa: BLE001 - never in the way of the answer
            log.debug("Function calling check for %s did not finish", owui_id, exc_info=True)

    async def pipe(
        self,
        valves: Any,
        body: Any,
        context: dict[str, Any] | None = None,
        **legacy: Any,
    ) -> str | StreamingAnswer:
        """A string (non-streaming answers and tasks) or a streaming answer for
        :meth:`lines`. ``context`` holds every argument Open WebUI passed to ``pipe()``,
        keyed without the double underscores (``user``, ``metadata``, ``event_emitter``,
        ``event_call``, ``tools``, ``files``, ``task``, ...). Function files generated by
        earlier versions pass ``user=``, ``metadata=``, ``event_emitter=``, ``task=``."""
        context = {**legacy, **(context or {})}
        body = body if isinstance(body, dict) else {}
        user = context.get("user") if isinstance(context.get("user"), dict) else {}
        metadata = context.get("metadata") if isinstance(context.get("metadata"), dict) else {}
        task = context.get("task")
        task = task if isinstance(task, str) else (str(task) if task else None)
        pipe_id = _pipe_id_from_model(body, self.pipe_id)
        request = {
            "body": body,
            "system_valves": _set_valves(valves),
            "user_valves": _dump(user.get("valves")),
            "pipe_id": pipe_id,
            "user_id": user.get("id") or metadata.get("user_id"),
            "user_email": user.get("email") if isinstance(user.get("email"), str) else None,
            "user_name": user.get("name") if isinstance(user.get("name"), str) else None,
            "chat_id": context.get("chat_id") or metadata.get("chat_id"),
            "message_id": context.get("message_id") or metadata.get("message_id"),
            "session_id": context.get("session_id") or metadata.get("session_id"),
            "request_id": uuid.uuid4().hex[:20].upper(),
            "task": task,
            "features": metadata.get("features") if isinstance(metadata.get("features"), dict) else {},
            "tools": [],
            "files": [] if task else describe_attached(context.get("files")),
            "webui_origins": _webui_origins(context.get("request")),
            "artifact_db_path": self.artifact_db_path,
            "owui_database": self.owui_database,
        }
        lines = RequestLines(request)
        tools = None if task else ChatTools(context, lines)
        if tools is not None:
            request["tools"] = tools.describe()
        try:
            request_json, blobs = await _to_json(request, body)
        except (TypeError, ValueError) as exc:
            lines.warning("Unreadable chat request: %s", exc)
            return "### ⚠️ Unreadable request\n\nThis chat request could not be read. Please retry."
        host = HostSession(context, tools, getattr(valves, "TOOL_SHUTDOWN_TIMEOUT_SECONDS", 0.0), lines=lines)
        if task:
            return await self._task(request_json, blobs, task, host, lines)
        await self._ensure_native_tools(valves, body, metadata, context, pipe_id)
        status_css.send(valves, context, request["user_id"])
        if not body.get("stream"):
            return await self._complete(request_json, blobs, host)
        return StreamingAnswer(_native.start_chat(request_json, blobs=blobs), host)

    async def _task(
        self, request_json: str, blobs: list[str], task: str, host: HostSession, lines: RequestLines
    ) -> str:
        """Title, tags, follow-ups…: the model's text, or "" so Open WebUI falls back to
        its default instead of parsing an error card as a title."""
        completion = await _collect(request_json, blobs, host)
        if completion is None or not completion.answered:
            lines.warning("OpenRouter could not answer the %s task; Open WebUI will use its default", task)
            return ""
        return completion.text

    async def _complete(self, request_json: str, blobs: list[str], host: HostSession) -> str:
        """A ``stream: false`` answer; its statuses and sources reach ``__event_emitter__``
        while it runs (through the host session)."""
        completion = await _collect(request_json, blobs, host)
        return completion.text if completion is not None else ""

    @staticmethod
    async def lines(answer: StreamingAnswer | _native.ChatStream) -> AsyncIterator[str]:
        """The answer's SSE lines; the engine's log lines are flushed at the end."""
        if isinstance(answer, StreamingAnswer):
            stream, host = answer.stream, answer.host
        else:
            stream, host = answer, None
        try:
            async for line in relay.lines(stream, host):
                yield line
        finally:
            flush_logs()

    @staticmethod
    def stream_failed(exc: BaseException) -> str:
        """The line shown when relaying a stream fails in Python (never raised)."""
        log.error("OpenRouter stream relay failed: %s", exc)
        text = "\n\n### ⚠️ The answer was interrupted\n\nPlease retry."
        return "data: " + json.dumps({"choices": [{"index": 0, "delta": {"content": text}}]})


class StreamingAnswer:
    """A streamed answer and the host session that runs its calls."""

    __slots__ = ("stream", "host")

    def __init__(self, stream: _native.ChatStream, host: HostSession) -> None:
        self.stream = stream
        self.host = host
