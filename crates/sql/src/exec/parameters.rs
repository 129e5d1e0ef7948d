//! `ALTER SYSTEM SET` and `SHOW PARAMETERS`, and CockroachDB's names for them: `SET CLUSTER SETTING`,
//! `SHOW CLUSTER SETTING(S)`.

use tenantry_catalog::parameters::{self, Scope, PARAMETERS};
use tenantry_catalog::CatalogError;

use crate::error::{Result, SqlError};
use crate::exec::filter;
use crate::parser::{Command, ShowFilter};
use crate::session::Session;
use crate::value::{Column, ColumnKind, Output, ResultSet, Value};

/// Runs a parameter statement.
pub fn run(session: &mut Session, cmd: Command) -> Result<Output> {
    match cmd {
        Command::AlterSystemSet {
            assignments,
            tenant,
        } => {
            // Check every assignment before applying any, so a bad one changes nothing.
            let mut resolved = Vec::new();
            for (name, value) in &assignments {
                let def = parameters::find(name)
                    .ok_or_else(|| CatalogError::UnknownParameter(name.clone()))?;
                let scope_tenant = target_tenant(session, def.scope, tenant.as_deref())?;
                (def.check)(value).map_err(|reason| CatalogError::InvalidParameterValue {
                    name: def.name.to_string(),
                    value: shown(def.name, value),
                    reason,
                })?;
                let mut value = value.clone();
                if def.name == "data_backup_dest" && !value.trim().is_empty() {
                    let owner = match scope_tenant {
                        Some(id) => session
                            .engine
                            .catalog()
                            .tenant_by_id(id)?
                            .ok_or_else(|| CatalogError::TenantNotExist(id.to_string()))?,
                        None => session.identity.tenant.clone(),
                    };
                    // The canonical URI is stored: it is the destination's identity.
                    value = crate::exec::backup::check_destination(session, &owner, value.trim())?;
                }
                resolved.push((def.name, value, scope_tenant));
            }
            for (name, value, scope_tenant) in resolved {
                session
                    .engine
                    .catalog()
                    .set_parameter(name, &value, scope_tenant)?;
                tracing::info!(parameter = name, value = %shown(name, &value), "parameter set");
            }
            session.engine.apply_parameters()?;
            Ok(Output::ok())
        }
        Command::ShowParameters { like, tenant } => {
            let tenant_id = match tenant {
                Some(name) if session.identity.is_cluster_admin() => {
                    session
                        .engine
                        .catalog()
                        .tenant_by_name(&name)?
                        .ok_or(CatalogError::TenantNotExist(name))?
                        .tenant_id
                }
                Some(_) => return Err(SqlError::NeedPrivilege("SUPER")),
                None => session.identity.tenant.tenant_id,
            };
            let rs = show(session, tenant_id)?;
            let filter = like.map_or(ShowFilter::None, ShowFilter::Like);
            // SHOW PARAMETERS matches LIKE on the name column, the fifth.
            let rs = match filter {
                ShowFilter::Like(p) => ResultSet {
                    rows: rs
                        .rows
                        .into_iter()
                        .filter(|r| r[4].to_text().is_some_and(|n| filter::like(&p, &n)))
                        .collect(),
                    columns: rs.columns,
                },
                _ => rs,
            };
            Ok(Output::Rows(rs))
        }
        Command::SetClusterSetting { name, value } => {
            // Cluster settings are the cluster's: only root@sys changes them, whatever the parameter's scope.
            session.require_cluster_admin()?;
            run(
                session,
                Command::AlterSystemSet {
                    assignments: vec![(name, value)],
                    tenant: None,
                },
            )
        }
        Command::ShowClusterSetting(name) => show_cluster_settings(session, name),
        other => Err(SqlError::Internal(format!(
            "not a parameter statement: {other:?}"
        ))),
    }
}

