//! Everything about tools that the engine owns, free of I/O: today the definitions the model
//! is offered (Open WebUI specs and request tools → the Responses `tools` list, with the
//! strict-schema transform); the tool loop's execution planning joins it here.

pub mod specs;
pub mod strict;

pub use specs::{assemble, dedupe, from_chat_tool, from_owui_spec, to_chat_tool, Assembled};
pub use strict::strictify;
