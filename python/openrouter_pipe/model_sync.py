"""Keeps Open WebUI's model entries in step with OpenRouter's catalog.

Capabilities (the checkboxes that enable image upload, web search, …), descriptions and icons
are written through Open WebUI's own model API, never by SQL. A field is only written
when the admin has not changed it since the pipe last wrote it: the values the pipe
wrote are remembered in ``meta["openrouter_pipe"]["synced"]``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("openrouter_pipe")

_MARK = "openrouter_pipe"


@dataclass(frozen=True)
class CatalogEntry:
    """One model as the engine lists it."""

    id: str
    name: str
    description: str | None
    capabilities: dict[str, Any]
    icon: str | None = None


def desired_fields(entry: CatalogEntry, valves: Any) -> dict[str, Any]:
    """The metadata the valves ask the pipe to maintain for this model."""
    fields: dict[str, Any] = {}
    if getattr(valves, "UPDATE_MODEL_CAPABILITIES", True):
        fields["capabilities"] = entry.capabilities
    if getattr(valves, "UPDATE_MODEL_DESCRIPTIONS", True) and entry.description:
        fields["description"] = entry.description
    if getattr(valves, "UPDATE_MODEL_IMAGES", True) and entry.icon:
        fields["profile_image_url"] = entry.icon
    return fields


def merge_meta(meta: dict[str, Any], desired: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``meta`` with the desired fields applied where the admin has not taken over.

    Returns the new meta and whether anything the user would see changed.
    """
    meta = dict(meta)
    mark = dict(meta.get(_MARK) or {})
    synced = dict(mark.get("synced") or {})
    changed = False
    for key, value in desired.items():
        current = meta.get(key)
        if current == value:
            synced[key] = value
            continue
        untouched = current is None or (key in synced and current == synced[key])
        if untouched:
            meta[key] = value
            synced[key] = value
            changed = True
    if mark.get("synced") != synced:
        mark["synced"] = synced
        meta[_MARK] = mark
        changed = changed or bool(synced)
    return meta, changed


async def sync_models(pipe_id: str, entries: list[CatalogEntry], valves: Any) -> int:
    """Creates or updates model entries; returns how many were written."""
    # Only inside a running Open WebUI: importing its modules elsewhere starts its
    # configuration checks (and may exit the process).
    owui_models = sys.modules.get("open_webui.models.models")
    if owui_models is None:
        return 0
    ModelForm, ModelMeta, ModelParams, Models = (
        owui_models.ModelForm,
        owui_models.ModelMeta,
        owui_models.ModelParams,
        owui_models.Models,
    )
    ids = [f"{pipe_id}.{entry.id}" for entry in entries]
    existing = {model.id: model for model in await Models.get_models_by_ids(ids)}
    written = 0
    for owui_id, entry in zip(ids, entries):
        desired = desired_fields(entry, valves)
        if not desired:
            continue
        current = existing.get(owui_id)
        try:
            if current is None:
                meta, _ = merge_meta({}, desired)
                form = ModelForm(id=owui_id, name=entry.name, meta=ModelMeta(**meta), params=ModelParams())
                await Models.insert_new_model(form, user_id="")
                written += 1
                continue
            meta, changed = merge_meta(current.meta.model_dump(), desired)
            if changed:
                form = ModelForm(
                    id=owui_id,
                    base_model_id=current.base_model_id,
                    name=current.name,
                    meta=ModelMeta(**meta),
                    params=current.params,
                )
                await Models.update_model_by_id(owui_id, form)
                written += 1
        except Exception as exc:  # noqa: BLE001 - one bad entry must not stop the others
            log.debug("Model metadata sync failed for %s: %s", owui_id, exc)
    return written


class SyncScheduler:
    """Runs at most one sync at a time, and only when the catalog or valves changed."""

    def __init__(self) -> None:
        self._last_key: str | None = None
        self._task: asyncio.Task | None = None

    def maybe_schedule(self, pipe_id: str, entries: list[CatalogEntry], valves: Any) -> None:
        flags = (
            getattr(valves, "UPDATE_MODEL_CAPABILITIES", True),
            getattr(valves, "UPDATE_MODEL_DESCRIPTIONS", True),
            getattr(valves, "UPDATE_MODEL_IMAGES", True),
        )
        if not any(flags) or not entries:
            return
        snapshot = [(e.id, e.description, e.capabilities, e.icon) for e in entries]
        key = json.dumps([pipe_id, flags, snapshot], sort_keys=True)
        if key == self._last_key or (self._task is not None and not self._task.done()):
            return
        self._last_key = key
        self._task = asyncio.get_running_loop().create_task(self._run(pipe_id, entries, valves))

    async def _run(self, pipe_id: str, entries: list[CatalogEntry], valves: Any) -> None:
        try:
            written = await sync_models(pipe_id, entries, valves)
            if written:
                log.info("Synced OpenRouter metadata into %d Open WebUI model entries", written)
        except Exception as exc:  # noqa: BLE001
            self._last_key = None
            log.warning("OpenRouter model metadata sync failed: %s", exc)
