//! Bulk work at a lower CPU priority (nice 10): queries running beside a backup win the cores its threads would
//! take, while idle cores still go to the backup.

/// The nice value of bulk work's threads.
const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's priority for good (for threads that end with the work); never raises it.
pub(crate) fn run_in_background() {
    if thread_nice() < BACKGROUND_NICE {
        set_thread_nice(BACKGROUND_NICE);
    }
}

/// Lowers the calling thread's priority while it lives, but only if the process may give it back afterwards
/// (root, or RLIMIT_NICE): the thread belongs to the job system's pool and runs other jobs later.
pub(crate) struct BackgroundGuard(Option<i32>);

impl BackgroundGuard {
    /// Lowers the priority if it can be restored; otherwise leaves it.
    pub(crate) fn lower_if_reversible() -> Self {
        let before = thread_nice();
        if before < BACKGROUND_NICE && may_lower_nice_to(before) {
            set_thread_nice(BACKGROUND_NICE);
            Self(Some(before))
        } else {
            Self(None)
        }
    }
}

impl Drop for BackgroundGuard {
    fn drop(&mut self) {
        if let Some(before) = self.0 {
            set_thread_nice(before);
        }
    }
}

#[cfg(target_os = "linux")]
fn thread_nice() -> i32 {
    // SAFETY: getpriority on the calling thread's own id only reads it.
    unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
}

#[cfg(target_os = "linux")]
fn set_thread_nice(nice: i32) {
    // SAFETY: setpriority on the calling thread's own id only changes its scheduling weight.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, nice);
    }
}

/// Whether this process may set a thread's nice value down to `nice` again.
#[cfg(target_os = "linux")]
fn may_lower_nice_to(nice: i32) -> bool {
    // SAFETY: geteuid and getrlimit only read process attributes into a local.
    unsafe {
        let mut limit: libc::rlimit = std::mem::zeroed();
        libc::geteuid() == 0
            || (libc::getrlimit(libc::RLIMIT_NICE, &mut limit) == 0
                && 20 - (limit.rlim_cur.min(40) as i32) <= nice)
    }
}

#[cfg(not(target_os = "linux"))]
fn thread_nice() -> i32 {
    0
}

#[cfg(not(target_os = "linux"))]
fn set_thread_nice(_nice: i32) {}

#[cfg(not(target_os = "linux"))]
fn may_lower_nice_to(_nice: i32) -> bool {
    false
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_guard_gives_the_priority_back() {
        std::thread::spawn(|| {
            let before = thread_nice();
            {
                let guard = BackgroundGuard::lower_if_reversible();
                if guard.0.is_some() {
                    assert_eq!(thread_nice(), BACKGROUND_NICE);
                } else {
                    assert_eq!(thread_nice(), before);
                }
            }
            assert_eq!(thread_nice(), before);
            run_in_background();
            assert_eq!(thread_nice(), BACKGROUND_NICE.max(before));
        })
        .join()
        .unwrap();
    }
}
