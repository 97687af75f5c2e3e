"""Model metadata sync never overwrites what an admin edited by hand."""

from types import SimpleNamespace

from openrouter_pipe.model_sync import CatalogEntry, desired_fields, merge_meta

ENTRY = CatalogEntry("openai.gpt-4o-mini", "OpenAI: GPT-4o-mini", "Small model.", {"vision": True})
ON = SimpleNamespace(UPDATE_MODEL_CAPABILITIES=True, UPDATE_MODEL_DESCRIPTIONS=True, UPDATE_MODEL_IMAGES=True)


def test_new_entry_gets_capabilities_and_description():
    meta, changed = merge_meta({}, desired_fields(ENTRY, ON))
    assert changed
    assert meta["capabilities"] == {"vision": True}
    assert meta["description"] == "Small model."


def test_catalog_change_updates_fields_the_admin_left_alone():
    meta, _ = merge_meta({}, desired_fields(ENTRY, ON))
    newer = CatalogEntry(ENTRY.id, ENTRY.name, "Better description.", {"vision": False})
    meta, changed = merge_meta(meta, desired_fields(newer, ON))
    assert changed
    assert meta["description"] == "Better description."
    assert meta["capabilities"] == {"vision": False}


def test_admin_edits_survive_later_syncs():
    meta, _ = merge_meta({}, desired_fields(ENTRY, ON))
    meta["description"] = "Our house model, ask Jane."
    meta["capabilities"] = {"vision": False, "web_search": False}
    newer = CatalogEntry(ENTRY.id, ENTRY.name, "Better description.", {"vision": True, "web_search": True})
    meta, changed = merge_meta(meta, desired_fields(newer, ON))
    assert meta["description"] == "Our house model, ask Jane."
    assert meta["capabilities"] == {"vision": False, "web_search": False}
    assert not changed


def test_nothing_changes_when_already_in_sync():
    meta, _ = merge_meta({}, desired_fields(ENTRY, ON))
    _, changed = merge_meta(meta, desired_fields(ENTRY, ON))
    assert not changed


def test_switched_off_valves_write_nothing():
    off = SimpleNamespace(UPDATE_MODEL_CAPABILITIES=False, UPDATE_MODEL_DESCRIPTIONS=False, UPDATE_MODEL_IMAGES=False)
    assert desired_fields(ENTRY, off) == {}


def test_icons_are_synced_and_an_admin_chosen_icon_is_kept():
    with_icon = CatalogEntry(ENTRY.id, ENTRY.name, ENTRY.description, ENTRY.capabilities, "https://o.ai/i/OpenAI.svg")
    meta, _ = merge_meta({}, desired_fields(with_icon, ON))
    assert meta["profile_image_url"] == "https://o.ai/i/OpenAI.svg"
    meta["profile_image_url"] = "data:image/png;base64,AAAA"
    meta, _ = merge_meta(meta, desired_fields(with_icon, ON))
    assert meta["profile_image_url"] == "data:image/png;base64,AAAA"


async def test_model_icons_are_inlined_as_png_data_urls(fake):
    """The icon each model entry gets is the picture itself (as the reference stores it),
    fetched once from the gateway's site; SVG icons are drawn to PNG, because Open WebUI
    refuses SVG data URLs."""
    import base64

    from bridge_helpers import new_pipe

    pipe = new_pipe(fake.base_url)
    await pipe.pipes()
    entries = {e.id: e for e in pipe.core._remember((await _listed(pipe))[0])}
    prefix = "data:image/png;base64,"
    openai, example_host = entries["openai.gpt-4.1"].icon, entries["deepseek.deepseek-r1"].icon
    for icon in (openai, example_host):
        assert icon and icon.startswith(prefix), (icon or "")[:80]
        assert base64.b64decode(icon[len(prefix):])[:8] == b"\x89PNG\r\n\x1a\n"
    assert openai != example_host, "each provider's icon is its own picture"
    fetched = [r["path"] for r in fake.requests() if r["path"].startswith("/images/icons/")]
    assert len(fetched) == len(set(fetched)), "each icon is fetched once"


async def _listed(pipe):
    from openrouter_pipe import _native
    from openrouter_pipe.core import _valves_json

    return await _native.list_models(_valves_json(pipe.valves))
