//! Password hashing and verification for both wire protocols.
//!
//! Two verifiers are derived when a password is set, and the password itself is never stored:
//! - MySQL's `mysql_native_password`: `SHA1(SHA1(password))`, shown as `*HEX` like MySQL's
//!   `authentication_string`. The client proves knowledge with a scramble salted per connection.
//! - PostgreSQL's SCRAM-SHA-256 verifier (`SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>`),
//!   salted with 16 random bytes per password.
//!
//! MySQL's `caching_sha2_password` needs no verifier of its own: its full authentication (over TLS) sends the
//! password, which is checked against the salted, iterated SCRAM verifier ([`verify_scram_plain`]); its fast
//! authentication checks a scramble against `SHA256(SHA256(password))` ([`verify_sha2_scramble`]), which the
//! MySQL front end keeps in memory only, after a full authentication, as MySQL does.
//!
//! An empty password stores empty verifiers: such a user logs in without a challenge, as root@sys does on
//! first start (OceanBase's default).

use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::{Digest, Sha1};
use sha2::Sha256;

const SCRAM_ITERATIONS: u32 = 4096;

/// The stored verifiers of one password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    /// `*` + upper-case hex of SHA1(SHA1(password)), or empty for an empty password.
    pub native: String,
    /// The SCRAM-SHA-256 verifier, or empty for an empty password.
    pub scram: String,
}

impl PasswordHash {
    /// Derives both verifiers of `password` (with a fresh random SCRAM salt).
    pub fn new(password: &str) -> Self {
        if password.is_empty() {
            return Self {
                native: String::new(),
                scram: String::new(),
            };
        }
        let stage2 = Sha1::digest(Sha1::digest(password.as_bytes()));
        let mut salt = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut salt);
        Self {
            native: format!("*{}", hex::encode_upper(stage2)),
            scram: scram_verifier(password, &salt, SCRAM_ITERATIONS),
        }
    }
}

/// Checks a `mysql_native_password` response against the stored `*HEX` hash and this connection's scramble.
///
/// The client sends `SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw)))`; XOR-ing back with the second term
/// gives a candidate `SHA1(pw)` whose SHA1 must equal the stored hash.
pub fn verify_native(stored: &str, scramble: &[u8], response: &[u8]) -> bool {
    if stored.is_empty() {
        return response.is_empty();
    }
    let Some(stage2) = stored.strip_prefix('*').and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    if response.len() != 20 || stage2.len() != 20 {
        return false;
    }
    let mut hasher = Sha1::new();
    hasher.update(scramble);
    hasher.update(&stage2);
    let mask = hasher.finalize();
    let stage1: Vec<u8> = response
        .iter()
        .zip(mask.iter())
        .map(|(a, b)| a ^ b)
        .collect();
    let candidate = Sha1::digest(&stage1);
    constant_time_eq(candidate.as_slice(), &stage2)
}

/// Checks a password sent in clear (over HTTP on loopback, or TLS in front) against the stored `*HEX` hash.
pub fn verify_plain(stored: &str, password: &str) -> bool {
    if stored.is_empty() || password.is_empty() {
        return stored.is_empty() && password.is_empty();
    }
    let candidate = format!(
        "*{}",
        hex::encode_upper(Sha1::digest(Sha1::digest(password.as_bytes())))
    );
    constant_time_eq(candidate.as_bytes(), stored.as_bytes())
}

/// Checks a password sent in clear (caching_sha2_password's full authentication, over TLS) against the
/// stored SCRAM-SHA-256 verifier: PBKDF2 with the verifier's salt and iterations, then its StoredKey.
pub fn verify_scram_plain(stored: &str, password: &str) -> bool {
    if stored.is_empty() || password.is_empty() {
        return stored.is_empty() && password.is_empty();
    }
    let Some(v) = ScramVerifier::parse(stored) else {
        return false;
    };
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &v.salt, v.iterations, &mut salted);
    let stored_key = Sha256::digest(hmac(&salted, b"Client Key"));
    constant_time_eq(stored_key.as_slice(), &v.stored_key)
}

/// `SHA256(SHA256(password))`: what caching_sha2_password's fast authentication checks a scramble against.
pub fn sha2_digest(password: &str) -> [u8; 32] {
    Sha256::digest(Sha256::digest(password.as_bytes())).into()
}

/// Checks a caching_sha2_password scramble against `SHA256(SHA256(password))` and the connection's nonce.
///
/// The client sends `SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + nonce)`; XOR-ing back with the second term
/// gives a candidate `SHA256(pw)` whose SHA256 must equal the digest.
pub fn verify_sha2_scramble(digest: &[u8; 32], nonce: &[u8], scramble: &[u8]) -> bool {
    if scramble.len() != 32 {
        return false;
    }
    let mut hasher = Sha256::new();
    hasher.update(digest);
    hasher.update(nonce);
    let mask = hasher.finalize();
    let stage1: Vec<u8> = scramble
        .iter()
        .zip(mask.iter())
        .map(|(a, b)| a ^ b)
        .collect();
    constant_time_eq(Sha256::digest(&stage1).as_slice(), digest)
}

