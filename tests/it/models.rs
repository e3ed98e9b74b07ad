//! `bullseye models` end to end.
