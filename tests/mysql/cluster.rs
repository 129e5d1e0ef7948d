//! Cluster statements from root@sys: resource units and pools, tenants, parameters, views.

use mysql_async::prelude::*;

use crate::common::{expect_error, TestServer};

#[tokio::test]
async fn oceanbase_tenant_lifecycle() {
    let server = TestServer::start();
    let mut sys = server.connect("root@sys").await;
    sys.query_drop("CREATE RESOURCE UNIT unit1 MAX_CPU 1, MEMORY_SIZE '2G', LOG_DISK_SIZE '6G'")
        .await
        .unwrap();
    sys.query_drop(
        "CREATE RESOURCE POOL pool1 UNIT = 'unit1', UNIT_NUM = 1, ZONE_LIST = ('zone1')",
    )
    .await
    .unwrap();
    sys.query_drop("CREATE TENANT mysql_tenant RESOURCE_POOL_LIST = ('pool1') SET ob_compatibility_mode = 'mysql', ob_tcp_invited_nodes = '%'").await.unwrap();
    sys.query_drop("CREATE RESOURCE UNIT unit2 MAX_CPU 2, MEMORY_SIZE '4G'")
        .await
        .unwrap();
    sys.query_drop("CREATE RESOURCE POOL pool2 UNIT = 'unit2', UNIT_NUM = 1")
        .await
        .unwrap();
    sys.query_drop("CREATE TENANT oracle_tenant RESOURCE_POOL_LIST = ('pool2') SET ob_compatibility_mode = 'oracle'").await.unwrap();

    let tenants: Vec<(i64, String, String, String, String)> = sys
        .query("SELECT TENANT_ID, TENANT_NAME, TENANT_TYPE, COMPATIBILITY_MODE, STATUS FROM oceanbase.DBA_OB_TENANTS ORDER BY TENANT_ID")
        .await
        .unwrap();
    assert_eq!(
        tenants,
        vec![
            (
                1,
                "sys".into(),
                "SYS".into(),
                "MYSQL".into(),
                "NORMAL".into()
            ),
            (
                1001,
                "mysql_tenant".into(),
                "USER".into(),
                "MYSQL".into(),
                "NORMAL".into()
            ),
            (
                1002,
                "oracle_tenant".into(),
                "USER".into(),
                "ORACLE".into(),
                "NORMAL".into()
            ),
        ]
    );
    let pools: Vec<(String, Option<i64>, i64)> = sys
        .query("SELECT p.NAME, p.TENANT_ID, u.MEMORY_SIZE FROM oceanbase.DBA_OB_RESOURCE_POOLS p JOIN oceanbase.DBA_OB_UNIT_CONFIGS u ON p.UNIT_CONFIG_ID = u.UNIT_CONFIG_ID WHERE p.NAME LIKE 'pool%' ORDER BY p.NAME")
        .await
        .unwrap();
    assert_eq!(
        pools,
        vec![
            ("pool1".into(), Some(1001), 2 << 30),
            ("pool2".into(), Some(1002), 4 << 30)
        ]
    );

    // The admin users are root (MySQL mode) and SYS (Oracle mode), with empty passwords.
    let mut t = server.connect("root@mysql_tenant").await;
    let me: Option<String> = t.query_first("SELECT CURRENT_USER()").await.unwrap();
    assert_eq!(me.as_deref(), Some("root@%"));
    let mut o = server.connect("SYS@oracle_tenant").await;
    let mode: Option<String> = o
        .query_first("SELECT @@ob_compatibility_mode")
        .await
        .unwrap();
    assert_eq!(mode.as_deref(), Some("ORACLE"));
    drop(o);
    // A user tenant sees only itself in DBA_OB_TENANTS, and not the sys-only views at all.
    let visible: Vec<String> = t
        .query("SELECT TENANT_NAME FROM oceanbase.DBA_OB_TENANTS")
        .await
        .unwrap();
    assert_eq!(visible, vec!["mysql_tenant".to_string()]);
    let (code, _, _) = expect_error(&mut t, "SELECT * FROM oceanbase.DBA_OB_RESOURCE_POOLS").await;
    assert_eq!(code, 1146);

    // A pool serves one tenant; errors carry OceanBase's codes.
    assert_eq!(
        expect_error(&mut sys, "CREATE TENANT t3 RESOURCE_POOL_LIST = ('pool1')")
            .await
            .0,
        4626
    );
    assert_eq!(
        expect_error(
            &mut sys,
            "CREATE TENANT mysql_tenant RESOURCE_POOL_LIST = ('pool2')"
        )
        .await
        .0,
        5156
    );
    assert_eq!(
        expect_error(&mut sys, "CREATE TENANT t3 RESOURCE_POOL_LIST = ('nopool')")
            .await
            .0,
        4650
    );
    assert_eq!(
        expect_error(
            &mut sys,
            "CREATE RESOURCE POOL p9 UNIT = 'nounit', UNIT_NUM = 1"
        )
        .await
        .0,
        4648
    );
    assert_eq!(
        expect_error(
            &mut sys,
            "CREATE RESOURCE POOL pool1 UNIT = 'unit1', UNIT_NUM = 1"
        )
        .await
        .0,
        4651
    );
    assert_eq!(
        expect_error(
            &mut sys,
            "CREATE RESOURCE UNIT unit1 MAX_CPU 1, MEMORY_SIZE '2G'"
        )
        .await
        .0,
        4649
    );
    assert_eq!(
        expect_error(&mut sys, "DROP RESOURCE POOL pool1").await.0,
        4626
    );
    assert_eq!(
        expect_error(&mut sys, "DROP RESOURCE UNIT unit1").await.0,
        4634
    );
    assert_eq!(expect_error(&mut sys, "DROP TENANT nosuch").await.0, 5157);
    assert_eq!(expect_error(&mut sys, "DROP TENANT sys").await.0, 4179);
    sys.query_drop("DROP TENANT IF EXISTS nosuch")
        .await
        .unwrap();
    sys.query_drop("CREATE TENANT IF NOT EXISTS mysql_tenant RESOURCE_POOL_LIST = ('pool2')")
        .await
        .unwrap();

    // Dropping a tenant ends its sessions, removes its files and frees its pool for another tenant.
    let files = server.data_dir().join("tenants").join("1001");
    assert!(files.exists());
    sys.query_drop("DROP TENANT mysql_tenant FORCE")
        .await
        .unwrap();
    assert!(!files.exists());
    assert!(
        t.query_drop("SELECT 1").await.is_err(),
        "the dropped tenant's session is closed"
    );
    let owner: Option<Option<i64>> = sys
        .query_first("SELECT TENANT_ID FROM oceanbase.DBA_OB_RESOURCE_POOLS WHERE NAME = 'pool1'")
        .await
        .unwrap();
    assert_eq!(owner, Some(None));
    sys.query_drop("CREATE TENANT t4 RESOURCE_POOL_LIST = ('pool1')")
        .await
        .unwrap();
    let id: Option<i64> = sys
        .query_first("SELECT TENANT_ID FROM oceanbase.DBA_OB_TENANTS WHERE TENANT_NAME = 't4'")
        .await
        .unwrap();
    assert_eq!(id, Some(1003), "tenant ids are not reused");
    let mut gone = server.opts("root@mysql_tenant", "", None);
    gone = gone.prefer_socket(false);
    let err = mysql_async::Conn::new(gone)
        .await
        .expect_err("login to a dropped tenant fails");
    assert_eq!(crate::common::server_error(err).0, 1045);
}

