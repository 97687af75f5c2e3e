//! From Responses API events to what Open WebUI shows.

pub mod coalesce;
pub mod emit;
pub mod mapper;
pub mod owui;
