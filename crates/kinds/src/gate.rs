//! Keeps backups and cleanup sweeps of one destination apart: any number of backups may write to a destination
//! at once, or one sweep may delete from it, never both. A backup's chunks are in no manifest until it
//! completes, so a sweep running beside it would take them for garbage (and a backup that found a chunk
//! present, skipped writing it, and then lost it to a sweep would complete a set that cannot be restored).
//!
//! Every job of this process shares one gate (destinations are process-wide), so it is a static.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::Duration;

#[derive(Default)]
struct Users {
    backups: usize,
    sweeping: bool,
}

/// Who is using each destination.
pub struct DestinationGate {
    users: Mutex<HashMap<String, Users>>,
    changed: Condvar,
}

/// The process-wide gate.
pub fn destination_gate() -> &'static DestinationGate {
    static GATE: OnceLock<DestinationGate> = OnceLock::new();
    GATE.get_or_init(|| DestinationGate {
        users: Mutex::new(HashMap::new()),
        changed: Condvar::new(),
    })
}

fn key(dest: &str) -> String {
    dest.trim_end_matches('/').to_string()
}

/// A backup's or a sweep's use of a destination; dropping it lets the others in.
pub struct GateGuard {
    dest: String,
    sweep: bool,
}

impl Drop for GateGuard {
    fn drop(&mut self) {
        let gate = destination_gate();
        let mut users = gate.users.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(u) = users.get_mut(&self.dest) {
            if self.sweep {
                u.sweeping = false;
            } else {
                u.backups = u.backups.saturating_sub(1);
            }
            if u.backups == 0 && !u.sweeping {
                users.remove(&self.dest);
            }
        }
        gate.changed.notify_all();
    }
}

impl DestinationGate {
    /// Waits until no sweep runs on `dest`, then enters as a backup. `None` if `interrupted` said stop first.
    pub fn enter_backup(&self, dest: &str, interrupted: impl Fn() -> bool) -> Option<GateGuard> {
        self.enter(dest, false, interrupted)
    }

    /// Waits until nothing else uses `dest`, then enters as its one sweep. `None` if `interrupted` said stop first.
    pub fn enter_sweep(&self, dest: &str, interrupted: impl Fn() -> bool) -> Option<GateGuard> {
        self.enter(dest, true, interrupted)
    }

    /// Whether a backup or a sweep is using `dest` now.
    pub fn in_use(&self, dest: &str) -> bool {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users.contains_key(&key(dest))
    }

    fn enter(&self, dest: &str, sweep: bool, interrupted: impl Fn() -> bool) -> Option<GateGuard> {
        let dest = key(dest);
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if interrupted() {
                return None;
            }
            let u = users.entry(dest.clone()).or_default();
            let free = if sweep {
                u.backups == 0 && !u.sweeping
            } else {
                !u.sweeping
            };
            if free {
                if sweep {
                    u.sweeping = true;
                } else {
                    u.backups += 1;
                }
                return Some(GateGuard { dest, sweep });
            }
            // Woken when a user leaves; the timeout lets an interrupt be noticed.
            users = self
                .changed
                .wait_timeout(users, Duration::from_millis(20))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_share_sweeps_exclude() {
        let gate = destination_gate();
        let dest = "file:///gate/test/one";
        let a = gate.enter_backup(dest, || false).unwrap();
        let b = gate.enter_backup(&format!("{dest}/"), || false).unwrap();
        assert!(gate.enter_sweep(dest, || true).is_none());
        let waiting = std::thread::spawn(move || gate.enter_sweep(dest, || false).is_some());
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiting.is_finished(), "a sweep waits for the backups");
        drop(a);
        drop(b);
        assert!(waiting.join().unwrap());
        assert!(!gate.in_use(dest));
        let s = gate.enter_sweep(dest, || false).unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let t = scope.spawn(|| {
                gate.enter_backup(dest, || stop.load(std::sync::atomic::Ordering::Relaxed))
                    .is_none()
            });
            std::thread::sleep(Duration::from_millis(50));
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            assert!(t.join().unwrap(), "a waiting backup stops when interrupted");
        });
        drop(s);
        assert!(!gate.in_use(dest));
    }
}
