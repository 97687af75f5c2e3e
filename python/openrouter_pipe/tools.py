"""The chat's tools, on the Python side of the host port.

Open WebUI hands ``pipe()`` its tools as ``__tools__`` (local Python tools, builtins such
as memory or knowledge search, MCP servers, each with a callable) and describes
browser-side tool servers in ``__metadata__["tool_servers"]``. The engine only ever sees
their names and specs (:meth:`ChatTools.describe`); when the model calls one, the engine
asks this module to run it (:meth:`ChatTools.run`) and gets the result as text. Results go
through Open WebUI's own result processing when it is importable, so embeds, files and
citations look as they do with Open WebUI's own tool loop.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
import uuid
from typing import Any

from .request_log import RequestLines

# Tools whose results Open WebUI turns into citations (its own list, used if importable).
_CITATION_TOOLS = ("fetch_url", "view_file", "view_knowledge_file", "query_knowledge_files", "query_chat_files")


def _loaded(module: str, name: str) -> Any:
    """An attribute of an Open WebUI module that is already imported, else ``None``.
    Importing Open WebUI from outside a running server can exit the process (its settings
    demand ``WEBUI_SECRET_KEY``), so nothing here imports it; inside Open WebUI these
    modules are always loaded."""
    return getattr(sys.modules.get(module), name, None)


class ToolFailed(Exception):
    """A tool could not be run; the message is for the model."""


def _spec_of(entry: dict[str, Any]) -> dict[str, Any] | None:
    spec = entry.get("spec")
    if isinstance(spec, dict) and isinstance(spec.get("name"), str) and spec["name"].strip():
        return spec
    return None


def _openapi_specs(server: dict[str, Any], lines: RequestLines) -> list[dict[str, Any]]:
    specs = server.get("specs")
    if isinstance(specs, list):
        return [s for s in specs if isinstance(s, dict)]
    openapi = server.get("openapi")
    if not isinstance(openapi, dict):
        return []
    convert_openapi_to_tool_payload = _loaded("open_webui.utils.tools", "convert_openapi_to_tool_payload")
    if convert_openapi_to_tool_payload is None:
        return []
    try:
        return [s for s in convert_openapi_to_tool_payload(openapi) if isinstance(s, dict)]
    except Exception:  # noqa: BLE001 - a malformed server is skipped, not fatal
        lines.debug("Tool server spec could not be converted", exc_info=True)
        return []


class ChatTools:
    """The tools of one chat request, by the name the model calls them. Its log lines go
    to that request's log (``lines``): tag, level and archive."""

    def __init__(self, context: dict[str, Any] | None = None, lines: RequestLines | None = None) -> None:
        context = context or {}
        self._lines = lines or RequestLines()
        self._event_call = context.get("event_call")
        self._emitter = context.get("event_emitter")
        self._request = context.get("request")
        metadata = context.get("metadata")
        self._metadata: dict[str, Any] = metadata if isinstance(metadata, dict) else {}
        user = context.get("user")
        self._user = user if isinstance(user, dict) else None
        self._entries: dict[str, dict[str, Any]] = {}
        self._add_registry(context.get("tools"))
        self._add_servers(self._metadata.get("tool_servers"))

    def _add_registry(self, tools: Any) -> None:
        if isinstance(tools, dict):
            items = [(name, entry) for name, entry in tools.items()]
        elif isinstance(tools, list):
            items = [(None, entry) for entry in tools]
        else:
            return
        for name, entry in items:
            if not isinstance(entry, dict):
                continue
            spec = _spec_of(entry)
            if spec is None:
                self._lines.debug("Tool %r without a usable spec skipped", name)
                continue
            self._entries[spec["name"]] = entry

    def _add_servers(self, servers: Any) -> None:
        if not isinstance(servers, list) or self._event_call is None:
            return
        for server in servers:
            if not isinstance(server, dict):
                continue
            payload = {k: v for k, v in server.items() if k != "specs"}
            for spec in _openapi_specs(server, self._lines):
                if isinstance(spec.get("name"), str) and spec["name"].strip():
                    self._entries[spec["name"]] = {"spec": spec, "direct": True, "server": payload, "type": "direct"}

    def _runnable(self, entry: dict[str, Any]) -> bool:
        if entry.get("direct"):
            return self._event_call is not None
        return callable(entry.get("callable"))

    def describe(self) -> list[dict[str, Any]]:
        """Name, spec, type and whether it can run here, for the engine's request."""
        return [
            {
                "name": name,
                "spec": _spec_of(entry),
                "kind": "direct" if entry.get("direct") else str(entry.get("type") or ""),
                "runnable": self._runnable(entry),
            }
            for name, entry in self._entries.items()
        ]

    async def run(self, args: dict[str, Any]) -> Any:
        """Runs one call (``{"name", "call_id", "arguments"}``) and returns its result as
        text. Raises :class:`ToolFailed` (or the tool's own exception) on failure."""
        name = args.get("name")
        entry = self._entries.get(name) if isinstance(name, str) else None
        if entry is None or not self._runnable(entry):
            raise ToolFailed(f"Tool '{name}' is not available in this chat.")
        params = self._params(entry, args.get("arguments"))
        if entry.get("direct"):
            result = await self._run_direct(name, entry, params)
        else:
            result = await _call(entry["callable"], params)
        text = await self._process(name, entry, result)
        await self._cite(name, entry, params, text)
        return text

    @staticmethod
    def _params(entry: dict[str, Any], arguments: Any) -> dict[str, Any]:
        arguments = arguments if isinstance(arguments, dict) else {}
        parameters = (_spec_of(entry) or {}).get("parameters")
        parameters = parameters if isinstance(parameters, dict) else {}
        required = set(parameters.get("required") or ())
        properties = parameters.get("properties")
        if entry.get("type") != "mcp" and isinstance(properties, dict):
            arguments = {k: v for k, v in arguments.items() if k in properties}
        # Strict schemas make optional parameters nullable; null means "not given", so
        # the tool's own default applies.
        return {k: v for k, v in arguments.items() if v is not None or k in required}

    async def _run_direct(self, name: str, entry: dict[str, Any], params: dict[str, Any]) -> Any:
        event = {
            "type": "execute:tool",
            "data": {
                "id": str(uuid.uuid4()),
                "name": name,
                "params": params,
                "server": entry.get("server") or {},
                "session_id": self._metadata.get("session_id"),
            },
        }
        try:
            answer = await self._event_call(event)
        except Exception as exc:  # the browser or its tool server failed
            await self._warn(f"Tool '{name}' failed: {exc}")
            raise ToolFailed(str(exc)) from exc
        if isinstance(answer, dict) and set(answer) == {"error"}:
            raise ToolFailed(str(answer["error"]))
        return answer

    async def _warn(self, text: str) -> None:
        """A warning toast for the user (the reference's notice for a failed direct tool)."""
        if self._emitter is None:
            return
        try:
            await self._emitter({"type": "notification", "data": {"type": "warning", "content": text}})
        except Exception:  # a closed chat: the model still gets the failure
            self._lines.debug("Could not show a tool failure notification", exc_info=True)

    async def _process(self, name: str, entry: dict[str, Any], result: Any) -> str:
        """Open WebUI's own result handling (embeds, files, MCP content), then text."""
        process_tool_result = _loaded("open_webui.utils.middleware", "process_tool_result")
        if process_tool_result is not None and self._request is not None:
            try:
                result, files, embeds = await process_tool_result(
                    self._request,
                    name,
                    result,
                    entry.get("type", ""),
                    bool(entry.get("direct")),
                    self._metadata,
                    self._user_model(),
                )
                await self._emit_extras(files, embeds)
            except Exception:  # noqa: BLE001 - fall back to the plain text of the result
                self._lines.debug("Open WebUI could not process the result of %s", name, exc_info=True)
        return _as_text(result)

    def _user_model(self) -> Any:
        if self._user is None:
            return None
        user_model = _loaded("open_webui.models.users", "UserModel")
        if user_model is None:
            return None
        try:
            return user_model(**{k: v for k, v in self._user.items() if k != "valves"})
        except Exception:  # noqa: BLE001 - only used for file storage of tool images
            return None

    async def _emit_extras(self, files: Any, embeds: Any) -> None:
        if self._emitter is None:
            return
        if files:
            await self._emitter({"type": "files", "data": {"files": files}})
        if embeds:
            await self._emitter({"type": "embeds", "data": {"embeds": embeds}})

    async def _cite(self, name: str, entry: dict[str, Any], params: dict[str, Any], text: str) -> None:
        if self._emitter is None or not text:
            return
        cite = _loaded("open_webui.utils.middleware", "get_citation_source_from_tool_result")
        names = _loaded("open_webui.utils.middleware", "CITATION_TOOL_NAMES") or _CITATION_TOOLS
        if cite is None or name not in names:
            return
        try:
            sources = cite(tool_name=name, tool_params=params, tool_result=text, tool_id=entry.get("tool_id", ""))
        except Exception:  # noqa: BLE001 - citations are a courtesy
            self._lines.debug("No citation for %s", name, exc_info=True)
            return
        for source in sources or ():
            await self._emitter({"type": "source", "data": source})


async def _call(function: Any, params: dict[str, Any]) -> Any:
    """Awaits coroutine functions; runs plain functions in a thread, never on the loop."""
    if inspect.iscoroutinefunction(function):
        result = await function(**params)
    else:
        result = await asyncio.to_thread(function, **params)
    if inspect.isawaitable(result):
        result = await result
    return result


def _as_text(result: Any) -> str:
    if result is None:
        return ""
    if isinstance(result, str):
        return result
    if isinstance(result, bytes):
        return result.decode("utf-8", "replace")
    try:
        return json.dumps(result, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(result)
