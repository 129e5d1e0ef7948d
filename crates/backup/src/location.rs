//! Where a destination is: a local directory (`file://`, confined to the external-IO directory by the caller) or
//! a bucket and prefix on an S3-compatible store (`s3://`).
//!
//! Two spellings of an S3 location are accepted, as the two dialects write them:
//! - OceanBase's `s3://bucket/path?host=<endpoint>&access_id=<ak>&access_key=<sk>[&s3_region=<region>]`
//!   (`addressing_model=virtual_hosted_style|path_style`, `checksum_type=md5|crc32`, `delete_mode=delete` too);
//! - CockroachDB's `s3://bucket/path?AWS_ACCESS_KEY_ID=<ak>&AWS_SECRET_ACCESS_KEY=<sk>[&AWS_SESSION_TOKEN=..]
//!   [&AWS_ENDPOINT=<url>][&AWS_REGION=<region>][&AWS_USE_PATH_STYLE=true][&AUTH=specified]`.
//!
//! The secret (and a session token) never leave this module in clear except towards the S3 client and the
//! stored form: [`S3Location::display`] is what views, job descriptions, logs and errors show (OceanBase's
//! `path?host=endpoint`, CockroachDB's `AWS_SECRET_ACCESS_KEY=redacted`), and `Debug` prints the same.

use std::fmt;
use std::path::PathBuf;

/// Which dialect's spelling an S3 location is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriForm {
    /// OceanBase's `host=`, `access_id=`, `access_key=`, `s3_region=`.
    OceanBase,
    /// CockroachDB's `AWS_ACCESS_KEY_ID=`, `AWS_SECRET_ACCESS_KEY=`, `AWS_ENDPOINT=`, `AWS_REGION=`.
    Cockroach,
}

/// Why an `s3://` URI cannot be used, in the words of the dialect that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3UriError {
    /// Not a URI at all, or not `s3://`.
    #[error("invalid s3 URI: {0}")]
    Malformed(String),
    /// `s3://` without a bucket (CockroachDB's text).
    #[error("empty host component; s3 URI must specify a target bucket")]
    NoBucket,
    /// Parameters neither dialect knows (CockroachDB's text; OceanBase's the same list).
    #[error("unknown S3 query parameters: {0}")]
    UnknownParameters(String),
    /// OceanBase's and CockroachDB's parameters mixed in one URI.
    #[error("s3 URI mixes OceanBase parameters (host, access_id, access_key) with CockroachDB's (AWS_*): {0}")]
    MixedForms(String),
    /// A required parameter is missing (CockroachDB: `AUTH is set to 'specified', but X is not set`;
    /// OceanBase: host, access_id and access_key are all required).
    #[error("{0}")]
    Missing(String),
    /// A parameter with a value it cannot take.
    #[error("invalid value for {name}: {reason}")]
    BadValue {
        /// The parameter.
        name: String,
        /// Why.
        reason: String,
    },
    /// The endpoint is not an http(s) URL with a host (OceanBase's -9118).
    #[error("object storage endpoint is invalid: {0}")]
    BadEndpoint(String),
    /// `s3_region` names another region than an AWS endpoint does (OceanBase's -9117).
    #[error("the specified s3_region does not match the endpoint")]
    RegionMismatch,
    /// The storage info part is longer than OceanBase allows (1,600 characters).
    #[error("storage info is longer than {max} characters", max = MAX_STORAGE_INFO)]
    TooLong,
}

/// OceanBase's bound on the part of a destination after `?`.
const MAX_STORAGE_INFO: usize = 1600;

/// What a secret prints as wherever it could be seen (CockroachDB's word).
pub const REDACTED: &str = "redacted";

