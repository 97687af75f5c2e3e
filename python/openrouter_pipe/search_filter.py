"""The "OpenRouter Search" companion filter: its source, and installing it in Open WebUI.

Open WebUI shows a toggleable filter as a switch in the chat input. When a user turns this
one on, its inlet switches Open WebUI's own web search off for the request and sets
``__metadata__["features"]["openrouter_web_search"]`` (and the same flag in the body's
``features``, from which Open WebUI 0.12 rebuilds the pipe's metadata features), which makes
the pipe send OpenRouter's ``web`` plugin. So each chat uses one web search, never both. The pipe
installs and updates the filter itself (``AUTO_INSTALL_ORS_FILTER``) through Open WebUI's
own ``Functions`` data layer; the model sync then attaches it to models that support
OpenRouter's web search. The marker and the ids match the reference pipe's filter, so a
copy that pipe installed is found and updated instead of duplicated.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

log = logging.getLogger("openrouter_pipe")

FILTER_MARKER = "openrouter_pipe:ors_filter:v1"
FILTER_FEATURE_FLAG = "openrouter_web_search"
PREFERRED_FILTER_ID = "openrouter_search"
FILTER_NAME = "OpenRouter Search"
# How many numbered ids (`openrouter_search_1` ...) are tried when the plain one is taken.
MAX_ID_SUFFIX = 50

FILTER_META: dict[str, Any] = {
    "description": (
        "Enable OpenRouter native web search for this request. When OpenRouter Search is "
        "enabled, OWUI Web Search is disabled to avoid double-search."
    ),
    "toggle": True,
    "manifest": {"title": FILTER_NAME, "id": PREFERRED_FILTER_ID, "version": "0.1.0", "license": "MIT"},
}

# A globe, shown on the toggle in the chat input.
_ICON = (
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' "
    "fill='none' stroke='currentColor' stroke-width='1.8'><circle cx='12' cy='12' r='9'/>"
    "<path d='M3 12h18M12 3c2.5 2.7 3.8 5.7 3.8 9s-1.3 6.3-3.8 9c-2.5-2.7-3.8-5.7-3.8-9s1.3-6.3 3.8-9z'/></svg>"
)

FILTER_SOURCE = f'''"""
title: {FILTER_NAME}
id: {PREFERRED_FILTER_ID}
version: 0.1.0
license: MIT
description: Use OpenRouter's web search for this chat instead of Open WebUI's own.
"""
# Installed and kept up to date by the openrouter-pipe Function (AUTO_INSTALL_ORS_FILTER);
# edits here are replaced on its next catalog refresh unless that valve is off.

OWUI_OPENROUTER_PIPE_MARKER = "{FILTER_MARKER}"
_FEATURE_FLAG = "{FILTER_FEATURE_FLAG}"


class Filter:
    # Open WebUI runs a toggleable filter only in chats where the user switched it on.
    toggle = True
    icon = "{_ICON}"

    def inlet(self, body: dict, __metadata__: dict = None) -> dict:
        if not isinstance(__metadata__, dict):
            return body
        features = body.get("features")
        if not isinstance(features, dict):
            features = {{}}
            body["features"] = features
        # One search per request: OpenRouter's, so Open WebUI's own is switched off.
        features["web_search"] = False
        pipe_features = __metadata__.get("features")
        if not isinstance(pipe_features, dict) or pipe_features is features:
            # Open WebUI may hand over the body's own dict: the pipe gets a copy of its own.
            pipe_features = dict(pipe_features) if isinstance(pipe_features, dict) else {{}}
            __metadata__["features"] = pipe_features
        pipe_features[_FEATURE_FLAG] = True
        # Open WebUI 0.9+ rebuilds the pipe's metadata features from the body's after the
        # inlet filters ran, so the flag travels there too (Open WebUI ignores the name).
        features[_FEATURE_FLAG] = True
        return body
'''


def _owui_functions() -> Any | None:
    """Open WebUI's function data layer, only when running inside Open WebUI (importing it
    elsewhere starts its configuration checks)."""
    return sys.modules.get("open_webui.models.functions")


def is_search_filter(content: str | None) -> bool:
    """Whether a Function's source is (a version of) this filter."""
    return bool(content) and FILTER_MARKER in content


