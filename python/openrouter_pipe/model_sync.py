"""Keeps Open WebUI's model entries in step with OpenRouter's catalog.

Capabilities (the checkboxes that enable image upload, web search, …), descriptions and icons
are written through Open WebUI's own model API, never by SQL. A field is only written
when the admin has not changed it since the pipe last wrote it: the values the pipe
wrote are remembered in ``meta["openrouter_pipe"]["synced"]``.

The same pass installs the "OpenRouter Search" filter (``search_filter.py``) and attaches it
to the models OpenRouter offers web search for (``meta.filterIds``); it is switched on by
default once per model (``meta.defaultFilterIds``), so an admin who later switches it off
keeps it off. The keys in ``meta["openrouter_pipe"]`` are the reference pipe's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from .search_filter import ensure_search_filter

log = logging.getLogger("openrouter_pipe")

_MARK = "openrouter_pipe"
_SEEDED = "openrouter_search_default_seeded"
_RECORDED_FILTER = "openrouter_search_filter_id"


@dataclass(frozen=True)
class CatalogEntry:
    """One model as the engine lists it."""

    id: str
    name: str
    description: str | None
    capabilities: dict[str, Any]
    icon: str | None = None
    # Engine-side features (`function_calling`, `web_search_tool`, ...).
    features: dict[str, Any] = field(default_factory=dict)

    @property
    def offers_web_search(self) -> bool:
        """OpenRouter's web plugin works for this model (the catalog prices web search)."""
        return bool(self.features.get("web_search_tool"))


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


def _unique(ids: list[Any]) -> list[Any]:
    return list(dict.fromkeys(ids))


@dataclass(frozen=True)
class SearchFilterPlan:
    """Which filter id to manage, and what the valves allow the sync to do with it."""

    filter_id: str
    attach: bool
    default_on: bool


def apply_search_filter(meta: dict[str, Any], plan: SearchFilterPlan, supported: bool) -> tuple[dict[str, Any], bool]:
    """``meta`` with the filter attached (``filterIds``) where the model supports it and
    removed where it does not, and added to ``defaultFilterIds`` once; every other id an
    admin listed stays where it was. Returns the new meta and whether it changed."""
    before = meta
    meta = dict(meta)
    mark = dict(meta.get(_MARK) or {})
    recorded = mark.get(_RECORDED_FILTER)
    renamed = recorded if recorded and recorded != plan.filter_id else None
    if plan.attach:
        current = list(meta.get("filterIds") or [])
        ids = _unique([i for i in current if i != renamed])
        if supported and plan.filter_id not in ids:
            ids.append(plan.filter_id)
        elif not supported:
            ids = [i for i in ids if i != plan.filter_id]
        if ids != current:
            meta["filterIds"] = ids
    if plan.default_on and supported:
        current = list(meta.get("defaultFilterIds") or [])
        defaults = _unique([plan.filter_id if i == renamed else i for i in current])
        if not mark.get(_SEEDED):
            # Only once: an admin who removes it from the defaults later keeps it removed.
            if plan.filter_id not in defaults:
                defaults.append(plan.filter_id)
            mark[_SEEDED] = True
        if defaults != current:
            meta["defaultFilterIds"] = defaults
    if supported and (plan.attach or plan.default_on):
        mark[_RECORDED_FILTER] = plan.filter_id
    if mark != (before.get(_MARK) or {}):
        meta[_MARK] = mark
    return meta, meta != before


def planned_meta(
    meta: dict[str, Any], entry: CatalogEntry, valves: Any, search: SearchFilterPlan | None
) -> tuple[dict[str, Any], bool]:
    """Everything the sync wants in one model's meta, and whether that changes it."""
    meta, changed = merge_meta(meta, desired_fields(entry, valves))
    if search is not None:
        meta, filter_changed = apply_search_filter(meta, search, entry.offers_web_search)
        changed = changed or filter_changed
    return meta, changed


async def sync_models(
    pipe_id: str, entries: list[CatalogEntry], valves: Any, search: SearchFilterPlan | None = None
) -> int:
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
        current = existing.get(owui_id)
        try:
            if current is None:
                meta, changed = planned_meta({}, entry, valves, search)
                if not changed:
                    continue
                form = ModelForm(id=owui_id, name=entry.name, meta=ModelMeta(**meta), params=ModelParams())
                await Models.insert_new_model(form, user_id="")
                written += 1
                continue
            meta, changed = planned_meta(current.meta.model_dump(), entry, valves, search)
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


async def search_filter_plan(valves: Any, entries: list[CatalogEntry]) -> SearchFilterPlan | None:
    """Installs or updates the OpenRouter Search filter when the valves ask for it, and
    says how the sync should attach it; ``None`` when it should not be touched."""
    attach = bool(getattr(valves, "AUTO_ATTACH_ORS_FILTER", True))
    default_on = bool(getattr(valves, "AUTO_DEFAULT_OPENROUTER_SEARCH_FILTER", True))
    install = bool(getattr(valves, "AUTO_INSTALL_ORS_FILTER", True))
    if not (attach or default_on or install):
        return None
    filter_id = await ensure_search_filter(valves)
    if filter_id is None:
        if attach and sys.modules.get("open_webui.models.functions") is not None:
            log.warning(
                "AUTO_ATTACH_ORS_FILTER is on but the OpenRouter Search filter is not installed; "
                "turn AUTO_INSTALL_ORS_FILTER on or install it by hand"
            )
        return None
    supported = sum(1 for entry in entries if entry.offers_web_search)
    log.info("OpenRouter Search filter %s: %d model(s) support OpenRouter web search", filter_id, supported)
    return SearchFilterPlan(filter_id, attach, default_on)


def _flags(valves: Any) -> tuple[bool, ...]:
    return tuple(
        bool(getattr(valves, name, True))
        for name in (
            "UPDATE_MODEL_CAPABILITIES",
            "UPDATE_MODEL_DESCRIPTIONS",
            "UPDATE_MODEL_IMAGES",
            "AUTO_ATTACH_ORS_FILTER",
            "AUTO_INSTALL_ORS_FILTER",
            "AUTO_DEFAULT_OPENROUTER_SEARCH_FILTER",
        )
    )


class SyncScheduler:
    """Runs at most one sync at a time, off the request path: when the catalog or the
    valves changed, and again once per catalog refresh period (so a deleted filter or
    model entry comes back)."""

    def __init__(self) -> None:
        self._last_key: str | None = None
        self._last_run = 0.0
        self._task: asyncio.Task | None = None

    def maybe_schedule(self, pipe_id: str, entries: list[CatalogEntry], valves: Any) -> None:
        flags = _flags(valves)
        if not any(flags) or not entries:
            return
        snapshot = [(e.id, e.description, e.capabilities, e.icon, e.offers_web_search) for e in entries]
        key = json.dumps([pipe_id, flags, snapshot], sort_keys=True)
        period = float(getattr(valves, "MODEL_CATALOG_REFRESH_SECONDS", 3600) or 3600)
        fresh = time.monotonic() - self._last_run < period
        if (key == self._last_key and fresh) or (self._task is not None and not self._task.done()):
            return
        self._last_key = key
        self._last_run = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._run(pipe_id, entries, valves))

    async def _run(self, pipe_id: str, entries: list[CatalogEntry], valves: Any) -> None:
        try:
            search = await search_filter_plan(valves, entries)
            written = await sync_models(pipe_id, entries, valves, search)
            if written:
                log.info("Synced OpenRouter metadata into %d Open WebUI model entries", written)
        except Exception as exc:  # noqa: BLE001
            self._last_key = None
            log.warning("OpenRouter model metadata sync failed: %s", exc)
