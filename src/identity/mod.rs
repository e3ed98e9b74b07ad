//! Identities: which customer records are one person, and the merge map that folds the others
//! into the surviving record before anything is built from the tables (README "Identities").
//!
//! `normalise` holds the matching rule for e-mail and phone values; `merge` the union-find over
//! the customers and the map it yields; `directory` which ids an e-mail or phone of a
//! do-not-contact list names. All are pure: the caller reads the tables and applies
//! the map.

pub mod directory;
pub mod merge;
pub mod normalise;

pub use directory::{ContactValues, Directory};
pub use merge::{merge_map, CustomerKeys, IdentitySettings, MatchKey, MergeMap, MergeRule};
