use tenantry_catalog::{
    Catalog, CatalogError, CompatibilityMode, GrantLevel, NewUnitConfig, Privilege, SYS_TENANT_ID,
};

fn unit() -> NewUnitConfig {
    NewUnitConfig {
        max_cpu: Some(2.0),
        memory_size: Some(4 << 30),
        ..Default::default()
    }
}

#[test]
fn first_start_creates_sys_and_root() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path(), None).unwrap();
    let sys = catalog.tenant_by_id(SYS_TENANT_ID).unwrap().unwrap();
    assert_eq!(sys.tenant_name, "sys");
    let root = catalog.user(SYS_TENANT_ID, "root").unwrap().unwrap();
    assert!(root.is_admin);
    assert_eq!(root.native_hash, "");
    assert_eq!(
        catalog
            .resource_pool("sys_pool")
            .unwrap()
            .unwrap()
            .tenant_id,
        Some(1)
    );
    drop(catalog);
    // A second open neither duplicates nor resets anything.
    let catalog = Catalog::open(dir.path(), Some("ignored")).unwrap();
    assert_eq!(catalog.tenants().unwrap().len(), 1);
    assert_eq!(catalog.user(1, "root").unwrap().unwrap().native_hash, "");
}

#[test]
fn root_password_is_stored_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path(), Some("hunter2")).unwrap();
    let root = catalog.user(1, "root").unwrap().unwrap();
    assert!(root.native_hash.starts_with('*'));
    let raw = std::fs::read(dir.path().join("catalog.sqlite")).unwrap();
    assert!(!raw.windows(7).any(|w| w == b"hunter2"));
}

#[test]
fn tenants_pools_and_units() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path(), None).unwrap();
    catalog.create_unit_config("u1", &unit()).unwrap();
    assert!(matches!(
        catalog.create_unit_config("u1", &unit()),
        Err(CatalogError::UnitExists(_))
    ));
    assert!(matches!(
        catalog.create_resource_pool("p1", "nope", 1, &[]),
        Err(CatalogError::UnitNotExist(_))
    ));
    catalog.create_resource_pool("p1", "u1", 1, &[]).unwrap();
    let t = catalog
        .create_tenant("t1", CompatibilityMode::Mysql, "p1")
        .unwrap();
    assert_eq!(t.tenant_id, 1001);
    assert!(catalog.user(1001, "root").unwrap().unwrap().is_admin);
    assert_eq!(catalog.databases(1001).unwrap()[0].name, "test");
    // A pool serves one tenant.
    assert!(matches!(
        catalog.create_tenant("t2", CompatibilityMode::Oracle, "p1"),
        Err(CatalogError::PoolInUse(_))
    ));
    // The failed attempt left nothing behind.
    assert!(catalog.tenant_by_name("t2").unwrap().is_none());
    assert!(matches!(
        catalog.drop_unit_config("u1"),
        Err(CatalogError::UnitInUse(_))
    ));
    assert!(matches!(
        catalog.drop_resource_pool("p1"),
        Err(CatalogError::PoolInUse(_))
    ));
    let dir_of_t1 = catalog.storage().tenant_dir(1001);
    assert!(dir_of_t1.exists());
    catalog.drop_tenant("T1").unwrap();
    assert!(!dir_of_t1.exists());
    assert_eq!(
        catalog.resource_pool("p1").unwrap().unwrap().tenant_id,
        None
    );
    let t2 = catalog
        .create_tenant("t2", CompatibilityMode::Oracle, "p1")
        .unwrap();
    assert_eq!(t2.tenant_id, 1002, "tenant ids are never reused");
    assert!(catalog.user(1002, "SYS").unwrap().unwrap().is_admin);
    assert!(matches!(
        catalog.drop_tenant("sys"),
        Err(CatalogError::SysTenant(_))
    ));
}

#[test]
fn grants_and_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path(), None).unwrap();
    catalog.create_user(1, "alice", "pw").unwrap();
    let db = GrantLevel::Database("test".into());
    catalog.grant(1, "alice", &db, &[Privilege::All]).unwrap();
    catalog
        .revoke(1, "alice", &db, &[Privilege::Delete])
        .unwrap();
    let grants = catalog.grants(1, "alice").unwrap();
    assert!(grants.iter().any(|g| g.privilege == Privilege::Select));
    assert!(!grants
        .iter()
        .any(|g| g.privilege == Privilege::Delete || g.privilege == Privilege::All));
    assert!(matches!(
        catalog.grant(1, "bob", &db, &[Privilege::Select]),
        Err(CatalogError::UserNotExist(_))
    ));
    catalog.drop_user(1, "alice").unwrap();
    assert!(catalog.grants(1, "alice").unwrap().is_empty());
    assert!(matches!(
        catalog.drop_user(1, "root"),
        Err(CatalogError::AdminUser(_))
    ));
}

#[test]
fn parameters_validate_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path(), None).unwrap();
    assert_eq!(catalog.bulk_io_max_rate().unwrap(), 0);
    catalog
        .set_parameter("BULK_IO_MAX_RATE", "4MB", None)
        .unwrap();
    assert_eq!(catalog.bulk_io_max_rate().unwrap(), 4 << 20);
    assert!(matches!(
        catalog.set_parameter("bulk_io_max_rate", "fast", None),
        Err(CatalogError::InvalidParameterValue { .. })
    ));
    assert!(matches!(
        catalog.set_parameter("no_such", "1", None),
        Err(CatalogError::UnknownParameter(_))
    ));
    assert!(matches!(
        catalog.set_parameter("bulk_io_max_rate", "1M", Some(1)),
        Err(CatalogError::ParameterScope(_))
    ));
    drop(catalog);
    let catalog = Catalog::open(dir.path(), None).unwrap();
    assert_eq!(catalog.bulk_io_max_rate().unwrap(), 4 << 20);
}

#[test]
fn orphan_files_are_removed_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = Catalog::open(dir.path(), None).unwrap();
    let orphan = catalog.storage().create_database(1, 999).unwrap();
    let orphan_tenant = catalog.storage().create_database(4242, 1).unwrap();
    drop(catalog);
    let _catalog = Catalog::open(dir.path(), None).unwrap();
    assert!(!orphan.exists());
    assert!(!orphan_tenant.exists());
}
