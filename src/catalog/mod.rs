//! The OpenRouter model catalog: parsing, selection (`MODEL_ID`) and the shared cache.

pub mod capabilities;
pub mod icons;
pub mod model;
pub mod registry;
pub mod select;

pub use model::{sanitize_model_id, Model};
pub use registry::{models, resolve, CatalogError};
