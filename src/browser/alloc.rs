//! The page module's allocator: power-of-two size classes on a bump pointer over `memory.grow`.
//!
//! dlmalloc, the standard library's allocator on wasm32, weighs about 7 KB of Wasm. The page
//! allocates little, mostly short strings and vectors, and lives as long as the tab: a block is
//! rounded up to a power of two (8 B to 64 KB) and freed onto its class's list for reuse; larger
//! blocks (the item model's bytes) take whole 64 KB pages and are reused first-fit. Memory is never
//! returned to the browser, which Wasm cannot do anyway.

#[allow(unused_imports)]
use crate::prelude::*;

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::null_mut;

/// Wasm page size.
const PAGE: usize = 65_536;
/// Small classes: 2^3 .. 2^16 bytes.
const CLASSES: usize = 14;

/// A freed block: the next free block of the same list, and (large blocks) its size.
struct Free {
    next: *mut Free,
    size: usize,
}

struct Heap {
    /// Next unused byte, and the end of memory grown so far.
    bump: usize,
    end: usize,
    /// Free lists of the small classes.
    small: [*mut Free; CLASSES],
    /// Freed large blocks (whole pages).
    large: *mut Free,
}

/// The allocator of the page module (set as the global allocator in `browser`).
#[derive(Debug)]
pub struct PageAlloc(UnsafeCell<Heap>);

// SAFETY: the page module runs on one thread (wasm32 without atomics); nothing else sees the heap.
unsafe impl Sync for PageAlloc {}

impl PageAlloc {
    /// An empty heap; memory is grown on first use.
    pub const fn new() -> PageAlloc {
        PageAlloc(UnsafeCell::new(Heap {
            bump: 0,
            end: 0,
            small: [null_mut(); CLASSES],
            large: null_mut(),
        }))
    }
}

impl Default for PageAlloc {
    fn default() -> Self {
        PageAlloc::new()
    }
}

impl Heap {
    /// `size` bytes aligned to `align` from the bump pointer, growing memory as needed.
    fn carve(&mut self, size: usize, align: usize) -> *mut u8 {
        if self.end == 0 {
            self.end = core::arch::wasm32::memory_size(0) * PAGE;
            self.bump = self.end;
        }
        let start = (self.bump + align - 1) & !(align - 1);
        let Some(stop) = start.checked_add(size) else {
            return null_mut();
        };
        if stop > self.end {
            let pages = (stop - self.end).div_ceil(PAGE);
            if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                return null_mut();
            }
            self.end += pages * PAGE;
        }
        self.bump = stop;
        start as *mut u8
    }
}

/// The small class of a block, or `None` for a large one.
fn class(size: usize) -> Option<usize> {
    let rounded = size.max(8).next_power_of_two();
    let k = rounded.trailing_zeros() as usize - 3;
    (k < CLASSES).then_some(k)
}

unsafe impl GlobalAlloc for PageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded (see `Sync`), and no allocation re-enters the allocator.
        let heap = unsafe { &mut *self.0.get() };
        if layout.align() > 8 {
            // Over-aligned requests (none in the page today) are carved and never reused.
            return heap.carve(layout.size(), layout.align());
        }
        match class(layout.size()) {
            Some(k) => {
                let head = heap.small[k];
                if head.is_null() {
                    heap.carve(8 << k, 8)
                } else {
                    // SAFETY: `head` is a block freed onto this list, at least 8 bytes long.
                    heap.small[k] = unsafe { (*head).next };
                    head.cast()
                }
            }
            None => {
                let size = layout.size().div_ceil(PAGE) * PAGE;
                let mut link: *mut *mut Free = &mut heap.large;
                // SAFETY: the list holds only freed large blocks, each with its header written.
                unsafe {
                    while !(*link).is_null() {
                        let block = *link;
                        if (*block).size >= size {
                            *link = (*block).next;
                            return block.cast();
                        }
                        link = &mut (*block).next;
                    }
                }
                heap.carve(size, PAGE)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as in `alloc`; `ptr` came from `alloc` with this layout.
        let heap = unsafe { &mut *self.0.get() };
        if layout.align() > 8 {
            return;
        }
        let block: *mut Free = ptr.cast();
        match class(layout.size()) {
            // SAFETY: the block is ours again and at least 8 bytes (16 for large) long.
            Some(k) => unsafe {
                (*block).next = heap.small[k];
                heap.small[k] = block;
            },
            None => unsafe {
                (*block).next = heap.large;
                (*block).size = layout.size().div_ceil(PAGE) * PAGE;
                heap.large = block;
            },
        }
    }
}
