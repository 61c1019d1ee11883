//! Cutting one file into sections of `key=value` lines.
