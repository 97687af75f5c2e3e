"""The OpenRouter Search filter: what its inlet does to a chat request, which installed copy
the pipe adopts, and how the model sync attaches it without undoing an admin's choices."""

from types import SimpleNamespace

from loader import load_function

from openrouter_pipe.model_sync import CatalogEntry, SearchFilterPlan, apply_search_filter, planned_meta
from openrouter_pipe.search_filter import (
    FILTER_MARKER,
    FILTER_META,
    FILTER_NAME,
    FILTER_SOURCE,
    free_filter_id,
    pending_updates,
    pick_installed,
)

PLAN = SearchFilterPlan("openrouter_search", attach=True, default_on=True)


def filter_instance():
    module = load_function(FILTER_SOURCE, "function_openrouter_search_test")
    return module.Filter()


def test_the_filter_is_a_toggle_with_the_reference_marker():
    compile(FILTER_SOURCE, "openrouter_search.py", "exec")
    assert FILTER_MARKER in FILTER_SOURCE
    assert filter_instance().toggle is True
    assert FILTER_META["toggle"] is True and FILTER_META["manifest"]["id"] == "openrouter_search"


def test_inlet_switches_open_webui_search_off_and_asks_for_openrouters():
    shared = {"web_search": True, "image_generation": False}
    body = {"model": "openrouter.openai.gpt-4.1", "features": shared}
    metadata = {"features": shared, "chat_id": "c1"}
    out = filter_instance().inlet(body, __metadata__=metadata)
    assert out["features"]["web_search"] is False
    assert metadata["features"]["openrouter_web_search"] is True
    # The dict Open WebUI shared between both was copied, so the pipe's copy is its own.
    assert metadata["features"] is not out["features"]
    assert metadata["features"]["image_generation"] is False
    # Open WebUI 0.12 hands the pipe the body's features (rebuilt after the inlet): the flag is there too.
    assert out["features"]["openrouter_web_search"] is True
    assert metadata["features"]["web_search"] is False


def test_inlet_creates_missing_feature_dicts():
    body = {"model": "m"}
    metadata = {}
    out = filter_instance().inlet(body, __metadata__=metadata)
    assert out["features"] == {"web_search": False, "openrouter_web_search": True}
    assert metadata["features"] == {"openrouter_web_search": True}


def test_inlet_without_metadata_leaves_the_body_alone():
    body = {"features": {"web_search": True}}
    assert filter_instance().inlet(body, __metadata__=None) == {"features": {"web_search": True}}


def fn(fid, content, updated_at=0, **extra):
    return SimpleNamespace(id=fid, content=content, updated_at=updated_at, **extra)


def test_the_newest_marked_copy_is_adopted_before_look_alikes():
    look_alike = fn("old_search", "class Filter: ... openrouter_web_search", updated_at=99)
    older = fn("openrouter_search", FILTER_SOURCE, updated_at=1)
    newer = fn("openrouter_search_1", "x " + FILTER_MARKER, updated_at=5)
    unrelated = fn("other", "class Filter: pass", updated_at=100)
    assert pick_installed([look_alike, older, newer, unrelated]).id == "openrouter_search_1"
    assert pick_installed([unrelated, look_alike]).id == "old_search"
    assert pick_installed([unrelated]) is None


def test_a_free_id_is_found_up_to_fifty():
    assert free_filter_id(set()) == "openrouter_search"
    assert free_filter_id({"openrouter_search", "openrouter_search_1"}) == "openrouter_search_2"
    taken = {"openrouter_search"} | {f"openrouter_search_{n}" for n in range(1, 51)}
    assert free_filter_id(taken) is None


