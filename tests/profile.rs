//! Integration tests for `affinity::profile`.
