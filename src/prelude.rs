//! What every module of the `page` build imports: the `no_std` prelude lacks alloc's types and
//! std's float methods. In the other builds the std prelude already has all of it, so the
//! modules' `use crate::prelude::*` imports nothing.

#[cfg(all(feature = "page", target_arch = "wasm32", target_os = "unknown"))]
pub(crate) use std::{
    boxed::Box,
    string::{String, ToString},
    vec::Vec,
};

/// The map the engine interns strings with: a hash map, a B-tree in the page (no std, no hasher).
#[cfg(all(feature = "page", target_arch = "wasm32", target_os = "unknown"))]
pub(crate) use std::collections::BTreeMap as HashMap;
#[cfg(not(all(feature = "page", target_arch = "wasm32", target_os = "unknown")))]
pub(crate) use std::collections::HashMap;

#[cfg(all(feature = "page", target_arch = "wasm32", target_os = "unknown"))]
pub(crate) use float::Float;

/// std's float methods the engine calls, which core lacks: on compiler-builtins' libm, what std
/// calls on this target (LLVM turns `floor`, `ceil`, `trunc` and `sqrt` into Wasm instructions).
#[cfg(all(feature = "page", target_arch = "wasm32", target_os = "unknown"))]
mod float {
    /// The float methods std has and core lacks.
    pub(crate) trait Float: Sized {
        fn floor(self) -> Self;
        fn ceil(self) -> Self;
        fn trunc(self) -> Self;
        fn sqrt(self) -> Self;
        fn exp(self) -> Self;
        fn ln(self) -> Self;
        fn log2(self) -> Self;
        fn exp2(self) -> Self;
        fn powf(self, n: Self) -> Self;
        fn round(self) -> Self;
        fn fract(self) -> Self;
    }

    macro_rules! float {
        ($t:ty, $m:ident, $floor:ident, $ceil:ident, $trunc:ident, $sqrt:ident, $exp:ident,
         $log:ident, $log2:ident, $pow:ident, $exp2:ident) => {
            mod $m {
                extern "C" {
                    pub fn $floor(x: $t) -> $t;
                    pub fn $ceil(x: $t) -> $t;
                    pub fn $trunc(x: $t) -> $t;
                    pub fn $sqrt(x: $t) -> $t;
                    pub fn $exp(x: $t) -> $t;
                    pub fn $log(x: $t) -> $t;
                    pub fn $log2(x: $t) -> $t;
                    pub fn $exp2(x: $t) -> $t;
                    pub fn $pow(x: $t, y: $t) -> $t;
                }
            }
            // SAFETY (every `unsafe` below): libm's pure functions of their arguments.
            impl Float for $t {
                fn floor(self) -> $t {
                    unsafe { $m::$floor(self) }
                }
                fn ceil(self) -> $t {
                    unsafe { $m::$ceil(self) }
                }
                fn trunc(self) -> $t {
                    unsafe { $m::$trunc(self) }
                }
                fn sqrt(self) -> $t {
                    unsafe { $m::$sqrt(self) }
                }
                fn exp(self) -> $t {
                    unsafe { $m::$exp(self) }
                }
                fn ln(self) -> $t {
                    unsafe { $m::$log(self) }
                }
                fn log2(self) -> $t {
                    unsafe { $m::$log2(self) }
                }
                fn exp2(self) -> $t {
                    unsafe { $m::$exp2(self) }
                }
                fn powf(self, n: $t) -> $t {
                    unsafe { $m::$pow(self, n) }
                }
                fn round(self) -> $t {
                    // Half away from zero, as std's `round`.
                    let t = Float::trunc(self);
                    if (self - t).abs() >= 0.5 {
                        t + self.signum()
                    } else {
                        t
                    }
                }
                fn fract(self) -> $t {
                    self - Float::trunc(self)
                }
            }
        };
    }
    float!(f64, f64_libm, floor, ceil, trunc, sqrt, exp, log, log2, pow, exp2);
    float!(f32, f32_libm, floorf, ceilf, truncf, sqrtf, expf, logf, log2f, powf, exp2f);
}
