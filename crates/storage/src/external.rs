//! The external-IO directory: the one place where `file://` and `nodelocal://` locations (backup destinations,
//! import sources) and server-side `LOAD DATA INFILE` paths may lie, as CockroachDB's `--external-io-dir` and
//! MySQL's `secure_file_priv`. Each user tenant is confined to its own subtree `<dir>/<tenant>/` (its name in
//! lower case); the sys tenant may use all of it.
//!
//! A location is resolved the way the kernel would follow it: `.` is dropped, every existing component is
//! looked up and symbolic links are followed to where they really point, and `..` goes to the physical parent
//! of what was resolved so far. Only the resolved path is compared with the scope's directory, so `..`, `.`,
//! doubled slashes and links can never lead outside it. Components that do not exist yet (a destination about
//! to be created) are taken as written; `..` after one is refused, since it could not be followed.

use std::fs::File;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::error::StorageError;

/// Whose part of the external-IO directory a location is resolved in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalScope<'a> {
    /// The sys tenant: all of the directory.
    All,
    /// A user tenant, by name: its own subtree.
    Tenant(&'a str),
}

/// Why a location cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ExternalPathError {
    /// Not a form of location the server reads or writes.
    #[error("unsupported location '{0}' (use file:///path or nodelocal://1/path inside the external-IO directory)")]
    Unsupported(String),
    /// It resolves (after `.`, `..` and links) outside what the scope may use.
    #[error("'{0}' is outside the external-IO directory")]
    Outside(String),
    /// The file system failed while resolving it (a component that is a file, no permission).
    #[error("resolving '{name}': {source}")]
    Io {
        /// The location as given.
        name: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The external-IO directory (its canonical path). Cheap to clone.
#[derive(Debug, Clone)]
pub struct ExternalDir {
    root: Arc<PathBuf>,
}

/// The directory a tenant's scope maps to, under `root`.
fn tenant_dir(root: &Path, tenant: &str) -> PathBuf {
    root.join(tenant.to_ascii_lowercase())
}

impl ExternalDir {
    /// Opens (creating, owner-only) the external-IO directory `dir`. It may not hold the data directory
    /// `data_dir`, nor lie inside the parts of it that hold tenant data: a location inside it would reach the
    /// server's own files.
    pub fn open(dir: &Path, data_dir: &Path) -> Result<Self, StorageError> {
        let io = |op, path: &Path| {
            let path = path.to_path_buf();
            move |source| StorageError::Io { op, path, source }
        };
        create_private_dir(dir).map_err(io("create directory", dir))?;
        let root = dir.canonicalize().map_err(io("resolve", dir))?;
        let data = data_dir.canonicalize().map_err(io("resolve", data_dir))?;
        let bad = |reason: &str| StorageError::ExternalDir {
            path: root.clone(),
            reason: reason.to_string(),
        };
        if data.starts_with(&root) {
            return Err(bad("it holds the data directory"));
        }
        if let Ok(inside) = root.strip_prefix(&data) {
            let first = inside
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
                .unwrap_or("");
            if first == "tenants" || first == "snapshots" || first.starts_with("catalog.sqlite") {
                return Err(bad("it is inside the data directory's tenant files"));
            }
        }
        Ok(Self {
            root: Arc::new(root),
        })
    }

    /// The directory's canonical path.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory a scope may use: all of it, or the tenant's subtree (which need not exist).
    pub fn scope_dir(&self, scope: ExternalScope<'_>) -> PathBuf {
        match scope {
            ExternalScope::All => self.root.to_path_buf(),
            ExternalScope::Tenant(name) => tenant_dir(&self.root, name),
        }
    }

    /// Resolves a location inside the scope: `file:///abs/path`, `nodelocal://<node>/path` (relative to the
    /// scope's directory, as CockroachDB's nodelocal is to its external-IO directory), an absolute path, or a
    /// relative one (to the scope's directory, as `LOAD DATA INFILE 'x.csv'`). Returns the resolved path, which
    /// may not exist yet. Blocking (it looks at the file system).
    pub fn resolve(
        &self,
        scope: ExternalScope<'_>,
        name: &str,
    ) -> Result<PathBuf, ExternalPathError> {
        let base = self.scope_dir(scope);
        let written = written_path(&base, name)?;
        let resolved = follow(&written, name, &base)?;
        if !resolved.starts_with(&base) {
            return Err(ExternalPathError::Outside(name.to_string()));
        }
        Ok(resolved)
    }

    /// Checks that an opened file really lies inside the scope, by where the kernel says its descriptor points:
    /// a link swapped in between [`ExternalDir::resolve`] and the open would show here.
    pub fn check_opened(
        &self,
        scope: ExternalScope<'_>,
        file: &File,
        name: &str,
    ) -> Result<(), ExternalPathError> {
        use std::os::fd::AsRawFd;
        let real = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).map_err(
            |source| ExternalPathError::Io {
                name: name.to_string(),
                source,
            },
        )?;
        if real.starts_with(self.scope_dir(scope)) {
            Ok(())
        } else {
            Err(ExternalPathError::Outside(name.to_string()))
        }
    }

    /// Creates a resolved directory (and its missing parents) owner-only. Call only after every check passed.
    pub fn create_dir(&self, path: &Path) -> std::io::Result<()> {
        create_private_dir(path)
    }
}

