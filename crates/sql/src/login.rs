//! Login names (`user@tenant#cluster`) and authentication, shared by both wire protocols.

use tenantry_catalog::{Tenant, TenantStatus, User};

use crate::engine::Engine;
use crate::error::{Result, SqlError};

/// A login name split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginName {
    /// The user.
    pub user: String,
    /// The tenant; a bare `user` means sys.
    pub tenant: String,
}

impl LoginName {
    /// Parses `user`, `user@tenant` or `user@tenant#cluster` (the cluster name is accepted and ignored).
    pub fn parse(login: &str) -> Self {
        let (user, rest) = login.split_once('@').unwrap_or((login, "sys"));
        let tenant = rest.split_once('#').map_or(rest, |(t, _)| t);
        let tenant = if tenant.is_empty() { "sys" } else { tenant };
        Self {
            user: user.to_string(),
            tenant: tenant.to_string(),
        }
    }
}

/// Who a session belongs to.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The tenant.
    pub tenant: Tenant,
    /// The user.
    pub user: User,
}

impl Identity {
    /// root@sys (or another sys administrator): may run cluster statements.
    pub fn is_cluster_admin(&self) -> bool {
        self.tenant.is_sys() && self.user.is_admin
    }

    /// The tenant's built-in administrator.
    pub fn is_tenant_admin(&self) -> bool {
        self.user.is_admin
    }
}

impl Engine {
    /// Waits, without holding a thread, for as long as earlier failed logins of `login` from `host` require
    /// before this attempt's credentials may be checked. Front ends call it before [`Engine::authenticate`].
    pub async fn throttle_login(&self, login: &str, host: &str) {
        let wait = self.throttle().reserve(login, host);
        if !wait.is_zero() {
            tracing::info!(%login, %host, ?wait, "login delayed after failed attempts");
            tokio::time::sleep(wait).await;
        }
    }

    /// Records a failed login that [`Engine::authenticate`] did not see (a PostgreSQL SCRAM proof that
    /// failed inside the protocol library).
    pub fn login_failed(&self, login: &str, host: &str) {
        self.throttle().failed(login, host);
    }

    /// Resolves a login and checks its credentials with `verify` (given the stored user).
    /// Unknown tenants, unknown users and wrong passwords fail alike, so that none can be probed.
    /// The outcome feeds the failed-login throttle.
    pub fn authenticate(
        &self,
        login: &str,
        host: &str,
        using_password: bool,
        verify: impl FnOnce(&User) -> bool,
    ) -> Result<Identity> {
        let outcome = self.check_login(login, host, using_password, verify);
        match &outcome {
            Ok(_) => self.throttle().succeeded(login, host),
            Err(SqlError::AccessDenied { .. }) => self.throttle().failed(login, host),
            Err(_) => {}
        }
        outcome
    }

    fn check_login(
        &self,
        login: &str,
        host: &str,
        using_password: bool,
        verify: impl FnOnce(&User) -> bool,
    ) -> Result<Identity> {
        let denied = || SqlError::AccessDenied {
            user: login.to_string(),
            host: host.to_string(),
            using_password,
        };
        let (tenant, user) = self.resolve_login(login)?.ok_or_else(denied)?;
        if !verify(&user) {
            return Err(denied());
        }
        Ok(Identity { tenant, user })
    }

    /// Whether `login` names an existing user of an open tenant who has no password. For a front end that
    /// cannot tell an empty answer (no password) from a client waiting to be asked again: it asks again only
    /// when a password is needed. Unknown logins answer false. Reads the catalog (blocking).
    pub fn login_has_no_password(&self, login: &str) -> bool {
        matches!(
            self.resolve_login(login),
            Ok(Some((_, user))) if user.scram_verifier.is_empty() && user.native_hash.is_empty()
        )
    }

    /// The open tenant and the user a login names, if both exist.
    fn resolve_login(&self, login: &str) -> Result<Option<(Tenant, User)>> {
        let name = LoginName::parse(login);
        let Some(tenant) = self
            .catalog()
            .tenant_by_name(&name.tenant)?
            .filter(|t| t.status == TenantStatus::Normal)
        else {
            return Ok(None);
        };
        let mut user = self.catalog().user(tenant.tenant_id, &name.user)?;
        if user.is_none()
            && tenant.compatibility_mode == tenantry_catalog::CompatibilityMode::Oracle
        {
            // Oracle folds unquoted names to upper case: `sys@oracle_tenant` is SYS.
            user = self
                .catalog()
                .user(tenant.tenant_id, &name.user.to_ascii_uppercase())?;
        }
        // A role does not log in: it is answered as an unknown login.
        Ok(user.filter(|u| u.can_login).map(|u| (tenant, u)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_forms() {
        assert_eq!(
            LoginName::parse("root@sys#obcluster"),
            LoginName {
                user: "root".into(),
                tenant: "sys".into()
            }
        );
        assert_eq!(LoginName::parse("root").tenant, "sys");
        assert_eq!(
            LoginName::parse("SYS@oracle_tenant").tenant,
            "oracle_tenant"
        );
    }
}
