//! Integration tests: one binary, a module per area.
#![cfg(not(target_arch = "wasm32"))]

mod event;
mod forecast;
mod privacy;
mod profile;
mod recommend;
mod rules;
mod segments;
