//! `bullseye segment` end to end.
