//! Credentials at rest: what the catalog stores for an `s3://` destination (the `DATA_BACKUP_DEST` parameter,
//! a job's payload) carries its secret sealed, as OceanBase stores `encrypt_key=<cipher>` instead of
//! `access_key=`. The key is 32 random bytes in `<data-dir>/secret.key` (owner-only), apart from the catalog
//! file, so a copy of `catalog.sqlite` alone (a support bundle, a stray backup of the file) does not give the
//! credentials away. Sealing is ChaCha20-Poly1305 (ring) with a random nonce per value; the value is bound to
//! what it is (`aad`), so a sealed token cannot be passed off as a sealed secret.

use std::path::Path;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

use crate::BackupError;

/// The file under the data directory that holds the key.
pub const SECRET_KEY_FILE: &str = "secret.key";

/// The key that seals stored credentials. Never printed.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(redacted)")
    }
}

fn io_err(path: &Path, e: std::io::Error) -> BackupError {
    BackupError::Destination(format!("secret key {}: {e}", path.display()))
}

impl SecretKey {
    /// A key from its bytes (tests, and [`SecretKey::load_or_create`]).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads `<data_dir>/secret.key`, making it (owner-only, written whole and synced, then renamed into
    /// place) on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, BackupError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let path = data_dir.join(SECRET_KEY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                    BackupError::Destination(format!(
                        "secret key {} is not 32 bytes",
                        path.display()
                    ))
                })?;
                return Ok(Self(key));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&path, e)),
        }
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| BackupError::Destination("no randomness for the secret key".into()))?;
        let partial = data_dir.join(format!("{SECRET_KEY_FILE}.partial"));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&partial)
            .map_err(|e| io_err(&partial, e))?;
        f.write_all(&key).map_err(|e| io_err(&partial, e))?;
        f.sync_all().map_err(|e| io_err(&partial, e))?;
        std::fs::rename(&partial, &path).map_err(|e| io_err(&path, e))?;
        if let Ok(dir) = std::fs::File::open(data_dir) {
            let _ = dir.sync_all();
        }
        Ok(Self(key))
    }

    fn key(&self) -> LessSafeKey {
        // 32 bytes is ChaCha20-Poly1305's key length: this cannot fail.
        LessSafeKey::new(
            UnboundKey::new(&CHACHA20_POLY1305, &self.0).unwrap_or_else(|_| unreachable!()),
        )
    }

    /// Seals `plain` as a URL-safe string (nonce, ciphertext, tag), bound to `what`.
    pub fn seal(&self, what: &str, plain: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        // The system's randomness does not fail on Linux; a zero nonce would still be sealed, never shown.
        let _ = SystemRandom::new().fill(&mut nonce);
        let mut data = plain.as_bytes().to_vec();
        // Sealing a buffer of any size below 2^38 bytes cannot fail.
        let _ = self.key().seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(what.as_bytes()),
            &mut data,
        );
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        hex_encode(&out)
    }

    /// Opens what [`SecretKey::seal`] made for `what`; `None` if it was made with another key, for another
    /// `what`, or changed.
    pub fn open(&self, what: &str, sealed: &str) -> Option<String> {
        let bytes = hex_decode(sealed)?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut data = rest.to_vec();
        let plain = self
            .key()
            .open_in_place(nonce, Aad::from(what.as_bytes()), &mut data)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 8192 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_purpose() {
        let k = SecretKey::from_bytes([7; 32]);
        let sealed = k.seal("secret", "Sup3r+Secret");
        assert!(!sealed.contains("Sup3r"));
        assert_ne!(
            sealed,
            k.seal("secret", "Sup3r+Secret"),
            "a fresh nonce each time"
        );
        assert_eq!(k.open("secret", &sealed).as_deref(), Some("Sup3r+Secret"));
        assert_eq!(k.open("token", &sealed), None);
        assert_eq!(SecretKey::from_bytes([8; 32]).open("secret", &sealed), None);
        assert_eq!(k.open("secret", "zz"), None);
        assert!(!format!("{k:?}").contains('7'));
    }

    #[test]
    fn the_key_file_is_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = SecretKey::load_or_create(dir.path()).unwrap();
        let b = SecretKey::load_or_create(dir.path()).unwrap();
        assert_eq!(a.0, b.0);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(SECRET_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
