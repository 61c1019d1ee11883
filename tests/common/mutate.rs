//! Mutation strategies for datagrams.