/// A credential: compared and cloned as a string, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The credential itself, for the S3 client and the stored form only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// A bucket and prefix on an S3-compatible store, with the credentials to use it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Location {
    /// The spelling it was written in (kept for the stored and displayed forms).
    pub form: UriForm,
    /// The bucket.
    pub bucket: String,
    /// The path inside the bucket, without leading or trailing `/` (empty: the bucket's top).
    pub prefix: String,
    /// The endpoint as written (`host=` or `AWS_ENDPOINT=`), if any.
    pub endpoint_as_written: Option<String>,
    /// The endpoint URL requests go to (`None`: AWS's own for the region).
    pub endpoint: Option<String>,
    /// The region (`us-east-1` unless given or implied by an AWS endpoint).
    pub region: String,
    /// Whether the region was given (so the stored form keeps exactly what was written).
    region_given: bool,
    /// The access key id (not a secret: CockroachDB shows it).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret,
    /// A session token (CockroachDB's AWS_SESSION_TOKEN).
    pub session_token: Option<Secret>,
    /// Virtual-hosted-style requests (`bucket.host`) instead of path-style (`host/bucket`).
    pub virtual_hosted: bool,
    /// Parameters kept as written in the stored form that change nothing here (OceanBase's checksum_type,
    /// delete_mode; CockroachDB's AUTH=specified).
    extra: Vec<(String, String)>,
}

impl fmt::Debug for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

/// OceanBase's parameter names.
const OB_KEYS: &[&str] = &[
    "host",
    "access_id",
    "access_key",
    "s3_region",
    "addressing_model",
    "checksum_type",
    "delete_mode",
];
/// CockroachDB's parameter names.
const CRDB_KEYS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_ENDPOINT",
    "AWS_REGION",
    "AWS_USE_PATH_STYLE",
    "AUTH",
];

/// Whether `uri` names an S3 location (`s3://`, any case).
pub fn is_s3_uri(uri: &str) -> bool {
    uri.trim()
        .get(..5)
        .is_some_and(|p| p.eq_ignore_ascii_case("s3://"))
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
fn encode(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes())
        .collect::<String>()
        // form encoding writes spaces as `+`; a value never holds one after parsing, but be exact.
        .replace('+', "%20")
}

/// An endpoint as written (`s3.us-west-2.amazonaws.com`, `https://storage.googleapis.com`,
/// `http://127.0.0.1:9000`) as a URL, https unless a scheme is given.
fn endpoint_url(written: &str) -> Result<url::Url, S3UriError> {
    let bad = || S3UriError::BadEndpoint(written.to_string());
    let with_scheme = if written.contains("://") {
        written.to_string()
    } else {
        format!("https://{written}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none_or(str::is_empty)
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
        || !matches!(url.path(), "" | "/")
    {
        return Err(bad());
    }
    Ok(url)
}

/// The region an AWS endpoint (`s3.<region>.amazonaws.com`, `s3-<region>.amazonaws.com`) implies.
fn aws_region_of(host: &str) -> Option<String> {
    let rest = host.strip_suffix(".amazonaws.com")?;
    let region = rest
        .strip_prefix("s3.")
        .or_else(|| rest.strip_prefix("s3-"))?;
    let region = region.strip_prefix("dualstack.").unwrap_or(region);
    (!region.is_empty() && !region.contains('.')).then(|| region.to_string())
}

fn parse_bool(name: &str, v: &str) -> Result<bool, S3UriError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(S3UriError::BadValue {
            name: name.to_string(),
            reason: format!("'{v}' is not true or false"),
        }),
    }
}

