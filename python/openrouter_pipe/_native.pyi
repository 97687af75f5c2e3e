"""Typed interface of the Rust engine (``openrouter_pipe._native``)."""

from collections.abc import Awaitable
from typing import Any, final

__all__ = [
    "__version__",
    "valve_specs",
    "sanitize_model_id",
    "drain_logs",
    "close_for_exit",
    "request_log",
    "list_models",
    "configure_deployment",
    "warm_catalog",
    "start_chat",
    "take_ready",
    "probe_host",
    "import_artifact_rows",
    "ChatStream",
    "Ready",
    "HostRequest",
    "Completion",
    "ModelEntry",
]

__version__: str

def valve_specs() -> str:
    """Every valve declaration as a JSON array (name, type, choices, default, ...)."""

def sanitize_model_id(model_id: str) -> str:
    """``vendor/model`` -> ``vendor.model``, as model ids appear in Open WebUI."""

def close_for_exit() -> None:
    """Stops handing results to Python before the interpreter exits (registered with ``atexit``)."""

def request_log(request_id: str, level: str, module: str, lineno: int, message: str) -> bool:
    """Hands a Python line to the request under way with that id (tagged, filtered by its
    ``LOG_LEVEL``, archived with it); ``False`` when there is none."""

def drain_logs() -> list[tuple[str, str]]:
    """Log lines queued by the engine, oldest first, as ``(level, message)``."""

def list_models(valves_json: str) -> Awaitable[tuple[list[ModelEntry], str | None]]:
    """The models to expose, and the reason when there are none; serves the last good
    catalog during outages."""

def configure_deployment(deployment_json: str) -> bool:
    """Records the deployment's Redis and worker settings (read from the environment) and
    returns whether Redis is used; warnings go to the log queue."""

def warm_catalog(valves_json: str) -> None:
    """Starts fetching the catalog (and icons when synced) in the background if a key is
    set; returns at once."""

def start_chat(request_json: str, collect: bool = False, blobs: list[str] = ...) -> ChatStream:
    """Starts an answer at once; the request is parsed on an engine thread and a
    malformed one is answered with an explanation, never an exception. ``collect`` runs a
    complete answer (``stream: false``, tasks): the stream then carries only host calls,
    and :meth:`ChatStream.completion` holds the result once it ended. ``blobs`` are large
    strings lifted out of the JSON (``"\\x00orp-blob:<index>:<length>\\x00"`` stands for each)."""

def probe_host(plan_json: str, collect: bool = False) -> ChatStream:
    """Self-check of the host port: runs the host calls of ``plan_json`` (a JSON array of
    ``{"op", "args", "timeout"}``) through a session like an answer's; each outcome is one
    JSON line of answer text."""

def take_ready() -> list[int]:
    """Tokens of armed streams that have lines (or ended) since the last call."""

def import_artifact_rows(path: str, table: str, rows_json: str) -> int:
    """Copies reference-pipe artifact rows into ``table`` of the SQLite file at ``path``;
    returns how many were new (existing ids are left alone). Blocking."""

@final
class Ready:
    """An already-finished awaitable."""

    def __await__(self) -> Ready: ...
    def __iter__(self) -> Ready: ...
    def __next__(self) -> Any: ...
    def send(self, _value: Any) -> Any: ...

@final
class ModelEntry:
    """One model for Open WebUI's selector and model entry."""

    @property
    def id(self) -> str:
        """``vendor.model`` (Open WebUI prefixes the Function id)."""
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def capabilities_json(self) -> str:
        """Open WebUI's capability flags as JSON text."""
    @property
    def icon_url(self) -> str | None: ...
    @property
    def features_json(self) -> str:
        """What the pipe may send for the model (``function_calling``, ``web_search_tool``,
        ...) as JSON text; ``{}`` when the catalog no longer lists it."""

@final
class HostRequest:
    """A call from the engine for the Python host; answer it once."""

    @property
    def op(self) -> str:
        """``emit``, ``event_call`` or ``echo``."""
    @property
    def args(self) -> str:
        """The arguments as JSON text."""
    @property
    def has_payload(self) -> bool:
        """Whether a payload (a stored file's base64) travels beside the arguments."""
    def take_payload(self) -> bytes | None:
        """Takes the payload as ASCII bytes, once."""
    @property
    def timeout(self) -> float:
        """Seconds the host may take."""
    def resolve(self, result_json: str) -> bool:
        """Answers with a JSON document; ``False`` when nobody waits any more."""
    def fail(self, kind: str, message: str) -> bool:
        """Reports a failure (``timeout``, ``unavailable``, ``cancelled`` or ``failed``)."""

@final
class Completion:
    """The result of a complete answer or task."""

    @property
    def text(self) -> str: ...
    @property
    def usage_json(self) -> str | None: ...
    @property
    def answered(self) -> bool:
        """``False`` when ``text`` explains a failure instead of answering."""

@final
class ChatStream:
    """An answer in progress: batches of SSE lines (``list[str]``) and host calls, in order."""

    def __aiter__(self) -> ChatStream: ...
    def __anext__(self) -> Awaitable[list[str] | HostRequest]: ...
    def next_batch(self) -> list[str] | HostRequest | None:
        """The lines queued now (``[]`` when none yet), a host call to run, or ``None`` once
        the answer ended."""
    def completion(self) -> Completion | None:
        """A complete answer's result once the stream ended; ``None`` otherwise."""
    def arm(self, fd: int, token: int) -> bool:
        """Asks for ``token`` to be reported by :func:`take_ready` (and a byte written to
        ``fd``) when lines arrive; ``False`` when there is something to read already."""
    def close(self) -> None:
        """Stops the answer and closes the upstream connection."""
    def aclose(self) -> Awaitable[None]: ...