def test_an_up_to_date_copy_is_left_alone_and_a_stale_one_updated():
    current = fn("openrouter_search", FILTER_SOURCE, name=FILTER_NAME, meta=dict(FILTER_META), type="filter")
    assert pending_updates(current) == {}
    stale = fn("openrouter_search", "old " + FILTER_MARKER, name="Search", meta={"description": "x"}, type="filter")
    updates = pending_updates(stale)
    assert updates["content"] == FILTER_SOURCE and updates["name"] == FILTER_NAME
    assert updates["meta"]["toggle"] is True
    # Whether the filter is active or global stays the admin's decision.
    assert "is_active" not in updates and "is_global" not in updates


def test_a_supporting_model_gets_the_filter_attached_and_on_by_default_once():
    meta, changed = apply_search_filter({}, PLAN, supported=True)
    assert changed
    assert meta["filterIds"] == ["openrouter_search"]
    assert meta["defaultFilterIds"] == ["openrouter_search"]
    assert meta["openrouter_pipe"] == {
        "openrouter_search_default_seeded": True,
        "openrouter_search_filter_id": "openrouter_search",
    }
    _, changed = apply_search_filter(meta, PLAN, supported=True)
    assert not changed


def test_an_admin_who_switched_the_default_off_keeps_it_off():
    meta, _ = apply_search_filter({}, PLAN, supported=True)
    meta["defaultFilterIds"] = []
    meta, changed = apply_search_filter(meta, PLAN, supported=True)
    assert not changed
    assert meta["defaultFilterIds"] == []


def test_unsupported_models_lose_the_filter_but_keep_admin_defaults_and_other_filters():
    meta = {"filterIds": ["house_filter", "openrouter_search"], "defaultFilterIds": ["openrouter_search"]}
    meta, changed = apply_search_filter(meta, PLAN, supported=False)
    assert changed
    assert meta["filterIds"] == ["house_filter"]
    assert meta["defaultFilterIds"] == ["openrouter_search"]


def test_other_filters_keep_their_order_and_the_new_id_goes_last():
    meta, _ = apply_search_filter({"filterIds": ["b", "a"], "defaultFilterIds": ["a"]}, PLAN, supported=True)
    assert meta["filterIds"] == ["b", "a", "openrouter_search"]
    assert meta["defaultFilterIds"] == ["a", "openrouter_search"]


def test_a_reinstalled_filter_under_a_new_id_replaces_the_old_one():
    meta, _ = apply_search_filter({}, PLAN, supported=True)
    moved = SearchFilterPlan("openrouter_search_1", attach=True, default_on=True)
    meta, changed = apply_search_filter(meta, moved, supported=True)
    assert changed
    assert meta["filterIds"] == ["openrouter_search_1"]
    assert meta["defaultFilterIds"] == ["openrouter_search_1"]
    assert meta["openrouter_pipe"]["openrouter_search_filter_id"] == "openrouter_search_1"


def test_switched_off_valves_leave_filter_lists_alone():
    off = SearchFilterPlan("openrouter_search", attach=False, default_on=False)
    meta = {"filterIds": ["x"]}
    assert apply_search_filter(meta, off, supported=True) == (meta, False)
    attach_only = SearchFilterPlan("openrouter_search", attach=True, default_on=False)
    meta, _ = apply_search_filter({}, attach_only, supported=True)
    assert meta["filterIds"] == ["openrouter_search"] and "defaultFilterIds" not in meta


def test_models_without_web_search_get_no_entry_just_for_the_filter():
    valves = SimpleNamespace(
        UPDATE_MODEL_CAPABILITIES=False, UPDATE_MODEL_DESCRIPTIONS=False, UPDATE_MODEL_IMAGES=False
    )
    plain = CatalogEntry("gryphe.mythomax-l2-13b", "MythoMax", None, {}, features={"web_search_tool": False})
    _, changed = planned_meta({}, plain, valves, PLAN)
    assert not changed
    searchable = CatalogEntry("openai.gpt-4.1", "GPT-4.1", None, {}, features={"web_search_tool": True})
    meta, changed = planned_meta({}, searchable, valves, PLAN)
    assert changed and meta["filterIds"] == ["openrouter_search"]