/// The parts of a SCRAM-SHA-256 verifier, for the PostgreSQL front end's authentication exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// The salt.
    pub salt: Vec<u8>,
    /// StoredKey = SHA256(HMAC(SaltedPassword, "Client Key")).
    pub stored_key: Vec<u8>,
    /// ServerKey = HMAC(SaltedPassword, "Server Key").
    pub server_key: Vec<u8>,
}

impl ScramVerifier {
    /// Parses the stored text form; `None` for an empty or malformed verifier.
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("SCRAM-SHA-256$")?;
        let (iter_salt, keys) = rest.split_once('$')?;
        let (iterations, salt) = iter_salt.split_once(':')?;
        let (stored, server) = keys.split_once(':')?;
        let b64 = base64::engine::general_purpose::STANDARD;
        Some(Self {
            iterations: iterations.parse().ok()?,
            salt: b64.decode(salt).ok()?,
            stored_key: b64.decode(stored).ok()?,
            server_key: b64.decode(server).ok()?,
        })
    }
}

fn scram_verifier(password: &str, salt: &[u8], iterations: u32) -> String {
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut salted);
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(client_key);
    let server_key = hmac(&salted, b"Server Key");
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        "SCRAM-SHA-256${iterations}:{}${}:{}",
        b64.encode(salt),
        b64.encode(stored_key),
        b64.encode(server_key)
    )
}

fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_passwords_check_against_the_native_hash() {
        let h = PasswordHash::new("s3cret");
        assert!(verify_plain(&h.native, "s3cret"));
        assert!(!verify_plain(&h.native, "s3cret!"));
        assert!(!verify_plain(&h.native, ""));
        assert!(verify_plain("", ""));
        assert!(!verify_plain("", "x"));
    }

    fn client_response(password: &str, scramble: &[u8]) -> Vec<u8> {
        let stage1 = Sha1::digest(password.as_bytes());
        let stage2 = Sha1::digest(stage1);
        let mut h = Sha1::new();
        h.update(scramble);
        h.update(stage2);
        let mask = h.finalize();
        stage1.iter().zip(mask.iter()).map(|(a, b)| a ^ b).collect()
    }

    #[test]
    fn native_password_round_trip() {
        let hash = PasswordHash::new("s3cret");
        assert!(hash.native.starts_with('*'));
        assert!(!hash.native.contains("s3cret"));
        let scramble = b"abcdefghij0123456789";
        assert!(verify_native(
            &hash.native,
            scramble,
            &client_response("s3cret", scramble)
        ));
        assert!(!verify_native(
            &hash.native,
            scramble,
            &client_response("wrong", scramble)
        ));
        assert!(!verify_native(&hash.native, scramble, b""));
        let other = b"ABCDEFGHIJ0123456789";
        assert!(!verify_native(
            &hash.native,
            other,
            &client_response("s3cret", scramble)
        ));
    }

    #[test]
    fn empty_password_needs_empty_response() {
        let hash = PasswordHash::new("");
        assert!(verify_native(&hash.native, b"x", b""));
        assert!(!verify_native(&hash.native, b"x", &[1; 20]));
    }

    #[test]
    fn known_mysql_hash() {
        // MySQL: SELECT PASSWORD('password') = *2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19
        assert_eq!(
            PasswordHash::new("password").native,
            "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
        );
    }

    #[test]
    fn plain_passwords_check_against_the_scram_verifier() {
        let h = PasswordHash::new("s3cret");
        assert!(verify_scram_plain(&h.scram, "s3cret"));
        assert!(!verify_scram_plain(&h.scram, "s3cret!"));
        assert!(!verify_scram_plain(&h.scram, ""));
        assert!(verify_scram_plain("", ""));
        assert!(!verify_scram_plain("", "x"));
        assert!(!verify_scram_plain("garbage", "x"));
    }

    /// The client's side, as MySQL's `generate_sha2_scramble` computes it.
    fn sha2_scramble(password: &str, nonce: &[u8]) -> Vec<u8> {
        let stage1 = Sha256::digest(password.as_bytes());
        let stage2 = Sha256::digest(stage1);
        let mut h = Sha256::new();
        h.update(stage2);
        h.update(nonce);
        let mask = h.finalize();
        stage1.iter().zip(mask.iter()).map(|(a, b)| a ^ b).collect()
    }

    #[test]
    fn sha2_scramble_round_trip() {
        let digest = sha2_digest("s3cret");
        let nonce = b"abcdefghij0123456789";
        assert!(verify_sha2_scramble(
            &digest,
            nonce,
            &sha2_scramble("s3cret", nonce)
        ));
        assert!(!verify_sha2_scramble(
            &digest,
            nonce,
            &sha2_scramble("wrong", nonce)
        ));
        assert!(!verify_sha2_scramble(
            &digest,
            b"ABCDEFGHIJ0123456789",
            &sha2_scramble("s3cret", nonce)
        ));
        assert!(!verify_sha2_scramble(&digest, nonce, b""));
    }

    #[test]
    fn scram_verifier_parses_and_salts_randomly() {
        let a = PasswordHash::new("pw");
        let b = PasswordHash::new("pw");
        assert_ne!(a.scram, b.scram);
        let v = ScramVerifier::parse(&a.scram).unwrap();
        assert_eq!(v.iterations, SCRAM_ITERATIONS);
        assert_eq!(v.salt.len(), 16);
        assert_eq!(v.stored_key.len(), 32);
    }
}
