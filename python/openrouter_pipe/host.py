"""The Python end of the engine's host port: runs what only Python can do.

While an answer runs, the engine may ask for work that needs Open WebUI objects
(send an event through ``__event_emitter__``, ask the browser through ``__event_call__``,
run one of the chat's tools, read and keep files in Open WebUI's storage). Each request
arrives in order with the answer's lines (``ChatStream.next_batch``) and is run here as its own task, bounded by
``asyncio.wait_for``, so a slow call never holds up the stream. When the answer ends or is
cancelled, calls still running are cancelled; when it ends normally, tool calls the
engine gave up on get ``TOOL_SHUTDOWN_TIMEOUT_SECONDS`` to finish first.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from . import _native
from .files import OwuiFiles
from .files import Unavailable as StorageUnavailable
from .request_log import RequestLines
from .tools import ChatTools


Handler = Callable[[Any], Awaitable[Any]]


class Unavailable(Exception):
    """This session cannot do what was asked (no emitter in a task, no browser)."""


class HostSession:
    """Host calls of one answer. ``context`` holds what Open WebUI passed to ``pipe()``
    (``event_emitter``, ``event_call``, ``tools``, ``files``, ...), keyed without the
    double underscores."""

    def __init__(
        self,
        context: dict[str, Any] | None = None,
        tools: ChatTools | None = None,
        shutdown_timeout: float = 0.0,
        lines: RequestLines | None = None,
    ) -> None:
        context = context or {}
        self._emitter = context.get("event_emitter")
        self._event_call = context.get("event_call")
        self._tools = tools
        self._shutdown_timeout = max(0.0, float(shutdown_timeout or 0.0))
        # This session's lines go to its request's log (tag, level, archive).
        self._lines = lines or RequestLines()
        self._tasks: set[asyncio.Task] = set()
        files = OwuiFiles(context)
        self._handlers: dict[str, Handler] = {
            "emit": self._emit,
            "event_call": self._ask_browser,
            "tool": self._run_tool,
            "echo": _echo,
            "file_info": files.info,
            "file_chunk": files.chunk,
            "file_store": files.store,
            "file_limits": files.limits,
        }

    def dispatch(self, request: _native.HostRequest) -> None:
        """Starts running ``request``; returns at once."""
        task = asyncio.get_running_loop().create_task(self._run(request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def close(self) -> None:
        """Cancels the calls still running (the answer ended or was cancelled)."""
        for task in list(self._tasks):
            task.cancel()

    def finish(self) -> None:
        """The answer ended normally. Calls still running (tools the engine stopped
        waiting for) get the shutdown timeout to finish in the background, then are
        cancelled; the answer itself does not wait for them."""
        running = list(self._tasks)
        if not running or self._shutdown_timeout <= 0:
            self.close()
            return
        self._tasks = set()
        closer = asyncio.get_running_loop().create_task(_wind_down(running, self._shutdown_timeout, self._lines))
        _winding_down.add(closer)
        closer.add_done_callback(_winding_down.discard)

    async def _run(self, request: _native.HostRequest) -> None:
        handler = self._handlers.get(request.op)
        if handler is None:
            request.fail("unavailable", f"this host cannot run {request.op!r}")
            return
        try:
            args = json.loads(request.args)
            if request.has_payload and isinstance(args, dict):
                # Taken only by a handler that uses it (a stored file's base64).
                args["payload"] = request.take_payload
            result = await asyncio.wait_for(handler(args), timeout=request.timeout)
        except asyncio.TimeoutError:
            request.fail("timeout", f"{request.op} took longer than {request.timeout:g} s")
        except asyncio.CancelledError:
            request.fail("cancelled", "the answer ended")
            raise
        except (Unavailable, StorageUnavailable) as exc:
            request.fail("unavailable", str(exc))
        except Exception as exc:  # noqa: BLE001 - reported to the engine, never raised into Open WebUI
            self._lines.debug("Host call %s failed", request.op, exc_info=True)
            request.fail("failed", f"{type(exc).__name__}: {exc}")
        else:
            try:
                answer = json.dumps(result, default=str, ensure_ascii=False)
            except (TypeError, ValueError):
                answer = json.dumps(str(result))
            request.resolve(answer)

    async def _emit(self, event: Any) -> None:
        if self._emitter is None:
            raise Unavailable("no event emitter for this request")
        await self._emitter(event)

    async def _run_tool(self, call: Any) -> Any:
        if self._tools is None:
            raise Unavailable("no tools in this request")
        return await self._tools.run(call if isinstance(call, dict) else {})

    async def _ask_browser(self, event: Any) -> Any:
        if self._event_call is None:
            raise Unavailable("no browser session for this request")
        return await self._event_call(event)


_winding_down: set[asyncio.Task] = set()


async def _wind_down(running: list[asyncio.Task], timeout: float, lines: RequestLines) -> None:
    _done, pending = await asyncio.wait(running, timeout=timeout)
    if pending:
        lines.warning("Tool shutdown exceeded %.1fs; cancelling workers.", timeout)
        for task in pending:
            task.cancel()


async def _echo(value: Any) -> Any:
    return value
