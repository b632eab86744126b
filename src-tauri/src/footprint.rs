//! What an idle studio costs its desktop: choices made at the very start of `main`, before any
//! thread, window or web process exists (all of them inherit these).
//!
//! Measured by `cargo bench -p switchyard-e2e --bench memory` (BENCHMARKS.md, "The idle studio's
//! memory"): together they take the idle studio from 345 to about 240 MB PSS on a machine
//! without a GPU.

use std::path::Path;

/// Where the kernel lists GPU render nodes (`renderD128`, ...).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const DRI: &str = "/dev/dri";

/// What `settle` chose, for the log (which starts later).
#[derive(Debug, Clone, Copy, Default)]
pub struct Settled {
    /// No GPU: WebKit was told to draw without compositing.
    pub software_rendering: bool,
}

/// Sets the process up for a small footprint. Call first thing in `main`: it changes the
/// environment, which only a single-threaded process may do safely.
#[cfg(target_os = "linux")]
pub fn settle() -> Settled {
    // Transparent huge pages turn every touched byte of an allocator arena into 2 MiB of
    // resident memory (~14 MB on an idle studio, where the system's setting is `madvise`, as
    // Debian's and Ubuntu's are: mimalloc asks for them). Inherited by the web processes. The
    // embedded node wants it too, for speed: `switchyard_node::without_huge_pages`, the same call.
    // SAFETY: prctl with these arguments reads and writes no memory of ours.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    purge_freed_memory_at_once();
    let chosen = software_rendering_override(Path::new(DRI), |n| std::env::var_os(n).is_some());
    if let Some((name, value)) = chosen {
        std::env::set_var(name, value);
    }
    Settled { software_rendering: chosen.is_some() }
}

/// mimalloc's option `purge_delay` (its `mi_option_e` in v3's `mimalloc.h`; the crate names only
/// v2's options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc v3's default for it, ms: what `MI_OPTION_PURGE_DELAY` must read before it is set.
const MI_DEFAULT_PURGE_DELAY: std::ffi::c_long = 1000;

/// Freed pages go back to the system when freed, not a second later (ten for whole arenas): a
/// delayed purge runs only when the allocator is next called, so the start-up's garbage stayed
/// resident in an idle studio (−5 MB PSS idle, −10 to −17 MB RSS after a tail at 20,000
/// records/s; the price, pages faulted in again under that load: ~4 % more of the app's CPU;
/// BENCHMARKS.md, fifteenth session). Not done if the option's number reads as something else
/// (another mimalloc).
fn purge_freed_memory_at_once() {
    // SAFETY: reads and sets mimalloc's option table; `settle` runs before any other thread
    // exists, as mimalloc requires of a change to its options.
    unsafe {
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == MI_DEFAULT_PURGE_DELAY {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        }
    }
}

/// Elsewhere the web view is the system's own (WKWebView, WebView2): nothing to choose.
#[cfg(not(target_os = "linux"))]
pub fn settle() -> Settled {
    purge_freed_memory_at_once();
    Settled::default()
}

/// With no render node there is no GPU: WebKit would composite with Mesa's software GL
/// (llvmpipe), which costs the web process ~80 MB of buffers and draws no faster than painting
/// without compositing. None if there is a render node or the user chose already (either of
/// WebKit's two switches set).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn software_rendering_override(dri: &Path, is_set: impl Fn(&str) -> bool) -> Option<(&'static str, &'static str)> {
    const COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    const DMABUF: &str = "WEBKIT_DISABLE_DMABUF_RENDERER";
    if is_set(COMPOSITING) || is_set(DMABUF) {
        return None;
    }
    let has_render_node = std::fs::read_dir(dri).into_iter().flatten().flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD"));
    (!has_render_node).then_some((COMPOSITING, "1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_is_mimallocs_option_of_that_number() {
        // Nothing else in this test binary sets mimalloc's options.
        // SAFETY: mimalloc's option getters read a static table.
        let now = unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(now, MI_DEFAULT_PURGE_DELAY, "option {MI_OPTION_PURGE_DELAY} is not mimalloc v3's purge_delay");
        purge_freed_memory_at_once();
        assert_eq!(unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }, 0);
    }

    #[test]
    fn software_rendering_is_chosen_only_without_a_render_node_and_never_over_the_user() {
        let dri = tempfile::tempdir().unwrap();
        let unset = |_: &str| false;
        // A card without a render node (or no /dev/dri at all) is no GPU to draw with.
        std::fs::write(dri.path().join("card0"), "").unwrap();
        assert_eq!(software_rendering_override(dri.path(), unset), Some(("WEBKIT_DISABLE_COMPOSITING_MODE", "1")));
        assert_eq!(software_rendering_override(&dri.path().join("missing"), unset), Some(("WEBKIT_DISABLE_COMPOSITING_MODE", "1")));
        // The user's own choice stands, whichever switch it is.
        assert_eq!(software_rendering_override(dri.path(), |n| n == "WEBKIT_DISABLE_DMABUF_RENDERER"), None);
        assert_eq!(software_rendering_override(dri.path(), |n| n == "WEBKIT_DISABLE_COMPOSITING_MODE"), None);
        std::fs::write(dri.path().join("renderD128"), "").unwrap();
        assert_eq!(software_rendering_override(dri.path(), unset), None);
    }
}
