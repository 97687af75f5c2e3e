"""The Python layer's lines about one request (issue #14).

While the request runs, a line is handed to the engine: it gets the same
``[request=… user=… chat=… message=… error=…]`` tag as the engine's lines, that
request's ``LOG_LEVEL`` (a user's own level included), and a place in its encrypted
archive. Before the request starts or after it ended, the line is logged here with the
tag this layer knows."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from typing import Any

from . import _native

log = logging.getLogger("openrouter_pipe")


def request_tag(request: dict[str, Any]) -> str:
    """``[request=… user=… chat=… message=…]``: the tag the engine puts on the same
    request's lines, so an operator finds the Python layer's lines beside them."""

    def part(key: str) -> str:
        value = request.get(key)
        text = str(value).strip() if value else ""
        return re.sub(r"\s+", "_", text)[:80] or "-"

    return "[request={} user={} chat={} message={}]".format(
        part("request_id"), part("user_id"), part("chat_id"), part("message_id")
    )


class RequestLines:
    """Logs about one request; ``RequestLines()`` (no request) logs plainly."""

    def __init__(self, request: dict[str, Any] | None = None) -> None:
        request = request or {}
        self.request_id = str(request.get("request_id") or "")
        self.tag = request_tag(request) if request else ""

    def log(self, level: int, message: str, *args: Any, exc_info: bool = False) -> None:
        self._log(level, message, args, exc_info)

    def debug(self, message: str, *args: Any, exc_info: bool = False) -> None:
        self._log(logging.DEBUG, message, args, exc_info)

    def info(self, message: str, *args: Any, exc_info: bool = False) -> None:
        self._log(logging.INFO, message, args, exc_info)

    def warning(self, message: str, *args: Any, exc_info: bool = False) -> None:
        self._log(logging.WARNING, message, args, exc_info)

    def error(self, message: str, *args: Any, exc_info: bool = False) -> None:
        self._log(logging.ERROR, message, args, exc_info)

    def _log(self, level: int, message: str, args: tuple[Any, ...], exc_info: bool) -> None:
        # Without a request under way only this logger decides; with one, the engine
        # applies that request's level (which may be a user's DEBUG) and may archive it.
        if not self.request_id and not log.isEnabledFor(level):
            return
        text = message % args if args else message
        if exc_info and sys.exc_info()[0] is not None:
            text = f"{text}\n{traceback.format_exc().rstrip()}"
        if self.request_id:
            caller = sys._getframe(2)
            try:
                taken = _native.request_log(
                    self.request_id,
                    logging.getLevelName(level),
                    str(caller.f_globals.get("__name__", "")),
                    caller.f_lineno,
                    text,
                )
            except Exception:  # noqa: BLE001 - a log line never breaks a request
                taken = False
            if taken:
                return
            if not log.isEnabledFor(level):
                return
        log.log(level, f"{self.tag} {text}" if self.tag else text)
