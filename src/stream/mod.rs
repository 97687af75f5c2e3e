//! From Responses API events to what Open WebUI shows.
//!
//! [`mapper::ResponseMapper`] is the entry point; the other modules each hold one
//! concern of it (event parsing, lenient JSON, reasoning, citations, items, usage).

pub mod citations;
pub mod clock;
pub mod emit;
pub mod event;
pub mod items;
pub mod json;
pub mod mapper;
pub mod reasoning;
pub mod usage;
pub mod web_search;
