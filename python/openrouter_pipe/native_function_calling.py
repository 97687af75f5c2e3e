"""Makes sure Open WebUI hands this pipe's tools over natively.

Open WebUI passes tools to a pipe as OpenAI tool specs (and runs the calls the pipe
streams) only when the model's ``params.function_calling`` is ``native``; with ``legacy``
it runs its own prompt-based tool step instead. When a chat with tools reaches a model
that can call functions and its Open WebUI model entry says otherwise, the entry is
switched to ``native`` (every other field kept) and the user is told to re-run, as the
reference pipe does. Once a model is known to be native, later requests cost a set lookup.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("openrouter_pipe")

ENABLED_NOTICE = "Enabling native function calling for model: {model_id}. Please re-run your query."
VERIFY_FAILED = "Unable to verify function calling for {model_id}. Please ensure it is set to native."
PERSIST_FAILED = "Unable to persist function calling setting for {model_id}. Please update it manually."

Emitter = Callable[[dict[str, Any]], Awaitable[Any]]


def _owui_models() -> Any | None:
    # Only inside a running Open WebUI (importing it elsewhere starts its config checks).
    return sys.modules.get("open_webui.models.models")


def needs_native(entry_value: Any, effective: Any) -> bool:
    """Whether the model entry must be switched. An entry without the setting is fine
    when Open WebUI already runs this request natively (0.12's default)."""
    if entry_value == "native":
        return False
    return not (entry_value is None and effective == "native")


async def _notify(emitter: Emitter | None, level: str, text: str) -> None:
    if emitter is None:
        return
    try:
        await emitter({"type": "notification", "data": {"type": level, "content": text}})
    except Exception:  # noqa: BLE001 - a notice must never break the chat
        log.debug("Could not send a notification", exc_info=True)


class NativeFunctionCalling:
    """Per process: the Open WebUI model ids already known to call functions natively."""

    def __init__(self) -> None:
        self._native: set[str] = set()

    def known_native(self, model_id: str) -> bool:
        return model_id in self._native

    async def ensure(self, model_id: str, metadata: dict[str, Any], emitter: Emitter | None) -> None:
        """Checks (and if needed switches) ``model_id``'s entry; never raises."""
        if not model_id or model_id in self._native:
            return
        owui = _owui_models()
        if owui is None:
            return
        params = metadata.get("params") if isinstance(metadata.get("params"), dict) else {}
        effective = params.get("function_calling")
        try:
            entry = await owui.Models.get_model_by_id(model_id)
        except Exception as exc:  # noqa: BLE001
            log.warning("Could not read the model entry %s: %s", model_id, exc)
            await _notify(emitter, "warning", VERIFY_FAILED.format(model_id=model_id))
            return
        if entry is None:
            if effective in (None, "native"):
                # No entry: Open WebUI's default applies, and it is native.
                self._native.add(model_id)
            else:
                await _notify(emitter, "warning", VERIFY_FAILED.format(model_id=model_id))
            return
        current = entry.params.model_dump() if entry.params is not None else {}
        if not needs_native(current.get("function_calling"), effective):
            self._native.add(model_id)
            return
        try:
            form = owui.ModelForm(
                id=model_id,
                base_model_id=entry.base_model_id,
                name=entry.name,
                meta=entry.meta,
                params=owui.ModelParams(**{**current, "function_calling": "native"}),
            )
            if await owui.Models.update_model_by_id(model_id, form) is None:
                raise LookupError("the model entry disappeared")
        except Exception as exc:  # noqa: BLE001
            log.warning("Could not switch %s to native function calling: %s", model_id, exc)
            await _notify(emitter, "warning", PERSIST_FAILED.format(model_id=model_id))
            return
        self._native.add(model_id)
        log.info("Switched the Open WebUI model %s to native function calling", model_id)
        await _notify(emitter, "info", ENABLED_NOTICE.format(model_id=model_id))
