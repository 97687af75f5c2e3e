//! From Responses API events to what Open WebUI shows.
//!
//! [`mapper::ResponseMapper`] is the entry point; the other modules each hold one
//! concern of it (event parsing, lenient JSON, reasoning, citations, items, usage).
//! [`coalesce`] merges text deltas and [`owui`] serialises emits for Open WebUI.

pub mod citations;
pub mod clock;
pub mod coalesce;
pub mod event;
pub mod items;
pub mod json;
pub mod mapper;
pub mod owui;
pub mod reasoning;
pub mod usage;
pub mod web_search;
