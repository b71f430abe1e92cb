//! Integration tests: one binary, a module per area.

mod event;
mod profile;
mod recommend;
mod rules;
