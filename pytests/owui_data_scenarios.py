"""Runs the pipe's Open WebUI writes against Open WebUI's real data layer, in a child process.

``pytests/test_owui_data_layer.py`` starts this with the Open WebUI venv's Python and a
fresh ``DATA_DIR``: importing ``open_webui.config`` migrates a new SQLite database exactly
as Open WebUI's start does, and the pipe's code then finds ``open_webui.models.*`` in
``sys.modules`` as it does inside the server. What each scenario saw is printed as one JSON
object on the last line of stdout. A child process keeps Open WebUI's import-time
configuration out of the other tests.
"""

from __future__ import annotations

import asyncio
import json
import sys
from types import SimpleNamespace


def _valves(**overrides):
    values = {
        "UPDATE_MODEL_CAPABILITIES": False,
        "UPDATE_MODEL_DESCRIPTIONS": False,
        "UPDATE_MODEL_IMAGES": False,
        "AUTO_ATTACH_ORS_FILTER": True,
        "AUTO_INSTALL_ORS_FILTER": True,
        "AUTO_DEFAULT_OPENROUTER_SEARCH_FILTER": True,
    }
    values.update(overrides)
    return SimpleNamespace(**values)


async def _filter_scenarios(out: dict) -> None:
    from open_webui.models.functions import FunctionForm, FunctionMeta, Functions

    from openrouter_pipe.search_filter import FILTER_SOURCE, ensure_search_filter

    # Someone else's Function already holds the preferred id.
    await Functions.insert_new_function(
        "",
        "filter",
        FunctionForm(id="openrouter_search", name="Mine", content="class Filter: pass", meta=FunctionMeta()),
    )
    filter_id = await ensure_search_filter(_valves())
    installed = await Functions.get_function_by_id(filter_id)
    out["installed"] = {
        "id": filter_id,
        "is_active": installed.is_active,
        "is_global": installed.is_global,
        "type": installed.type,
        "same_source": installed.content == FILTER_SOURCE,
        "toggle": installed.meta.model_dump().get("toggle"),
        "name": installed.name,
    }
    out["others_untouched"] = (await Functions.get_function_by_id("openrouter_search")).content

    out["second_run_id"] = await ensure_search_filter(_valves())

    # An admin switched it off, and an older version of the source is in the database.
    await Functions.update_function_by_id(filter_id, {"is_active": False, "content": "# old\n" + FILTER_SOURCE})
    out["after_update_id"] = await ensure_search_filter(_valves())
    updated = await Functions.get_function_by_id(filter_id)
    out["after_update"] = {"same_source": updated.content == FILTER_SOURCE, "is_active": updated.is_active}

    await Functions.update_function_by_id(filter_id, {"content": "# old\n" + FILTER_SOURCE})
    out["install_off_id"] = await ensure_search_filter(_valves(AUTO_INSTALL_ORS_FILTER=False))
    out["install_off_kept_old"] = (await Functions.get_function_by_id(filter_id)).content.startswith("# old")
    await Functions.update_function_by_id(filter_id, {"content": FILTER_SOURCE, "is_active": True})


async def _model_scenarios(out: dict) -> None:
    from open_webui.models.models import ModelForm, ModelMeta, ModelParams, Models

    from openrouter_pipe.model_sync import CatalogEntry, search_filter_plan, sync_models

    entries = [
        CatalogEntry("openai.gpt-4.1", "GPT-4.1", "Searches.", {}, features={"web_search_tool": True}),
        CatalogEntry("gryphe.mythomax-l2-13b", "MythoMax", None, {}, features={"web_search_tool": False}),
    ]
    # An entry the admin made earlier, with a filter of their own and a custom parameter.
    await Models.insert_new_model(
        ModelForm(
            id="openrouter.openai.gpt-4.1",
            name="House GPT",
            meta=ModelMeta(filterIds=["house_filter"]),
            params=ModelParams(temperature=0.2),
        ),
        user_id="",
    )
    valves = _valves()
    plan = await search_filter_plan(valves, entries)
    out["plan_filter_id"] = plan.filter_id if plan else None
    out["first_written"] = await sync_models("openrouter", entries, valves, plan)
    searchable = await Models.get_model_by_id("openrouter.openai.gpt-4.1")
    out["searchable"] = {
        "name": searchable.name,
        "filterIds": searchable.meta.model_dump().get("filterIds"),
        "defaultFilterIds": searchable.meta.model_dump().get("defaultFilterIds"),
        "temperature": searchable.params.model_dump().get("temperature"),
    }
    out["plain_entry"] = await Models.get_model_by_id("openrouter.gryphe.mythomax-l2-13b") is not None

    # The admin switches the default off: later syncs keep it off.
    meta = searchable.meta.model_dump()
    meta["defaultFilterIds"] = []
    await Models.update_model_by_id(
        searchable.id,
        ModelForm(id=searchable.id, name=searchable.name, meta=ModelMeta(**meta), params=searchable.params),
    )
    out["second_written"] = await sync_models("openrouter", entries, valves, plan)
    again = await Models.get_model_by_id("openrouter.openai.gpt-4.1")
    out["after_admin_change"] = {
        "filterIds": again.meta.model_dump().get("filterIds"),
        "defaultFilterIds": again.meta.model_dump().get("defaultFilterIds"),
    }