#[tokio::test]
async fn parameters() {
    let server = TestServer::start();
    let mut sys = server.connect("root@sys").await;
    let rows: Vec<(String, String, String, String)> = sys
        .query("SHOW PARAMETERS LIKE 'bulk_io%'")
        .await
        .unwrap()
        .into_iter()
        .map(|r: mysql_async::Row| {
            (
                r.get::<String, _>("name").unwrap(),
                r.get::<String, _>("value").unwrap(),
                r.get::<String, _>("data_type").unwrap(),
                r.get::<String, _>("scope").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![(
            "bulk_io_max_rate".into(),
            "0".into(),
            "CAPACITY".into(),
            "CLUSTER".into()
        )]
    );
    sys.query_drop("ALTER SYSTEM SET bulk_io_max_rate = '4MB'")
        .await
        .unwrap();
    let value: Option<String> = sys
        .query_first("SHOW PARAMETERS LIKE 'bulk_io_max_rate'")
        .await
        .unwrap()
        .map(|r: mysql_async::Row| r.get::<String, _>("value").unwrap());
    assert_eq!(value.as_deref(), Some("4MB"));
    let (code, _, msg) = expect_error(&mut sys, "ALTER SYSTEM SET no_such_parameter = 1").await;
    assert_eq!(code, 4028);
    assert!(msg.contains("no_such_parameter"), "{msg}");
    let (code, _, msg) = expect_error(&mut sys, "ALTER SYSTEM SET bulk_io_max_rate = 'fast'").await;
    assert_eq!(code, 4147);
    assert!(msg.contains("fast"), "{msg}");
    // A bad value in a list changes nothing.
    expect_error(
        &mut sys,
        "ALTER SYSTEM SET bulk_io_max_rate = '1MB', bulk_io_max_rate = 'x'",
    )
    .await;
    let value: Option<String> = sys
        .query_first("SHOW PARAMETERS LIKE 'bulk_io_max_rate'")
        .await
        .unwrap()
        .map(|r: mysql_async::Row| r.get::<String, _>("value").unwrap());
    assert_eq!(value.as_deref(), Some("4MB"));
    server.create_tenant("t1").await;
    let mut t = server.connect("root@t1").await;
    assert_eq!(
        expect_error(&mut t, "ALTER SYSTEM SET bulk_io_max_rate = '1MB'")
            .await
            .0,
        1227
    );
}
