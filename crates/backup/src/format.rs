//! Who a destination belongs to: a `format` file at its top, naming the cluster and the tenant, written when a
//! tenant first uses the destination (as OceanBase's format file names cluster, tenant and destination type). From then on only that tenant may back up into it, list it, restore from it
//! inside the tenant, or clean it up; another tenant's use is refused with OceanBase's -9081. A directory that
//! holds anything but has no format file is nobody's destination (-9080), so a tenant can never claim a
//! directory that already holds another tenant's (or anyone's) files.

use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use crate::{BackupError, BackupStore};

/// The format file's name, at the destination's top.
pub const FORMAT_FILE: &str = "format";

/// A format file is a few hundred bytes; anything much larger is not one.
const FORMAT_MAX_BYTES: u64 = 64 * 1024;

/// Who a destination is for: a tenant of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestOwner<'a> {
    /// The cluster's identity (`Catalog::cluster_id`).
    pub cluster_id: &'a str,
    /// The tenant.
    pub tenant_id: i64,
    /// Its name (written for people; the id decides).
    pub tenant_name: &'a str,
}

/// What the format file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestFormat {
    /// The file's format version.
    pub format: u32,
    /// What the destination holds (`DATA`: backup sets).
    pub dest_type: String,
    /// The cluster of the tenant it belongs to.
    #[serde(default)]
    pub cluster_id: String,
    /// The tenant it belongs to.
    pub tenant_id: i64,
    /// Its name when it formatted the destination.
    pub tenant_name: String,
    /// When (µs since the Unix epoch).
    pub created_us: i64,
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

impl BackupStore {
    /// The destination's format file, if it has one.
    pub fn format(&self) -> Result<Option<DestFormat>, BackupError> {
        match self.get_object_bounded(FORMAT_FILE, FORMAT_MAX_BYTES)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| BackupError::BadFormatFile(format!("{}: {e}", self.uri()))),
        }
    }

    /// Fails unless the destination's format file names `owner`'s cluster and tenant (-9080 without one, -9081
    /// for another tenant's or another cluster's).
    pub fn check_owner(&self, owner: DestOwner<'_>) -> Result<(), BackupError> {
        match self.format()? {
            Some(f)
                if f.tenant_id == owner.tenant_id
                    && f.cluster_id == owner.cluster_id
                    && f.dest_type == "DATA" =>
            {
                Ok(())
            }
            Some(_) => Err(BackupError::FormatMismatch(self.uri().to_string())),
            None => Err(BackupError::NotFormatted(self.uri().to_string())),
        }
    }

    /// Makes the destination `owner`'s if it is nobody's yet: an empty directory gets a format file naming the
    /// cluster and tenant; one with the owner's format file is fine; anything else is refused (see the module).
    pub fn claim(&self, owner: DestOwner<'_>) -> Result<(), BackupError> {
        if self.format()?.is_some() {
            return self.check_owner(owner);
        }
        let listed = self
            .runtime
            .block_on(self.store.list_with_delimiter(None))
            .map_err(|e| BackupError::Destination(e.to_string()))?;
        if !listed.objects.is_empty() || !listed.common_prefixes.is_empty() {
            return Err(BackupError::NotFormatted(self.uri().to_string()));
        }
        let format = DestFormat {
            format: 1,
            dest_type: "DATA".into(),
            cluster_id: owner.cluster_id.to_string(),
            tenant_id: owner.tenant_id,
            tenant_name: owner.tenant_name.to_string(),
            created_us: now_us(),
        };
        let bytes = serde_json::to_vec_pretty(&format)?;
        let put = self.runtime.block_on(self.store.put_opts(
            &ObjectPath::from(FORMAT_FILE),
            PutPayload::from(bytes),
            PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            },
        ));
        match put {
            Ok(_) => Ok(()),
            // Another claim got there first: it counts only if it was this tenant's.
            Err(object_store::Error::AlreadyExists { .. }) => self.check_owner(owner),
            Err(e) => Err(BackupError::Destination(e.to_string())),
        }
    }
}
