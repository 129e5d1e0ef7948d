//! Cluster statements (root@sys): resource units and pools, tenants, `ALTER SYSTEM SET`, `SHOW PARAMETERS`.

use sqlparser::tokenizer::Token;
use tenantry_catalog::parameters::parse_capacity;
use tenantry_catalog::NewUnitConfig;

use super::cursor::Cursor;
use super::{if_exists, if_not_exists, Command};
use crate::error::{ParseError, Result};

pub(super) fn parse(c: &mut Cursor) -> Result<Option<Command>> {
    let cmd = if c.eat_words(&["CREATE", "RESOURCE", "UNIT"]) {
        create_unit(c)?
    } else if c.eat_words(&["DROP", "RESOURCE", "UNIT"]) {
        let if_exists = if_exists(c);
        Command::DropResourceUnit {
            name: c.name()?,
            if_exists,
        }
    } else if c.eat_words(&["CREATE", "RESOURCE", "POOL"]) {
        create_pool(c)?
    } else if c.eat_words(&["DROP", "RESOURCE", "POOL"]) {
        let if_exists = if_exists(c);
        Command::DropResourcePool {
            name: c.name()?,
            if_exists,
        }
    } else if c.eat_words(&["CREATE", "TENANT"]) {
        create_tenant(c)?
    } else if c.eat_words(&["DROP", "TENANT"]) {
        let if_exists = if_exists(c);
        let name = c.name()?;
        // FORCE / PURGE skip OceanBase's recycle bin; there is none here, so every drop is immediate.
        let _ = c.eat_word("FORCE") || c.eat_word("PURGE");
        Command::DropTenant { name, if_exists }
    } else if c.eat_words(&["ALTER", "SYSTEM", "SET"]) {
        alter_system_set(c)?
    } else if c.eat_words(&["SET", "CLUSTER", "SETTING"]) {
        let name = c.name()?;
        if !c.eat_word("TO") {
            c.eat_eq();
        }
        let value = c.literal_text()?;
        Command::SetClusterSetting { name, value }
    } else if c.eat_words(&["SHOW", "CLUSTER", "SETTING"]) {
        Command::ShowClusterSetting(Some(c.name()?))
    } else if c.eat_words(&["SHOW", "CLUSTER", "SETTINGS"])
        || c.eat_words(&["SHOW", "ALL", "CLUSTER", "SETTINGS"])
    {
        Command::ShowClusterSetting(None)
    } else if c.eat_words(&["SHOW", "PARAMETERS"]) {
        let mut like = None;
        let mut tenant = None;
        loop {
            if c.eat_word("LIKE") {
                like = Some(c.string()?);
            } else if c.eat_word("TENANT") {
                c.eat_eq();
                tenant = Some(c.name()?);
            } else {
                break;
            }
        }
        Command::ShowParameters { like, tenant }
    } else if c.is_word("BACKUP") && (c.is_word_at(1, "INTO") || c.is_word_at(1, "DATABASE")) {
        c.advance();
        let mut databases = Vec::new();
        if c.eat_word("DATABASE") {
            databases.push(c.name()?.to_ascii_lowercase());
            while c.eat(&Token::Comma) {
                databases.push(c.name()?.to_ascii_lowercase());
            }
        }
        c.expect_word("INTO")?;
        let uri = c.string()?;
        let mut detached = false;
        if c.eat_word("WITH") {
            loop {
                if c.eat_word("DETACHED") {
                    detached = true;
                } else {
                    return Err(ParseError::Unsupported(format!(
                        "BACKUP option {}",
                        c.rest().chars().take(30).collect::<String>()
                    )));
                }
                if !c.eat(&Token::Comma) {
                    break;
                }
            }
        }
        Command::BackupInto {
            databases,
            uri,
            detached,
        }
    } else if c.eat_words(&["ALTER", "SYSTEM", "VALIDATE", "BACKUPSET"]) {
        c.eat_eq();
        Command::ValidateBackupSet(c.integer()?)
    } else if c.eat_words(&["ALTER", "SYSTEM", "CANCEL", "BACKUP"]) {
        let tenants = if c.eat_word("TENANT") {
            c.eat_eq();
            let mut names = vec![c.name()?];
            while c.eat(&Token::Comma) {
                names.push(c.name()?);
            }
            Some(names)
        } else {
            None
        };
        Command::CancelBackup { tenants }
    } else if c.eat_words(&["ALTER", "SYSTEM", "BACKUP"]) {
        let incremental = c.eat_word("INCREMENTAL");
        if c.eat_word("TENANT") {
            c.eat_eq();
            let mut tenants = vec![c.name()?];
            while c.eat(&Token::Comma) {
                tenants.push(c.name()?);
            }
            let plus_archivelog = c.eat_words(&["PLUS", "ARCHIVELOG"]);
            let description = if c.eat_word("DESCRIPTION") {
                c.eat_eq();
                c.string()?
            } else {
                String::new()
            };
            c.expect_end()?;
            return Ok(Some(Command::BackupTenants {
                tenants: Some(tenants),
                incremental,
                plus_archivelog,
                description,
            }));
        }
        c.expect_word("DATABASE")?;
        let plus_archivelog = c.eat_words(&["PLUS", "ARCHIVELOG"]);
        let description = if c.eat_word("DESCRIPTION") {
            c.eat_eq();
            c.string()?
        } else {
            String::new()
        };
        Command::BackupDatabase {
            incremental,
            plus_archivelog,
            description,
        }
    } else if c.is_word("ALTER") && c.is_word_at(1, "SYSTEM") {
        return Err(ParseError::Unsupported(format!(
            "'{}'",
            c.rest().chars().take(60).collect::<String>()
        )));
    } else {
        return Ok(None);
    };
    c.expect_end()?;
    Ok(Some(cmd))
}

