"""The optional style fix for Open WebUI's status line (``ENABLE_STATUS_CSS_PATCH``).

Open WebUI 0.12.4 shows each status in one clamped line (``.status-description``, a
``line-clamp-1`` span), so a long status (a reasoning summary, the final usage line) is cut
off. As the reference pipe does, when the valve is on and the chat runs in a browser
(``__event_call__``), the pipe sends one small script through Open WebUI's ``execute``
event that adds a stylesheet showing statuses in full, once per page (the same element id
as the reference's, so the two never add it twice). It runs in the background: the answer
never waits for the browser, and a browser that does not answer costs nothing but a debug
line.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

STYLE_ID = "owui-status-unclamp"
# How long the browser may take to run it before the pipe stops waiting (nothing else waits).
TIMEOUT_SECONDS = 10.0

SCRIPT = f"""
if (!document.getElementById("{STYLE_ID}")) {{
  const style = document.createElement("style");
  style.id = "{STYLE_ID}";
  style.textContent = `
    .status-description .line-clamp-1,
    .status-description.line-clamp-1 {{
      display: block;
      white-space: pre-wrap;
      overflow: visible;
      -webkit-line-clamp: unset;
    }}
    .status-description .line-clamp-1::first-line {{ font-weight: 500; }}
  `;
  document.head.appendChild(style);
}}
return true;
"""

_running: set[asyncio.Task] = set()


def send(valves: Any, context: dict[str, Any], user_id: str | None) -> asyncio.Task | None:
    """Starts sending the script when the valve is on and the chat has a browser; returns
    the background task (tests wait for it), or ``None`` when nothing is sent."""
    if not getattr(valves, "ENABLE_STATUS_CSS_PATCH", True):
        return None
    event_call = context.get("event_call")
    if not callable(event_call):
        return None
    event = {"type": "execute", "user_id": user_id or "anonymous", "data": {"code": SCRIPT}}

    async def run() -> None:
        try:
            await asyncio.wait_for(event_call(event), TIMEOUT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - a cosmetic fix never fails a chat
            log.debug("The status style fix was not applied: %r", exc)

    task = asyncio.ensure_future(run())
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task
