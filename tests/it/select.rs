//! `bullseye select` end to end.