impl S3Location {
    /// Parses an `s3://` URI in either dialect's spelling (see the module); `hint` is the form a URI without
    /// any parameter is judged by (its error names that dialect's parameters).
    pub fn parse(uri: &str, hint: UriForm) -> Result<Self, S3UriError> {
        let uri = uri.trim();
        if !is_s3_uri(uri) {
            return Err(S3UriError::Malformed("expected s3://bucket/path".into()));
        }
        if let Some((_, query)) = uri.split_once('?') {
            if query.len() > MAX_STORAGE_INFO {
                return Err(S3UriError::TooLong);
            }
        }
        let url = url::Url::parse(uri).map_err(|e| S3UriError::Malformed(e.to_string()))?;
        let bucket = url.host_str().unwrap_or("").to_string();
        if bucket.is_empty() {
            return Err(S3UriError::NoBucket);
        }
        if bucket.contains('%') || !url.username().is_empty() || url.password().is_some() {
            return Err(S3UriError::Malformed(
                "the bucket must be a plain name".into(),
            ));
        }
        let prefix = percent_decode(url.path().trim_matches('/'))?;
        if prefix
            .split('/')
            .any(|s| s.is_empty() && !prefix.is_empty())
            || prefix.split('/').any(|s| s == "." || s == "..")
        {
            return Err(S3UriError::Malformed(
                "the path may not hold empty, `.` or `..` segments".into(),
            ));
        }

        let mut params: Vec<(String, String)> = Vec::new();
        let mut unknown = Vec::new();
        for (k, v) in url.query_pairs() {
            let (k, v) = (k.into_owned(), v.into_owned());
            if !OB_KEYS.contains(&k.as_str()) && !CRDB_KEYS.contains(&k.as_str()) {
                unknown.push(k);
                continue;
            }
            if params.iter().any(|(seen, _)| *seen == k) {
                return Err(S3UriError::BadValue {
                    name: k,
                    reason: "given twice".into(),
                });
            }
            params.push((k, v));
        }
        if !unknown.is_empty() {
            unknown.sort();
            return Err(S3UriError::UnknownParameters(unknown.join(", ")));
        }
        let ob: Vec<&str> = params
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| OB_KEYS.contains(k))
            .collect();
        let crdb: Vec<&str> = params
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| CRDB_KEYS.contains(k))
            .collect();
        let form = match (ob.is_empty(), crdb.is_empty()) {
            (false, false) => return Err(S3UriError::MixedForms(ob.join(", "))),
            (false, true) => UriForm::OceanBase,
            (true, false) => UriForm::Cockroach,
            (true, true) => hint,
        };
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let mut loc = S3Location {
            form,
            bucket,
            prefix,
            endpoint_as_written: None,
            endpoint: None,
            region: String::new(),
            region_given: false,
            access_key_id: String::new(),
            secret_access_key: Secret::new(""),
            session_token: None,
            virtual_hosted: false,
            extra: Vec::new(),
        };
        let mut region = None;
        match form {
            UriForm::OceanBase => {
                let missing = |k: &str| {
                    S3UriError::Missing(format!(
                        "{k} is required: an s3 destination needs host, access_id and access_key"
                    ))
                };
                let host = get("host")
                    .filter(|v| !v.is_empty())
                    .ok_or(missing("host"))?;
                loc.access_key_id = get("access_id")
                    .filter(|v| !v.is_empty())
                    .ok_or(missing("access_id"))?;
                // As CockroachDB does: a secret that was not percent-encoded lost its `+` to form decoding.
                loc.secret_access_key = Secret::new(
                    get("access_key")
                        .filter(|v| !v.is_empty())
                        .ok_or(missing("access_key"))?
                        .replace(' ', "+"),
                );
                let endpoint = endpoint_url(&host)?;
                let implied = endpoint.host_str().and_then(aws_region_of);
                region = match (get("s3_region"), implied) {
                    (Some(given), Some(implied)) if given != implied => {
                        return Err(S3UriError::RegionMismatch)
                    }
                    (Some(given), _) => {
                        loc.region_given = true;
                        Some(given)
                    }
                    (None, implied) => implied,
                };
                loc.endpoint = Some(endpoint.as_str().trim_end_matches('/').to_string());
                loc.endpoint_as_written = Some(host);
                if let Some(m) = get("addressing_model") {
                    loc.virtual_hosted = match m.as_str() {
                        "virtual_hosted_style" => true,
                        "path_style" => false,
                        _ => {
                            return Err(S3UriError::BadValue {
                                name: "addressing_model".into(),
                                reason: "expected virtual_hosted_style or path_style".into(),
                            })
                        }
                    };
                    loc.extra.push(("addressing_model".into(), m));
                }
                if let Some(c) = get("checksum_type") {
                    // OceanBase: the S3 protocol refuses no_checksum; md5 is the default.
                    if !matches!(c.as_str(), "md5" | "crc32") {
                        return Err(S3UriError::BadValue {
                            name: "checksum_type".into(),
                            reason: "the s3 protocol supports md5 and crc32".into(),
                        });
                    }
                    loc.extra.push(("checksum_type".into(), c));
                }
                if let Some(d) = get("delete_mode") {
                    if d != "delete" {
                        return Err(S3UriError::BadValue {
                            name: "delete_mode".into(),
                            reason: "only delete is supported".into(),
                        });
                    }
                    loc.extra.push(("delete_mode".into(), d));
                }
            }
            UriForm::Cockroach => {
                if let Some(auth) = get("AUTH") {
                    match auth.as_str() {
                        "specified" => loc.extra.push(("AUTH".into(), auth)),
                        "implicit" => {
                            return Err(S3UriError::BadValue {
                                name: "AUTH".into(),
                                reason: "implicit credentials are not allowed: give AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
                            })
                        }
                        _ => {
                            return Err(S3UriError::BadValue {
                                name: "AUTH".into(),
                                reason: format!("unsupported value '{auth}'"),
                            })
                        }
                    }
                }
                let missing = |k: &str| {
                    S3UriError::Missing(format!("AUTH is set to 'specified', but {k} is not set"))
                };
                loc.access_key_id = get("AWS_ACCESS_KEY_ID")
                    .filter(|v| !v.is_empty())
                    .ok_or(missing("AWS_ACCESS_KEY_ID"))?;
                loc.secret_access_key = Secret::new(
                    get("AWS_SECRET_ACCESS_KEY")
                        .filter(|v| !v.is_empty())
                        .ok_or(missing("AWS_SECRET_ACCESS_KEY"))?
                        .replace(' ', "+"),
                );
                loc.session_token = get("AWS_SESSION_TOKEN")
                    .filter(|v| !v.is_empty())
                    .map(|t| Secret::new(t.replace(' ', "+")));
                if let Some(e) = get("AWS_ENDPOINT").filter(|v| !v.is_empty()) {
                    let endpoint = endpoint_url(&e)?;
                    loc.endpoint = Some(endpoint.as_str().trim_end_matches('/').to_string());
                    loc.endpoint_as_written = Some(e);
                }
                if let Some(r) = get("AWS_REGION").filter(|v| !v.is_empty()) {
                    loc.region_given = true;
                    region = Some(r);
                }
                if let Some(p) = get("AWS_USE_PATH_STYLE") {
                    loc.virtual_hosted = !parse_bool("AWS_USE_PATH_STYLE", &p)?;
                    loc.extra.push(("AWS_USE_PATH_STYLE".into(), p));
                }
            }
        }
        let region = region.unwrap_or_else(|| "us-east-1".to_string());
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(S3UriError::BadValue {
                name: "region".into(),
                reason: format!("'{region}' is not a region name"),
            });
        }
        loc.region = region;
        Ok(loc)
    }

    /// `s3://bucket/prefix`, without parameters.
    pub fn path(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, encode_path(&self.prefix))
        }
    }

    /// The form views, job descriptions, logs and errors show: OceanBase's `s3://bucket/path?host=endpoint`,
    /// or CockroachDB's URI with the secret and the token as `redacted`.
    pub fn display(&self) -> String {
        self.render(false)
    }

    /// The complete URI, credentials included, in the form it was written (parameters in a fixed order):
    /// what is stored so that a job can reach the destination later.
    pub fn stored(&self) -> String {
        self.render(true)
    }

    fn render(&self, secrets: bool) -> String {
        let secret = |s: &Secret| {
            if secrets {
                encode(s.expose())
            } else {
                REDACTED.to_string()
            }
        };
        let mut q: Vec<String> = Vec::new();
        match self.form {
            UriForm::OceanBase => {
                if let Some(h) = &self.endpoint_as_written {
                    q.push(format!("host={}", encode(h)));
                }
                if secrets {
                    q.push(format!("access_id={}", encode(&self.access_key_id)));
                    q.push(format!("access_key={}", secret(&self.secret_access_key)));
                    if self.region_given {
                        q.push(format!("s3_region={}", encode(&self.region)));
                    }
                    for (k, v) in &self.extra {
                        q.push(format!("{k}={}", encode(v)));
                    }
                }
            }
            UriForm::Cockroach => {
                for (k, v) in &self.extra {
                    if k == "AUTH" {
                        q.push(format!("{k}={}", encode(v)));
                    }
                }
                q.push(format!("AWS_ACCESS_KEY_ID={}", encode(&self.access_key_id)));
                q.push(format!(
                    "AWS_SECRET_ACCESS_KEY={}",
                    secret(&self.secret_access_key)
                ));
                if let Some(t) = &self.session_token {
                    q.push(format!("AWS_SESSION_TOKEN={}", secret(t)));
                }
                if let Some(e) = &self.endpoint_as_written {
                    q.push(format!("AWS_ENDPOINT={}", encode(e)));
                }
                if self.region_given {
                    q.push(format!("AWS_REGION={}", encode(&self.region)));
                }
                for (k, v) in &self.extra {
                    if k != "AUTH" {
                        q.push(format!("{k}={}", encode(v)));
                    }
                }
            }
        }
        if q.is_empty() {
            self.path()
        } else {
            format!("{}?{}", self.path(), q.join("&"))
        }
    }

    /// The destination's identity: bucket, prefix and endpoint, never credentials. Two URIs with the same
    /// identity are one destination, whoever's keys they carry.
    pub fn identity(&self) -> String {
        format!(
            "{}@{}",
            self.path(),
            self.endpoint.as_deref().unwrap_or("aws")
        )
    }
}

