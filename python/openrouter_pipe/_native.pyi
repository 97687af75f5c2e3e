"""Typed interface of the Rust engine (``openrouter_pipe._native``)."""

from collections.abc import Awaitable

__version__: str

def valve_specs() -> str:
    """Every valve declaration as a JSON array (name, type, choices, default, ...)."""

def sanitize_model_id(model_id: str) -> str:
    """``vendor/model`` -> ``vendor.model``, as model ids appear in Open WebUI."""

def drain_logs() -> list[tuple[str, str]]:
    """Log lines queued by the engine, oldest first, as ``(level, message)``."""

def list_models(
    valves_json: str,
) -> Awaitable[tuple[list[tuple[str, str, str | None, str, str | None]], str | None]]:
    """The models to expose as ``([(id, name, description, capabilities_json, icon_url)], error)``;
    serves the last good catalog."""

def warm_catalog(valves_json: str) -> None:
    """Starts fetching the catalog (and icons when synced) in the background if a key is
    set; returns at once."""

def start_chat(request_json: str) -> ChatStream:
    """Starts a streaming answer at once; the request is parsed on an engine thread and a
    malformed one is answered with an explanation, never an exception."""

def complete_chat(request_json: str) -> Awaitable[tuple[str, str, str | None, bool]]:
    """A complete answer as ``(text, events_json, usage_json, answered)``; ``answered`` is
    false when the text explains a failure instead of answering."""

def take_ready() -> list[int]:
    """Tokens of armed streams that have lines (or ended) since the last call."""

def import_artifact_rows(path: str, table: str, rows_json: str) -> int:
    """Copies reference-pipe artifact rows into ``table`` of the SQLite file at ``path``;
    returns how many were new (existing ids are left alone). Blocking."""

class Ready:
    """An already-finished awaitable."""

class ChatStream:
    """Async iterator of batches of SSE lines (``list[str]``) for Open WebUI."""

    def __aiter__(self) -> ChatStream: ...
    def __anext__(self) -> Awaitable[list[str]]: ...
    def next_batch(self) -> list[str] | None:
        """The lines queued now (``[]`` when none yet), or ``None`` once the answer ended."""
    def arm(self, fd: int, token: int) -> bool:
        """Asks for ``token`` to be reported by :func:`take_ready` (and a byte written to
        ``fd``) when lines arrive; ``False`` when there is something to read already."""
    def close(self) -> None:
        """Stops the answer and closes the upstream connection."""
    def aclose(self) -> Awaitable[None]: ...
