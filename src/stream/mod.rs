//! From Responses API events to what Open WebUI shows.
//!
//! [`ResponseMapper`] is the entry point; the private modules each hold one concern of
//! it (event parsing, lenient JSON, reasoning, citations, items, usage). [`Coalescer`]
//! merges text deltas and [`owui_item`] serialises an emit for Open WebUI.

pub(crate) mod chat_mapper;
mod citations;
mod clock;
pub(crate) mod coalesce;
mod event;
pub(crate) mod images;
mod items;
mod json;
pub(crate) mod mapper;
pub(crate) mod owui;
mod reasoning;
pub(crate) mod usage;
mod web_search;

pub use chat_mapper::ChatCompletionsMapper;
pub use clock::{Clock, ManualClock};
pub use coalesce::Coalescer;
pub use mapper::{MapperOptions, ResponseMapper, Termination};
pub use owui::item as owui_item;
pub use usage::add as add_usage;
