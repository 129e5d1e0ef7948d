//! A per-thread count of the parser's own steps (characters walked to find token offsets, tokens checked
//! against the limits), so tests can check that parsing is linear by counting work instead of timing it.

use std::cell::Cell;

thread_local! {
    static STEPS: Cell<u64> = const { Cell::new(0) };
}

/// Adds `n` steps to this thread's count.
pub(crate) fn add(n: u64) {
    STEPS.with(|s| s.set(s.get().wrapping_add(n)));
}

/// The steps this thread has counted so far.
pub fn steps() -> u64 {
    STEPS.with(Cell::get)
}