def _looks_like_search_filter(content: str | None) -> bool:
    # An older copy without the marker still sets the same flag.
    return bool(content) and FILTER_FEATURE_FLAG in content and "class Filter" in content


def pick_installed(functions: list[Any]) -> Any | None:
    """The installed copy to use: marked copies first, then look-alikes; the newest wins."""
    marked = [f for f in functions if is_search_filter(getattr(f, "content", None))]
    candidates = marked or [f for f in functions if _looks_like_search_filter(getattr(f, "content", None))]
    if not candidates:
        return None
    if len(candidates) > 1:
        log.warning(
            "Found %d OpenRouter Search filters (%s); using the newest",
            len(candidates),
            ", ".join(f.id for f in candidates),
        )
    return max(candidates, key=lambda f: getattr(f, "updated_at", 0) or 0)


def free_filter_id(taken: set[str]) -> str | None:
    """``openrouter_search``, else ``openrouter_search_1`` ... ``_50``; ``None`` when all are taken."""
    for suffix in range(MAX_ID_SUFFIX + 1):
        candidate = PREFERRED_FILTER_ID if suffix == 0 else f"{PREFERRED_FILTER_ID}_{suffix}"
        if candidate not in taken:
            return candidate
    return None


def _meta_dict(function: Any) -> dict[str, Any]:
    meta = getattr(function, "meta", None)
    if hasattr(meta, "model_dump"):
        return meta.model_dump()
    return dict(meta) if isinstance(meta, dict) else {}


def pending_updates(function: Any) -> dict[str, Any]:
    """What differs between an installed copy and this version (content, name, meta, type).

    Whether it is active or global is the admin's choice and never rewritten.
    """
    updates: dict[str, Any] = {}
    if getattr(function, "content", None) != FILTER_SOURCE:
        updates["content"] = FILTER_SOURCE
    if getattr(function, "name", None) != FILTER_NAME:
        updates["name"] = FILTER_NAME
    meta = _meta_dict(function)
    if any(meta.get(key) != value for key, value in FILTER_META.items()):
        updates["meta"] = {**meta, **FILTER_META}
    if getattr(function, "type", "filter") != "filter":
        updates["type"] = "filter"
    return updates


async def ensure_search_filter(valves: Any) -> str | None:
    """The id of the installed filter, installing or updating it when
    ``AUTO_INSTALL_ORS_FILTER`` is on; ``None`` when there is none (or outside Open WebUI).

    Never raises: a failure is logged and the chat goes on without the toggle.
    """
    owui = _owui_functions()
    if owui is None:
        return None
    install = bool(getattr(valves, "AUTO_INSTALL_ORS_FILTER", True))
    try:
        Functions = owui.Functions
        installed = pick_installed(await Functions.get_functions_by_type("filter"))
        if installed is None:
            return await _install(owui) if install else None
        if install:
            updates = pending_updates(installed)
            if updates:
                await Functions.update_function_by_id(installed.id, updates)
                log.info("Updated the OpenRouter Search filter %s (%s)", installed.id, ", ".join(sorted(updates)))
        return installed.id
    except Exception as exc:  # noqa: BLE001 - the filter is an extra; the pipe works without it
        log.warning("Could not install or update the OpenRouter Search filter: %s", exc)
        return None


async def _install(owui: Any) -> str | None:
    Functions = owui.Functions
    taken = {f.id for f in await Functions.get_functions()}
    filter_id = free_filter_id(taken)
    if filter_id is None:
        log.warning(
            "Could not install the OpenRouter Search filter: ids %s…_%d are taken", PREFERRED_FILTER_ID, MAX_ID_SUFFIX
        )
        return None
    form = owui.FunctionForm(
        id=filter_id, name=FILTER_NAME, content=FILTER_SOURCE, meta=owui.FunctionMeta(**FILTER_META)
    )
    if await Functions.insert_new_function("", "filter", form) is None:
        log.warning("Could not install the OpenRouter Search filter as %s", filter_id)
        return None
    # New functions start inactive; a toggle filter only shows where a model lists it.
    await Functions.update_function_by_id(filter_id, {"is_active": True, "is_global": False})
    log.info("Installed the OpenRouter Search filter as %s", filter_id)
    return filter_id
