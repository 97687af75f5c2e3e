//! Valves: the single declaration of every setting, and the typed settings of a request.

pub mod export;
mod merge;
mod numbers;
pub mod secret;
pub mod settings;
pub mod spec;
pub mod table;

#[cfg(test)]
mod status_tests;

pub use merge::{merge, INHERIT};
pub use settings::{Settings, ToolMode, ToolSettings};
