//! CockroachDB's cluster settings over the existing parameters, shared with ALTER SYSTEM / SHOW PARAMETERS.

use mysql_async::prelude::*;

use crate::common::{simple_rows, sqlstate, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_settings_map_onto_parameters() {
    let server = TestServer::start();
    let root = server.pg("root@sys", "", None).await;
    root.batch_execute("SET CLUSTER SETTING bulk_io_max_rate = '4MB'")
        .await
        .unwrap();
    let rows = root
        .query("SHOW CLUSTER SETTING bulk_io_max_rate", &[])
        .await
        .unwrap();
    assert_eq!(rows[0].columns()[0].name(), "bulk_io_max_rate");
    let value: String = rows[0].get(0);
    assert!(value.to_ascii_uppercase().starts_with('4'), "{value}");

    // The MySQL front end sees the same parameter.
    let mut my = server.mysql("root@sys", "", None).await;
    let shown: Vec<mysql_async::Row> = my
        .query("SHOW PARAMETERS LIKE 'bulk_io_max_rate'")
        .await
        .unwrap();
    assert_eq!(shown[0].get::<String, _>("value"), Some(value.clone()));

    let all = simple_rows(&root, "SHOW CLUSTER SETTINGS").await;
    assert!(all
        .iter()
        .any(|r| r[0].as_deref() == Some("bulk_io_max_rate") && r[1] == Some(value.clone())));

    // Only root@sys sets them; unknown settings are 42704.
    root.batch_execute("CREATE USER maxroach IDENTIFIED BY 'pw'; GRANT ALL ON *.* TO maxroach")
        .await
        .unwrap();
    let m = server.pg("maxroach@sys", "pw", None).await;
    let e = m
        .simple_query("SET CLUSTER SETTING bulk_io_max_rate = '1MB'")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42501");
    let e = root
        .simple_query("SHOW CLUSTER SETTING no_such_setting")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42704");
}