/// `mkdir -p` with mode 0700 for what it creates.
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
}

/// The path a location names, before anything is resolved.
fn written_path(base: &Path, name: &str) -> Result<PathBuf, ExternalPathError> {
    let unsupported = || ExternalPathError::Unsupported(name.to_string());
    if name.is_empty() || name.contains('\0') {
        return Err(unsupported());
    }
    if let Some(rest) = name.strip_prefix("nodelocal://") {
        // The node id (`1`, `self`) picks the node; there is one.
        let (_node, path) = rest.split_once('/').unwrap_or((rest, ""));
        if path.contains(['?', '#']) {
            return Err(unsupported());
        }
        return Ok(base.join(path.trim_start_matches('/')));
    }
    if name.starts_with("file:") {
        // Parsed by hand: a URL parser resolves `.` and `..` textually (and treats `//` as a segment), where
        // the path must mean what the kernel makes of it.
        let rest = name.strip_prefix("file://").ok_or_else(unsupported)?;
        let path = match rest.strip_prefix("localhost") {
            Some(p) if p.starts_with('/') => p,
            _ if rest.starts_with('/') => rest,
            _ => return Err(unsupported()),
        };
        // A query or fragment would make two spellings of one place (`file:///a?x` is `/a`).
        if path.contains(['?', '#']) {
            return Err(unsupported());
        }
        use std::os::unix::ffi::OsStringExt;
        let bytes: Vec<u8> = percent_encoding::percent_decode_str(path).collect();
        if bytes.contains(&0) {
            return Err(unsupported());
        }
        return Ok(PathBuf::from(std::ffi::OsString::from_vec(bytes)));
    }
    if name.starts_with('/') {
        return Ok(PathBuf::from(name));
    }
    if name.contains("://") {
        return Err(unsupported());
    }
    Ok(base.join(name))
}

/// Resolves an absolute path as the kernel would follow it (see the module's comment). A failure met while
/// the path resolved so far lies outside `scope` is reported as [`ExternalPathError::Outside`], whatever it
/// was: otherwise the answer would tell whether something outside exists.
fn follow(path: &Path, name: &str, scope: &Path) -> Result<PathBuf, ExternalPathError> {
    let mut out = PathBuf::from("/");
    let result = walk(path, name, &mut out);
    match result {
        Err(_) if !out.starts_with(scope) => Err(ExternalPathError::Outside(name.to_string())),
        r => r,
    }
}

fn walk(path: &Path, name: &str, out: &mut PathBuf) -> Result<PathBuf, ExternalPathError> {
    let io = |source| ExternalPathError::Io {
        name: name.to_string(),
        source,
    };
    let mut missing = false;
    for component in path.components() {
        match component {
            Component::Prefix(_) => return Err(ExternalPathError::Unsupported(name.to_string())),
            Component::RootDir => *out = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                if missing {
                    return Err(io(std::io::Error::from(std::io::ErrorKind::NotFound)));
                }
                if !out.is_dir() {
                    return Err(io(std::io::Error::from(std::io::ErrorKind::NotADirectory)));
                }
                // `out` is resolved, so its parent is the physical one.
                out.pop();
            }
            Component::Normal(part) => {
                out.push(part);
                if missing {
                    continue;
                }
                match std::fs::symlink_metadata(&*out) {
                    Ok(m) if m.file_type().is_symlink() => {
                        // A dangling link could be made to point anywhere later: refuse it.
                        *out = out
                            .canonicalize()
                            .map_err(|_| ExternalPathError::Outside(name.to_string()))?;
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => missing = true,
                    Err(e) => return Err(io(e)),
                }
            }
        }
    }
    Ok(out.clone())
}