fn create_unit(c: &mut Cursor) -> Result<Command> {
    let if_not_exists = if_not_exists(c);
    let name = c.name()?;
    let mut spec = NewUnitConfig::default();
    while let Some(Token::Word(w)) = c.peek().cloned() {
        let option = w.value.to_ascii_uppercase();
        c.advance();
        c.eat_eq();
        let value = c.literal_text()?;
        match option.as_str() {
            "MAX_CPU" => spec.max_cpu = Some(number(&option, &value)?),
            "MIN_CPU" => spec.min_cpu = Some(number(&option, &value)?),
            "MEMORY_SIZE" => spec.memory_size = Some(capacity(&option, &value)?),
            "LOG_DISK_SIZE" => spec.log_disk_size = Some(capacity(&option, &value)?),
            "MAX_IOPS" => spec.max_iops = Some(number(&option, &value)? as i64),
            "MIN_IOPS" => spec.min_iops = Some(number(&option, &value)? as i64),
            "IOPS_WEIGHT" => spec.iops_weight = Some(number(&option, &value)? as i64),
            // Accepted for compatibility; nothing here enforces disk or network quotas.
            "DATA_DISK_SIZE" | "MAX_NET_BANDWIDTH" | "NET_BANDWIDTH_WEIGHT" => {}
            _ => {
                return Err(ParseError::Unsupported(format!(
                    "resource unit option {option}"
                )))
            }
        }
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    Ok(Command::CreateResourceUnit {
        name,
        spec,
        if_not_exists,
    })
}

fn number(option: &str, v: &str) -> Result<f64> {
    v.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f >= 0.0)
        .ok_or_else(|| invalid(option, v))
}

fn capacity(option: &str, v: &str) -> Result<i64> {
    parse_capacity(v)
        .ok()
        .and_then(|b| i64::try_from(b).ok())
        .ok_or_else(|| invalid(option, v))
}

fn invalid(option: &str, v: &str) -> ParseError {
    ParseError::InvalidArgument(format!("Incorrect arguments to {option}: '{v}'"))
}

