//! Activation exports of a campaign (`[export]` of its campaign file): the target group as an
//! e-mail platform takes it (`customer_id` + contact columns of the customers table), as each
//! ad platform takes it (e-mail and phone normalised and SHA-256-hashed by the platform's
//! documented rules, see [`normalise`]), and the adds and removes against the previous export
//! of the same campaign.
//!
//! These files are the only outputs that hold personal data: summaries, reports, manifests and
//! messages give counts and paths only. Exports are built from the final target group, so who
//! may be contacted is decided by `select` alone.

pub mod config;
pub mod files;
pub mod hash;
pub mod normalise;

pub use config::{EmailPlatform, ExportConfig, Identifiers, Platform};
pub use files::{build, Contacts, ExportFile};