/// A location as a `file://` URI, encoded so that parsing it gives `path` back.
pub fn file_uri(path: &Path) -> String {
    url::Url::from_file_path(path)
        .map(String::from)
        .unwrap_or_else(|_| format!("file://{}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> (tempfile::TempDir, ExternalDir) {
        let data = tempfile::tempdir().unwrap();
        let ext = ExternalDir::open(&data.path().join("extern"), data.path()).unwrap();
        std::fs::create_dir_all(ext.root().join("t1/in")).unwrap();
        std::fs::create_dir_all(ext.root().join("t2")).unwrap();
        std::fs::write(ext.root().join("t1/in/a.csv"), "1\n").unwrap();
        std::fs::write(ext.root().join("t2/secret.csv"), "2\n").unwrap();
        (data, ext)
    }

    #[test]
    fn forms_resolve_inside_the_scope() {
        let (_d, ext) = fixture();
        let t1 = ExternalScope::Tenant("T1");
        let a = ext.root().join("t1/in/a.csv");
        for name in [
            format!("file://{}", a.display()),
            a.display().to_string(),
            "in/a.csv".to_string(),
            "./in//a.csv".to_string(),
            "nodelocal://1/in/a.csv".to_string(),
            "nodelocal://self//in/./a.csv".to_string(),
            format!("{}/t1/in/../in/a.csv", ext.root().display()),
        ] {
            assert_eq!(ext.resolve(t1, &name).unwrap(), a, "{name}");
        }
        // Not there yet is fine (a destination to create).
        assert_eq!(
            ext.resolve(t1, "nodelocal://1/bk/new").unwrap(),
            ext.root().join("t1/bk/new")
        );
        assert_eq!(
            ext.resolve(ExternalScope::All, "nodelocal://1/t2/secret.csv")
                .unwrap(),
            ext.root().join("t2/secret.csv")
        );
    }

    #[test]
    fn escapes_are_refused() {
        let (_d, ext) = fixture();
        let t1 = ExternalScope::Tenant("t1");
        let root = ext.root().display().to_string();
        std::os::unix::fs::symlink(ext.root().join("t2"), ext.root().join("t1/to_t2")).unwrap();
        std::os::unix::fs::symlink("/etc", ext.root().join("t1/etc")).unwrap();
        std::os::unix::fs::symlink("/nowhere/at/all", ext.root().join("t1/dangling")).unwrap();
        for name in [
            "/etc/passwd".to_string(),
            "file:///etc/passwd".to_string(),
            "../t2/secret.csv".to_string(),
            "nodelocal://1/../t2/secret.csv".to_string(),
            format!("{root}/t2/secret.csv"),
            format!("{root}/t1/../t2/secret.csv"),
            format!("file://{root}/t1/./../t2"),
            "to_t2/secret.csv".to_string(),
            "etc/passwd".to_string(),
            "dangling/x".to_string(),
            format!("{root}/t1x/a"),
            root.clone(),
        ] {
            assert!(
                matches!(ext.resolve(t1, &name), Err(ExternalPathError::Outside(_))),
                "{name}: {:?}",
                ext.resolve(t1, &name)
            );
        }
        for name in [
            "s3://bucket/x",
            "file:///x?y=1",
            "nodelocal://1/x#frag",
            "",
            "http://x/y",
        ] {
            assert!(
                matches!(
                    ext.resolve(t1, name),
                    Err(ExternalPathError::Unsupported(_))
                ),
                "{name}"
            );
        }
        // `..` below something that does not exist cannot be followed.
        assert!(ext.resolve(t1, "nope/../in/a.csv").is_err());
        // Nothing outside answers differently for being there or not (no existence probe).
        for name in [
            "/etc/../etc/passwd",
            "/no/such/dir/../../etc",
            "/etc/passwd/../x",
            "/root/../no_such",
            "etc/../../t2/secret.csv",
        ] {
            assert!(
                matches!(ext.resolve(t1, name), Err(ExternalPathError::Outside(_))),
                "{name}: {:?}",
                ext.resolve(t1, name)
            );
        }
        // sys may use the whole directory, not more.
        assert!(ext.resolve(ExternalScope::All, "/etc/passwd").is_err());
        assert!(ext
            .resolve(ExternalScope::All, "t1/to_t2/secret.csv")
            .is_ok());
    }

    #[test]
    fn opened_files_are_checked_where_they_really_are() {
        let (_d, ext) = fixture();
        let inside = File::open(ext.root().join("t1/in/a.csv")).unwrap();
        assert!(ext
            .check_opened(ExternalScope::Tenant("t1"), &inside, "a")
            .is_ok());
        let other = File::open(ext.root().join("t2/secret.csv")).unwrap();
        assert!(ext
            .check_opened(ExternalScope::Tenant("t1"), &other, "b")
            .is_err());
    }

    #[test]
    fn the_directory_may_not_overlap_tenant_data() {
        let data = tempfile::tempdir().unwrap();
        assert!(ExternalDir::open(data.path(), data.path()).is_err());
        assert!(ExternalDir::open(&data.path().join("tenants/x"), data.path()).is_err());
        let inner = data.path().join("inner");
        std::fs::create_dir_all(&inner).unwrap();
        assert!(ExternalDir::open(data.path(), &inner).is_err());
        assert!(ExternalDir::open(&data.path().join("extern"), data.path()).is_ok());
        let made = std::fs::metadata(data.path().join("extern")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(made.permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn file_uris_round_trip() {
        let p = Path::new("/x/a b/100%/é/?#");
        let uri = file_uri(p);
        assert_eq!(written_path(Path::new("/"), &uri).unwrap(), p);
        assert_eq!(url::Url::parse(&uri).unwrap().to_file_path().unwrap(), p);
        // `..` and `//` keep the kernel's meaning, not a URL's.
        assert_eq!(
            written_path(Path::new("/"), "file:///a//b/./../c").unwrap(),
            Path::new("/a//b/./../c")
        );
        assert_eq!(
            written_path(Path::new("/"), "file://localhost/a").unwrap(),
            Path::new("/a")
        );
        for bad in ["file://host/a", "file:/a", "file:///a%00b", "file:///a?b"] {
            assert!(written_path(Path::new("/"), bad).is_err(), "{bad}");
        }
    }
}
