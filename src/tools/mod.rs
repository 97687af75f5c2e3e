//! Everything about tools the engine owns without touching a tool, free of I/O: the
//! definitions the model is offered (Open WebUI specs and request tools → the Responses
//! `tools` list, with the strict-schema transform), how the calls of a round are prepared
//! and grouped, and what their results look like to the model and to the user. Running
//! them goes through the host port (the engine's tool runner), because Python owns the
//! callables.

pub(crate) mod calls;
pub(crate) mod output;
mod py_literal;
pub(crate) mod specs;
mod strict;

pub use specs::{
    assemble, assemble_owui_tools, dedupe, from_chat_tool, from_owui_spec, to_chat_tool, Assembled,
};
pub use strict::strictify;
