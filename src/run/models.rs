//! The `models` command's file plumbing.
