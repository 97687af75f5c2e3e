//! From Responses API events to what Open WebUI shows.

pub mod citations;
pub mod clock;
pub mod emit;
pub mod event;
pub mod json;
pub mod mapper;
pub mod reasoning;
pub mod usage;
