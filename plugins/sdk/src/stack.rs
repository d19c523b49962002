//! Living within a WebAssembly stack. A plugin instance has about 1 MiB of stack, and
//! the parsers language plugins use recurse with the nesting of the code: a syntax tree
//! as deep as generated code can be (a 20,000-term `a + b + ...` is a tree 20,000
//! levels deep) takes more than that to build, and to drop. Running out of stack kills
//! the plugin call instead of returning an error, so parsers bound how deeply the code
//! they hand over nests (see [`crate::nesting`]) and never drop a whole tree ([`leak`]).

/// Frees nothing: dropping a syntax tree recurses once per level of its nesting, enough
/// to exhaust a WebAssembly stack on generated code. Each plugin call runs in a fresh
/// instance that is thrown away afterwards, memory and all, so nothing is lost there;
/// natively (tests, benchmarks) each parse leaks its tree.
pub fn leak<T>(tree: T) {
    std::mem::forget(tree);
}

/// How much stack [`on_small_stack`] gives: as much as a WebAssembly instance has.
pub const SMALL_STACK: usize = 1 << 20;

/// Runs `task` on a thread with [`SMALL_STACK`] bytes of stack and returns its result,
/// for tests: deep code must neither overflow a plugin's stack nor fail. (Tests run
/// unoptimised, which needs more stack than the release build Kiln runs.)
#[cfg(not(target_arch = "wasm32"))]
pub fn on_small_stack<T: Send + 'static>(task: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(task)
        .expect("a test thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