fn create_pool(c: &mut Cursor) -> Result<Command> {
    let if_not_exists = if_not_exists(c);
    let name = c.name()?;
    let mut unit = None;
    let mut unit_num = 1;
    let mut zone_list = Vec::new();
    loop {
        if c.eat_word("UNIT") {
            c.eat_eq();
            unit = Some(c.name()?);
        } else if c.eat_word("UNIT_NUM") {
            c.eat_eq();
            unit_num = c.integer()?;
        } else if c.eat_word("ZONE_LIST") {
            c.eat_eq();
            zone_list = name_list(c)?;
        } else {
            return Err(c.error());
        }
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    let unit =
        unit.ok_or_else(|| ParseError::InvalidArgument("resource pool needs UNIT".into()))?;
    Ok(Command::CreateResourcePool {
        name,
        unit,
        unit_num,
        zone_list,
        if_not_exists,
    })
}

/// `('a', 'b')` or `('a;b')`: a parenthesised list of names.
fn name_list(c: &mut Cursor) -> Result<Vec<String>> {
    c.expect(&Token::LParen)?;
    let mut names = Vec::new();
    loop {
        for part in c.name()?.split([';', ',']) {
            let part = part.trim();
            if !part.is_empty() {
                names.push(part.to_string());
            }
        }
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    c.expect(&Token::RParen)?;
    Ok(names)
}

fn create_tenant(c: &mut Cursor) -> Result<Command> {
    let if_not_exists = if_not_exists(c);
    let name = c.name()?;
    if c.is_word("FROM") {
        return Err(ParseError::Unsupported(
            "CREATE TENANT ... FROM (tenant clone)".into(),
        ));
    }
    let mut pools = Vec::new();
    let mut mode = "mysql".to_string();
    loop {
        if c.eat_word("RESOURCE_POOL_LIST") {
            c.eat_eq();
            pools = name_list(c)?;
        } else if c.eat_word("ZONE_LIST") {
            c.eat_eq();
            name_list(c)?;
        } else if c.eat_word("PRIMARY_ZONE")
            || c.eat_word("LOCALITY")
            || c.eat_word("COMMENT")
            || c.eat_word("CHARSET")
            || c.eat_words(&["DEFAULT", "CHARSET"])
            || c.eat_words(&["CHARACTER", "SET"])
            || c.eat_word("COLLATE")
        {
            c.eat_eq();
            c.literal_text()?;
        } else if c.at_end() || c.is_word("SET") {
            break;
        } else {
            return Err(c.error());
        }
        c.eat(&Token::Comma);
    }
    if c.eat_word("SET") {
        loop {
            let var = c.name()?.to_ascii_lowercase();
            c.eat_eq();
            let value = c.literal_text()?;
            match var.as_str() {
                "ob_compatibility_mode" => mode = value.to_ascii_lowercase(),
                // Accepted for compatibility: every client address may connect, and names are already case-insensitive.
                "ob_tcp_invited_nodes"
                | "lower_case_table_names"
                | "ob_timestamp_service"
                | "parallel_servers_target"
                | "recyclebin" => {}
                _ => return Err(ParseError::UnknownVariable(var)),
            }
            if !c.eat(&Token::Comma) {
                break;
            }
        }
    }
    Ok(Command::CreateTenant {
        name,
        pools,
        mode,
        if_not_exists,
    })
}

fn alter_system_set(c: &mut Cursor) -> Result<Command> {
    let mut assignments = Vec::new();
    let mut tenant = None;
    loop {
        let name = c.name()?;
        c.eat_eq();
        let value = c.literal_text()?;
        assignments.push((name, value));
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    loop {
        if c.eat_word("TENANT") {
            c.eat_eq();
            tenant = Some(c.name()?);
        } else if c.eat_word("SCOPE") || c.eat_word("ZONE") || c.eat_word("SERVER") {
            c.eat_eq();
            c.literal_text()?;
        } else {
            break;
        }
    }
    Ok(Command::AlterSystemSet {
        assignments,
        tenant,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::cmd;
    use super::super::{parse as parse_any, Command, Parsed};

    #[test]
    fn cluster_settings() {
        for (sql, value) in [
            ("SET CLUSTER SETTING bulk_io_max_rate = '4MB'", "4MB"),
            ("set cluster setting bulk_io_max_rate to '0'", "0"),
        ] {
            match parse_any(sql).unwrap() {
                Parsed::Command(Command::SetClusterSetting { name, value: v }) => {
                    assert_eq!((name.as_str(), v.as_str()), ("bulk_io_max_rate", value))
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(matches!(
            parse_any("SHOW CLUSTER SETTING bulk_io_max_rate").unwrap(),
            Parsed::Command(Command::ShowClusterSetting(Some(n))) if n == "bulk_io_max_rate"
        ));
        for sql in ["SHOW CLUSTER SETTINGS", "SHOW ALL CLUSTER SETTINGS"] {
            assert!(matches!(
                parse_any(sql).unwrap(),
                Parsed::Command(Command::ShowClusterSetting(None))
            ));
        }
    }

    #[test]
    fn resource_statements() {
        match cmd("CREATE RESOURCE UNIT unit1 MAX_CPU 1, MEMORY_SIZE '2G', LOG_DISK_SIZE = '6G'") {
            Command::CreateResourceUnit { name, spec, .. } => {
                assert_eq!(name, "unit1");
                assert_eq!(spec.max_cpu, Some(1.0));
                assert_eq!(spec.memory_size, Some(2 << 30));
                assert_eq!(spec.log_disk_size, Some(6 << 30));
            }
            c => panic!("{c:?}"),
        }
        assert_eq!(
            cmd("create resource pool pool1 unit = 'unit1', unit_num = 1, zone_list = ('zone1');"),
            Command::CreateResourcePool {
                name: "pool1".into(),
                unit: "unit1".into(),
                unit_num: 1,
                zone_list: vec!["zone1".into()],
                if_not_exists: false
            }
        );
    }

    #[test]
    fn tenant_statements() {
        assert_eq!(
            cmd("CREATE TENANT IF NOT EXISTS t1 primary_zone='zone1', resource_pool_list=('pool1') set ob_tcp_invited_nodes='%', ob_compatibility_mode='oracle'"),
            Command::CreateTenant {
                name: "t1".into(),
                pools: vec!["pool1".into()],
                mode: "oracle".into(),
                if_not_exists: true
            }
        );
        assert_eq!(
            cmd("DROP TENANT t1 FORCE"),
            Command::DropTenant {
                name: "t1".into(),
                if_exists: false
            }
        );
        assert_eq!(
            cmd("ALTER SYSTEM SET bulk_io_max_rate = '4MB' TENANT = t1"),
            Command::AlterSystemSet {
                assignments: vec![("bulk_io_max_rate".into(), "4MB".into())],
                tenant: Some("t1".into())
            }
        );
    }
}