/// `SHOW CLUSTER SETTING name` (one column named after the setting) or `SHOW CLUSTER SETTINGS`
/// (CockroachDB's columns: variable, value, setting_type, description).
fn show_cluster_settings(session: &Session, name: Option<String>) -> Result<Output> {
    let value_of = |def: &parameters::ParameterDef| -> Result<String> {
        let tenant = match def.scope {
            Scope::Cluster => None,
            Scope::Tenant => Some(session.identity.tenant.tenant_id),
        };
        Ok(shown(
            def.name,
            &session.engine.catalog().parameter(def.name, tenant)?,
        ))
    };
    match name {
        Some(name) => {
            let def = parameters::find(&name)
                .ok_or_else(|| CatalogError::UnknownParameter(name.clone()))?;
            Ok(Output::Rows(ResultSet {
                columns: vec![Column::new(def.name, ColumnKind::Text)],
                rows: vec![vec![Value::from(value_of(def)?)]],
            }))
        }
        None => {
            let mut rows = Vec::new();
            for def in PARAMETERS {
                rows.push(vec![
                    Value::from(def.name),
                    Value::from(value_of(def)?),
                    Value::from(def.data_type),
                    Value::from(def.info),
                ]);
            }
            Ok(Output::Rows(ResultSet {
                columns: ["variable", "value", "setting_type", "description"]
                    .into_iter()
                    .map(|n| Column::new(n, ColumnKind::Text))
                    .collect(),
                rows,
            }))
        }
    }
}

/// A parameter's value as it may be shown (SHOW PARAMETERS, SHOW CLUSTER SETTINGS, logs, errors): a
/// destination without its credentials (see `tenantry_backup::display_uri`), anything else as it is.
pub(crate) fn shown(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("data_backup_dest") {
        tenantry_backup::display_uri(value)
    } else {
        value.to_string()
    }
}

/// Which tenant a parameter assignment applies to, enforcing who may set what.
fn target_tenant(session: &Session, scope: Scope, tenant: Option<&str>) -> Result<Option<i64>> {
    let id = &session.identity;
    match scope {
        Scope::Cluster => {
            session.require_cluster_admin()?;
            if tenant.is_some() {
                return Err(CatalogError::ParameterScope(
                    "a cluster parameter cannot be set for one tenant".into(),
                )
                .into());
            }
            Ok(None)
        }
        Scope::Tenant => match tenant {
            Some(_) if !id.tenant.is_sys() => Err(SqlError::Unsupported(
                "Modifying parameters of another tenant from a user tenant".into(),
            )),
            Some(name) => {
                session.require_cluster_admin()?;
                let t = session
                    .engine
                    .catalog()
                    .tenant_by_name(name)?
                    .ok_or_else(|| CatalogError::TenantNotExist(name.to_string()))?;
                Ok(Some(t.tenant_id))
            }
            None => {
                session.require_tenant_admin("ALTER SYSTEM")?;
                Ok(Some(id.tenant.tenant_id))
            }
        },
    }
}

fn show(session: &Session, tenant_id: i64) -> Result<ResultSet> {
    let text = |n: &str| Column::new(n, ColumnKind::Text);
    let columns = vec![
        text("zone"),
        text("svr_type"),
        text("svr_ip"),
        Column::new("svr_port", ColumnKind::Int),
        text("name"),
        text("data_type"),
        text("value"),
        text("info"),
        text("section"),
        text("scope"),
        text("source"),
        text("edit_level"),
        text("default_value"),
        Column::new("isdefault", ColumnKind::Int),
    ];
    let mut rows = Vec::new();
    for def in PARAMETERS {
        let value = session
            .engine
            .catalog()
            .parameter(def.name, Some(tenant_id))?;
        let is_default = value == def.default;
        let source = match (is_default, def.scope) {
            (true, _) => "DEFAULT",
            (false, Scope::Cluster) => "CLUSTER",
            (false, Scope::Tenant) => "TENANT",
        };
        rows.push(vec![
            Value::from("zone1"),
            Value::from("observer"),
            Value::from("127.0.0.1"),
            Value::Int(session.engine.mysql_port() as i64),
            Value::from(def.name),
            Value::from(def.data_type),
            Value::from(shown(def.name, &value)),
            Value::from(def.info),
            Value::from(def.section),
            Value::from(def.scope.as_str()),
            Value::from(source),
            Value::from("DYNAMIC_EFFECTIVE"),
            Value::from(def.default),
            Value::Int(is_default as i64),
        ]);
    }
    Ok(ResultSet { columns, rows })
}
