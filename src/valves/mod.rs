//! Valves: the single declaration of every setting, and the typed settings of a request.

pub mod spec;
pub mod table;
