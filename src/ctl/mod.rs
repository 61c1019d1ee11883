//! The whack <-> pluto control protocol: messages, their encoding, reply lines.