fn percent_decode(s: &str) -> Result<String, S3UriError> {
    url::form_urlencoded::parse(format!("p={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| S3UriError::Malformed("bad path".into()))
}

fn encode_path(p: &str) -> String {
    p.split('/').map(encode).collect::<Vec<_>>().join("/")
}

/// Where a destination is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A local directory (already resolved inside the external-IO directory by the caller).
    Local(PathBuf),
    /// A bucket and prefix on an S3-compatible store.
    S3(Box<S3Location>),
}

/// How a destination URI is shown wherever people can see it (views, SHOW JOBS, the console, logs, errors):
/// an `s3://` URI without its secrets (see [`S3Location::display`]), anything else as it is. A URI that does not
/// parse as `s3://` shows as its path alone, so a malformed secret is never shown either.
pub fn display_uri(uri: &str) -> String {
    if !is_s3_uri(uri) {
        return uri.to_string();
    }
    match S3Location::parse(uri, UriForm::Cockroach) {
        Ok(loc) => loc.display(),
        Err(_) => uri
            .split_once('?')
            .map_or(uri, |(path, _)| path)
            .to_string(),
    }
}

/// The shown form of `sub` (a set's directory) under destination `uri`: [`display_uri`] with `/sub` put in
/// its path, before any parameters.
pub fn display_under(uri: &str, sub: &str) -> String {
    let shown = display_uri(uri);
    let (path, query) = match shown.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (shown, None),
    };
    let joined = format!(
        "{}/{}",
        path.trim_end_matches('/'),
        sub.trim_start_matches('/')
    );
    match query {
        Some(q) => format!("{joined}?{q}"),
        None => joined,
    }
}

