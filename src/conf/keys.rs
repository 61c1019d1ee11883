//! The table of every key the reader knows.
