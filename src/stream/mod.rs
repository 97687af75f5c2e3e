//! From Responses API events to what Open WebUI shows.

pub mod emit;
pub mod mapper;
