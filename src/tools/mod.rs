//! Everything about tools the engine owns without touching a tool: how calls of a round
//! are prepared and grouped, and what their results look like to the model and the user.
//! Running them goes through the host port ([`crate::engine`]'s tool runner), because
//! Python owns the callables.

pub mod calls;
pub mod output;
pub mod specs;
