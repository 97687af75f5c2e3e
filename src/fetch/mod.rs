//! Downloads that can never reach a private network (issue #11).
//!
//! Exists as the security core the download code calls: [`vet_url`] checks a link's
//! text without I/O, [`is_forbidden`] classifies an address, [`next_hop`] vets a
//! redirect target, and [`guarded_get`] resolves each hop once, checks every answer and
//! connects only to the checked addresses ([`resolve_checked`], [`pinned_client`]).
//! The numbers (hops, bytes, time) live in [`FetchLimits`], apart from the mechanism.

mod ip;
mod limits;
mod redirect;
mod resolve;
mod vet;

pub use ip::is_forbidden;
pub use limits::FetchLimits;
pub use redirect::{is_redirect, next_hop};
pub use resolve::{
    check_answers, guarded_get, pinned_client, resolve_checked, FetchError, Fetched,
};
pub use vet::{vet_url, Refusal, UrlPolicy, VettedHost, VettedUrl, MAX_URL_LEN};
