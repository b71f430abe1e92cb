//! The engine's one sort for what the page runs.
//!
//! The standard library's sorts are fast but generic through and through: each element type and
//! comparator gets its own copy of driftsort or ipnsort, about 3–5 KB of Wasm apiece, and the page
//! sorts nine kinds of things. Here one non-generic core orders indices (a stable bottom-up merge
//! sort through a `dyn` comparator) and thin generic wrappers apply that order.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cmp::Ordering;

/// Sorts `v` stably by `cmp` (equal elements keep their order), like `slice::sort_by`.
pub(crate) fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    let order = order(v.len(), &mut |a, b| cmp(&v[a], &v[b]) == Ordering::Less);
    permute(v, order);
}

/// Sorts `v` stably by a key, like `slice::sort_by_key`.
pub(crate) fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` stably by an integer key: the keys are computed once and sorted without a call per
/// comparison, which is several times faster than [`sort_by`] on large inputs (the item model).
pub(crate) fn sort_by_u64<T>(v: &mut [T], mut key: impl FnMut(&T) -> u64) {
    let mut keys: Vec<(u64, u32)> = Vec::with_capacity(v.len());
    for (i, e) in v.iter().enumerate() {
        keys.push((key(e), i as u32));
    }
    permute(v, key_order(keys));
}

/// The positions of `keys` in ascending order.
#[inline(never)]
fn key_order(keys: Vec<(u64, u32)>) -> Vec<u32> {
    let sorted = sort_keys(keys);
    let mut order = Vec::with_capacity(sorted.len());
    for (_, i) in sorted {
        order.push(i);
    }
    order
}

/// `(key, position)` pairs in ascending order (positions make every pair distinct: stable).
#[inline(never)]
pub(crate) fn sort_keys(keys: Vec<(u64, u32)>) -> Vec<(u64, u32)> {
    merge_sort(keys, |a, b| a < b)
}

/// The positions of `0..n` in stable sorted order, `less(a, b)` saying element `a` sorts first.
#[inline(never)]
fn order(n: usize, less: &mut dyn FnMut(usize, usize) -> bool) -> Vec<u32> {
    merge_sort((0..n as u32).collect(), |a, b| less(a as usize, b as usize))
}

/// A stable bottom-up merge sort (two instances: positions through a `dyn` comparator, and keys).
#[inline(always)]
fn merge_sort<T: Copy>(mut a: Vec<T>, mut less: impl FnMut(T, T) -> bool) -> Vec<T> {
    let n = a.len();
    let mut b = a.clone();
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut l, mut r) = (start, mid);
            for slot in &mut b[start..end] {
                // Take from the right run only when it is strictly smaller: stable.
                if l < mid && (r >= end || !less(a[r], a[l])) {
                    *slot = a[l];
                    l += 1;
                } else {
                    *slot = a[r];
                    r += 1;
                }
            }
            start = end;
        }
        core::mem::swap(&mut a, &mut b);
        width *= 2;
    }
    a
}

/// Rearranges `v` so that the new `v[k]` is the old `v[order[k]]`, following each cycle once.
fn permute<T>(v: &mut [T], order: Vec<u32>) {
    permute_by(order, &mut |a, b| v.swap(a, b));
}

/// The cycles of [`permute`], one copy for every element type: `swap` exchanges two elements.
#[inline(never)]
fn permute_by(mut order: Vec<u32>, swap: &mut dyn FnMut(usize, usize)) {
    for start in 0..order.len() {
        let mut k = start;
        while order[k] as usize != k {
            let src = order[k] as usize;
            order[k] = k as u32;
            if src == start {
                break;
            }
            swap(k, src);
            k = src;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_stable_sort() {
        let mut x: u32 = 12345;
        for n in [0, 1, 2, 3, 7, 8, 9, 100, 1000] {
            let v: Vec<(u32, usize)> = (0..n)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x % 10, i)
                })
                .collect();
            let mut ours = v.clone();
            sort_by_key(&mut ours, |e| e.0);
            let mut std = v.clone();
            std.sort_by_key(|e| e.0);
            assert_eq!(ours, std, "n = {n}");
            let mut keyed = v.clone();
            sort_by_u64(&mut keyed, |e| u64::from(e.0));
            assert_eq!(keyed, std, "n = {n}");
        }
    }
}
