//! The `segment` command's file plumbing.
