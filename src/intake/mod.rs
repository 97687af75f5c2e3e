//! Sans-IO pieces of file, image, audio and video intake (issue #11).
//!
//! Exists so the rules a user can notice (what counts as a valid data URL, how big an
//! inline file may be, which link is an Open WebUI file, which audio format a MIME type
//! means, the status texts) are plain functions with tests, apart from the async stage
//! that reads storage and downloads (`engine::intake`).

mod blocks;
mod data_url;
mod status;

pub use blocks::{
    audio_format, file_extension, internal_file_id, is_youtube, localize_file_link,
    markdown_images, normalize_mime, FileFields,
};
pub use data_url::{estimated_decoded_len, guard_base64, parse_data_url, DataUrl, DataUrlError};
pub use status::StatusText;
