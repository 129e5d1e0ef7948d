//! What a MySQL client proves in its login, and caching_sha2_password's in-memory cache.
//!
//! caching_sha2_password (MySQL 8's default) has two paths. Fast: the client's scramble of the connection's
//! nonce is checked against `SHA256(SHA256(password))` held in memory from an earlier login, as MySQL's cache
//! does. Full: the client sends its password, which needs TLS (MySQL's alternative, RSA-encrypting it to the
//! server's key, is not offered); it is checked against the stored salted, iterated verifier and fills the
//! cache. A plain connection whose user is not cached is switched to mysql_native_password instead, so the
//! password never crosses the wire in the clear.

use std::collections::HashMap;

use parking_lot::Mutex;
use tenantry_catalog::password::{
    sha2_digest, verify_native, verify_scram_plain, verify_sha2_scramble,
};
use tenantry_catalog::User;

/// Logins the cache holds at most; past that it starts over (a miss only costs a full authentication).
const MAX_CACHED: usize = 10_000;

/// What a client sent to prove its password.
pub(crate) enum Proof {
    /// A mysql_native_password response to the nonce (empty for an empty password).
    Native(Vec<u8>),
    /// A caching_sha2_password scramble that matched the cache entry made under this stored verifier.
    Cached {
        /// The user's verifier when the entry was made: a changed password changes it.
        verifier: String,
    },
    /// The password itself (caching_sha2_password's full authentication, over TLS only).
    Cleartext(String),
}

impl Proof {
    /// Whether a password was given (MySQL's `(using password: YES)`).
    pub(crate) fn using_password(&self) -> bool {
        match self {
            Self::Native(response) => !response.is_empty(),
            Self::Cached { .. } => true,
            Self::Cleartext(password) => !password.is_empty(),
        }
    }

    /// Checks the proof against the user's stored verifiers and this connection's nonce.
    pub(crate) fn verify(&self, user: &User, nonce: &[u8]) -> bool {
        match self {
            Self::Native(response) => verify_native(&user.native_hash, nonce, response),
            Self::Cached { verifier } => !verifier.is_empty() && *verifier == user.scram_verifier,
            Self::Cleartext(password) => verify_scram_plain(&user.scram_verifier, password),
        }
    }
}

/// One cached login: the verifier it was made under and `SHA256(SHA256(password))`.
struct Entry {
    verifier: String,
    digest: [u8; 32],
}

/// caching_sha2_password's cache, shared by the listener's connections, keyed by the login as sent.
#[derive(Default)]
pub(crate) struct Sha2Cache {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Sha2Cache {
    /// The verifier under which `login`'s cached digest matches `scramble` of `nonce`, if it does.
    pub(crate) fn fast(&self, login: &str, nonce: &[u8], scramble: &[u8]) -> Option<String> {
        let entries = self.entries.lock();
        let entry = entries.get(login)?;
        verify_sha2_scramble(&entry.digest, nonce, scramble).then(|| entry.verifier.clone())
    }

    /// Remembers a full authentication of `login` with `password` under its stored `verifier`.
    pub(crate) fn remember(&self, login: &str, verifier: &str, password: &str) {
        if verifier.is_empty() {
            return;
        }
        let mut entries = self.entries.lock();
        if entries.len() >= MAX_CACHED && !entries.contains_key(login) {
            entries.clear();
        }
        entries.insert(
            login.to_string(),
            Entry {
                verifier: verifier.to_string(),
                digest: sha2_digest(password),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_matches_only_its_password_and_nonce() {
        let cache = Sha2Cache::default();
        let nonce = b"abcdefghij0123456789";
        let scramble = mysql_common::scramble::scramble_sha256(nonce, b"pw").unwrap();
        assert_eq!(cache.fast("u@t", nonce, &scramble), None);
        cache.remember("u@t", "SCRAM-v1", "pw");
        assert_eq!(
            cache.fast("u@t", nonce, &scramble).as_deref(),
            Some("SCRAM-v1")
        );
        let wrong = mysql_common::scramble::scramble_sha256(nonce, b"other").unwrap();
        assert_eq!(cache.fast("u@t", nonce, &wrong), None);
        assert_eq!(cache.fast("v@t", nonce, &scramble), None);
        // Users without a password are never cached (they send no scramble).
        cache.remember("e@t", "", "");
        assert!(cache.entries.lock().get("e@t").is_none());
    }
}