/// A destination's identity (see [`S3Location::identity`]); a `file://` URI is its own identity.
pub fn identity_of(uri: &str) -> String {
    if !is_s3_uri(uri) {
        return uri.trim_end_matches('/').to_string();
    }
    match S3Location::parse(uri, UriForm::Cockroach) {
        Ok(loc) => loc.identity(),
        Err(_) => display_uri(uri),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRDB: &str = "s3://bk/t1/sets?AWS_ACCESS_KEY_ID=AKID&AWS_SECRET_ACCESS_KEY=s3cr%2Bt/x&AWS_ENDPOINT=http://127.0.0.1:9000&AWS_REGION=eu-west-1";
    const OB: &str = "s3://bk/t1?host=http://127.0.0.1:9000&access_id=AKID&access_key=s3cr%2Bt&s3_region=eu-west-1";

    #[test]
    fn cockroach_form_parses_and_redacts() {
        let l = S3Location::parse(CRDB, UriForm::OceanBase).unwrap();
        assert_eq!(l.form, UriForm::Cockroach);
        assert_eq!((l.bucket.as_str(), l.prefix.as_str()), ("bk", "t1/sets"));
        assert_eq!(l.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(l.region, "eu-west-1");
        assert_eq!(l.access_key_id, "AKID");
        assert_eq!(l.secret_access_key.expose(), "s3cr+t/x");
        let shown = l.display();
        assert_eq!(
            shown,
            "s3://bk/t1/sets?AWS_ACCESS_KEY_ID=AKID&AWS_SECRET_ACCESS_KEY=redacted&AWS_ENDPOINT=http%3A%2F%2F127.0.0.1%3A9000&AWS_REGION=eu-west-1"
        );
        assert!(!format!("{l:?}").contains("s3cr"));
        // The stored form parses back to the same location.
        let again = S3Location::parse(&l.stored(), UriForm::OceanBase).unwrap();
        assert_eq!(again, l);
    }

    #[test]
    fn oceanbase_form_shows_path_and_host_only() {
        let l = S3Location::parse(OB, UriForm::Cockroach).unwrap();
        assert_eq!(l.form, UriForm::OceanBase);
        assert_eq!(l.secret_access_key.expose(), "s3cr+t");
        assert_eq!(l.display(), "s3://bk/t1?host=http%3A%2F%2F127.0.0.1%3A9000");
        assert_eq!(
            S3Location::parse(&l.stored(), UriForm::Cockroach).unwrap(),
            l
        );
        // An unencoded `+` in a secret comes back as `+`, not a space.
        let l = S3Location::parse(
            "s3://bk?host=s3.us-west-2.amazonaws.com&access_id=a&access_key=x+y",
            UriForm::OceanBase,
        )
        .unwrap();
        assert_eq!(l.secret_access_key.expose(), "x+y");
        assert_eq!(l.region, "us-west-2");
        assert_eq!(
            l.endpoint.as_deref(),
            Some("https://s3.us-west-2.amazonaws.com")
        );
    }

    #[test]
    fn validation_errors() {
        let e = |u: &str, hint| S3Location::parse(u, hint).unwrap_err().to_string();
        assert_eq!(
            e("s3:///x?AWS_ACCESS_KEY_ID=a", UriForm::Cockroach),
            "empty host component; s3 URI must specify a target bucket"
        );
        assert_eq!(
            e(
                "s3://b/x?AWS_ACCESS_KEY_ID=a&FOO=1&BAR=2",
                UriForm::Cockroach
            ),
            "unknown S3 query parameters: BAR, FOO"
        );
        assert_eq!(
            e("s3://b/x?AWS_ACCESS_KEY_ID=a", UriForm::Cockroach),
            "AUTH is set to 'specified', but AWS_SECRET_ACCESS_KEY is not set"
        );
        assert_eq!(
            e("s3://b/x", UriForm::Cockroach),
            "AUTH is set to 'specified', but AWS_ACCESS_KEY_ID is not set"
        );
        assert!(e("s3://b/x", UriForm::OceanBase).starts_with("host is required"));
        assert!(e("s3://b/x?host=h&access_id=a", UriForm::OceanBase)
            .starts_with("access_key is required"));
        assert!(e(
            "s3://b/x?host=h&access_id=a&access_key=k&AWS_REGION=x",
            UriForm::OceanBase
        )
        .starts_with("s3 URI mixes"));
        let mismatch = S3Location::parse(
            "s3://b/x?host=s3.us-west-2.amazonaws.com&access_id=a&access_key=k&s3_region=eu-west-1",
            UriForm::OceanBase,
        )
        .unwrap_err();
        assert_eq!(mismatch, S3UriError::RegionMismatch);
        let endpoint = S3Location::parse(
            "s3://b/x?host=ftp://h&access_id=a&access_key=k",
            UriForm::OceanBase,
        )
        .unwrap_err();
        assert!(matches!(endpoint, S3UriError::BadEndpoint(_)));
        assert_eq!(
            S3Location::parse(
                &format!(
                    "s3://b/x?host=h&access_id=a&access_key={}",
                    "k".repeat(1700)
                ),
                UriForm::OceanBase
            )
            .unwrap_err(),
            S3UriError::TooLong
        );
        assert!(e(
            "s3://b/a//x?AWS_ACCESS_KEY_ID=a&AWS_SECRET_ACCESS_KEY=b",
            UriForm::Cockroach
        )
        .contains("segments"));
        assert!(e("s3://b/x?AUTH=implicit", UriForm::Cockroach)
            .contains("implicit credentials are not allowed"));
    }

    #[test]
    fn display_never_shows_secrets() {
        assert_eq!(display_uri("file:///a/b"), "file:///a/b");
        for uri in [CRDB, OB] {
            let shown = display_uri(uri);
            assert!(!shown.contains("s3cr"), "{shown}");
        }
        // A URI that does not parse shows only its path.
        assert_eq!(
            display_uri("s3://b/x?AWS_SECRET_ACCESS_KEY=topsecret&NOPE=1"),
            "s3://b/x"
        );
        assert_eq!(
            display_under(OB, "tenant_1001/backup_set_2"),
            "s3://bk/t1/tenant_1001/backup_set_2?host=http%3A%2F%2F127.0.0.1%3A9000"
        );
        assert_eq!(display_under("file:///d/", "x"), "file:///d/x");
        assert_eq!(identity_of(CRDB), "s3://bk/t1/sets@http://127.0.0.1:9000");
        assert_eq!(identity_of(OB), "s3://bk/t1@http://127.0.0.1:9000");
    }
}
