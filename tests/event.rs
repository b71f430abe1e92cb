//! Integration tests for `affinity::event`.
