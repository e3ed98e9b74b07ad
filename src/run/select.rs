//! The `select` command's file plumbing.
