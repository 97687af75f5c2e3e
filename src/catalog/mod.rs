//! The OpenRouter model catalog: parsing, selection (`MODEL_ID`) and the shared cache.

pub(crate) mod capabilities;
mod icon_inline;
pub(crate) mod icons;
pub(crate) mod key_check;
mod model;
mod registry;
pub(crate) mod select;

pub use capabilities::{capabilities, features};
pub(crate) use model::sanitize_model_id;
pub use model::{parse_catalog, Architecture, Model, ReasoningInfo, TopProvider};
pub use registry::{expire, models, resolve, CatalogError};
