//! Affinity at the edge (being written).
