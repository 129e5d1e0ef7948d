//! The catalog's tables. Migrations are appended, never edited: `user_version` records how many ran.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE sequences (
    name TEXT PRIMARY KEY,
    next_value INTEGER NOT NULL
);
INSERT INTO sequences VALUES ('tenant', 1001), ('unit', 1001), ('pool', 1001), ('database', 1);

CREATE TABLE tenants (
    tenant_id INTEGER PRIMARY KEY,
    tenant_name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    compatibility_mode TEXT NOT NULL,
    status TEXT NOT NULL,
    primary_zone TEXT NOT NULL,
    locality TEXT NOT NULL,
    create_time TEXT NOT NULL,
    modify_time TEXT NOT NULL
);

CREATE TABLE resource_units (
    unit_config_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    max_cpu REAL NOT NULL,
    min_cpu REAL NOT NULL,
    memory_size INTEGER NOT NULL,
    log_disk_size INTEGER NOT NULL,
    max_iops INTEGER NOT NULL,
    min_iops INTEGER NOT NULL,
    iops_weight INTEGER NOT NULL,
    create_time TEXT NOT NULL,
    modify_time TEXT NOT NULL
);

CREATE TABLE resource_pools (
    resource_pool_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    unit_count INTEGER NOT NULL,
    unit_config_id INTEGER NOT NULL REFERENCES resource_units(unit_config_id),
    zone_list TEXT NOT NULL,
    replica_type TEXT NOT NULL,
    tenant_id INTEGER REFERENCES tenants(tenant_id) ON DELETE SET NULL,
    create_time TEXT NOT NULL,
    modify_time TEXT NOT NULL
);

CREATE TABLE databases (
    database_id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
    name TEXT NOT NULL COLLATE NOCASE,
    create_time TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE users (
    tenant_id INTEGER NOT NULL REFERENCES tenants(tenant_id) ON DELETE CASCADE,
    user_name TEXT NOT NULL,
    host TEXT NOT NULL,
    native_hash TEXT NOT NULL,
    scram_verifier TEXT NOT NULL,
    is_admin INTEGER NOT NULL,
    create_time TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_name)
);

CREATE TABLE grants (
    tenant_id INTEGER NOT NULL,
    user_name TEXT NOT NULL,
    db TEXT NOT NULL COLLATE NOCASE,
    privilege TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_name, db, privilege),
    FOREIGN KEY (tenant_id, user_name) REFERENCES users(tenant_id, user_name) ON DELETE CASCADE
);

CREATE TABLE parameters (
    tenant_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    modify_time TEXT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
"#,
    r#"
-- Tenants and pools a job is building (restore, clone) name that job: only it may finish or remove them.
ALTER TABLE tenants ADD COLUMN build_job_id INTEGER;
ALTER TABLE resource_pools ADD COLUMN build_job_id INTEGER;

CREATE TABLE tenant_snapshots (
    snapshot_id INTEGER PRIMARY KEY,
    tenant_id INTEGER NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    status TEXT NOT NULL,
    snapshot_scn INTEGER,
    snapshot_type TEXT NOT NULL,
    owner_job_id INTEGER,
    create_time TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);
INSERT INTO sequences VALUES ('snapshot', 1);
"#,
    // Backup cleanup: a tenant's delete policy, and what became of sets that cleanup removed.
    r#"
CREATE TABLE backup_delete_policies (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants(tenant_id) ON DELETE CASCADE,
    policy_name TEXT NOT NULL,
    recovery_window TEXT NOT NULL,
    create_time TEXT NOT NULL
);

CREATE TABLE backup_set_deletions (
    tenant_id INTEGER NOT NULL,
    set_id INTEGER NOT NULL,
    file_status TEXT NOT NULL,
    job_id INTEGER NOT NULL,
    modify_time TEXT NOT NULL,
    PRIMARY KEY (tenant_id, set_id)
);
"#,
    // The cluster's identity, made once: backup destinations' format files name it with the tenant, so two
    // clusters sharing an external-IO directory never take each other's tenants' destinations for their own.
    r#"
CREATE TABLE cluster (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    cluster_id TEXT NOT NULL
);
INSERT INTO cluster VALUES (1, lower(hex(randomblob(16))));
"#,
    // Roles as groups (CockroachDB's and MySQL 8's): a role is a user that cannot log in; its members hold its
    // grants. Memberships go with either side.
    r#"
ALTER TABLE users ADD COLUMN can_login INTEGER NOT NULL DEFAULT 1;

CREATE TABLE role_members (
    tenant_id INTEGER NOT NULL,
    role_name TEXT NOT NULL,
    member_name TEXT NOT NULL,
    PRIMARY KEY (tenant_id, role_name, member_name)
);
"#,
];

/// Brings the catalog's tables up to date.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let done: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// Takes the next value of a sequence, creating it (starting at 1) if needed, inside the caller's transaction.
pub fn next_value(conn: &Connection, sequence: &str) -> rusqlite::Result<i64> {
    conn.execute("INSERT OR IGNORE INTO sequences VALUES (?1, 1)", [sequence])?;
    next_id(conn, sequence)
}

/// Takes the next id of a named sequence inside the caller's transaction.
pub fn next_id(conn: &Connection, sequence: &str) -> rusqlite::Result<i64> {
    conn.query_row(
        "UPDATE sequences SET next_value = next_value + 1 WHERE name = ?1 RETURNING next_value - 1",
        [sequence],
        |r| r.get(0),
    )
}