async def _function_calling_scenarios(out: dict) -> None:
    from open_webui.models.models import ModelForm, ModelMeta, ModelParams, Models

    from openrouter_pipe.native_function_calling import NativeFunctionCalling

    await Models.insert_new_model(
        ModelForm(
            id="openrouter.legacy-model",
            name="Legacy",
            meta=ModelMeta(description="kept"),
            params=ModelParams(function_calling="legacy", temperature=0.7),
        ),
        user_id="",
    )
    await Models.insert_new_model(
        ModelForm(id="openrouter.default-model", name="Default", meta=ModelMeta(), params=ModelParams()),
        user_id="",
    )
    events: list[dict] = []

    async def emitter(event):
        events.append(event)

    checker = NativeFunctionCalling()
    metadata = {"params": {"function_calling": "legacy"}}
    await checker.ensure("openrouter.legacy-model", metadata, emitter)
    switched = await Models.get_model_by_id("openrouter.legacy-model")
    out["switched"] = {
        "params": switched.params.model_dump(),
        "description": switched.meta.description,
        "name": switched.name,
    }
    await checker.ensure("openrouter.legacy-model", metadata, emitter)
    await checker.ensure("openrouter.default-model", {"params": {"function_calling": "native"}}, emitter)
    out["default_params"] = (await Models.get_model_by_id("openrouter.default-model")).params.model_dump()
    out["events"] = events


async def _storage_user_scenarios(out: dict) -> None:
    """The fallback owner of files stored for a request without a user (API automations)."""
    import logging

    from open_webui.models.auths import Auths
    from open_webui.models.users import Users

    from openrouter_pipe import files

    warnings: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    logging.getLogger("openrouter_pipe").addHandler(Keep())

    async def any_password(_hash: str) -> bool:
        return True  # the most lenient check: sign-in still needs a credential row
    first = await files.STORAGE_USER.get({})
    again = await files.STORAGE_USER.get({})
    # A new process (a restart, another worker) finds the same account by its e-mail.
    other_worker = await files._StorageUser().get({})
    custom = await files._StorageUser().get({"email": "bot@example.org", "name": "Bot", "role": "admin"})
    # A file stored for a request that came without a user (`__user__` missing) is owned by it.
    import open_webui.routers.files  # noqa: F401 - loaded inside the server; the pipe looks it up
    from open_webui.models.files import Files

    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    stored = await files.OwuiFiles({"request": object()}).store(
        {"name": "generated-image-1.png", "mime": "image/png", "base64": png}
    )
    record = await Files.get_file_by_id(stored["id"])
    out["stored_without_user"] = {
        "url": stored["url"],
        "owner_is_storage_account": record.user_id == first.id,
        "filename": record.filename,
        "bytes": record.meta.get("size"),
    }
    out["storage_user"] = {
        "email": first.email,
        "name": first.name,
        "role": first.role,
        "same_in_process": first.id == again.id,
        "same_elsewhere": first.id == other_worker.id,
        "accounts": len([u for u in (await Users.get_users())["users"] if u.email == first.email]),
        "has_password": await Auths.get_auth_by_id(first.id) is not None,
        "can_sign_in": await Auths.authenticate_user(first.email, any_password) is not None,
        "custom": {"email": custom.email, "name": custom.name, "role": custom.role},
        "warnings": warnings,
    }


async def main() -> None:
    import open_webui.config  # noqa: F401 - migrates the fresh database, as Open WebUI's start does

    out: dict = {}
    await _filter_scenarios(out)
    await _model_scenarios(out)
    await _function_calling_scenarios(out)
    await _storage_user_scenarios(out)
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
