//! CockroachDB's account statements over the PostgreSQL wire: CREATE USER ... WITH PASSWORD, CREATE ROLE ...
//! LOGIN, ALTER USER / ROLE ... WITH PASSWORD, GRANT ... ON DATABASE, GRANT / REVOKE admin, SHOW USERS /
//! SHOW ROLES, DROP ROLE; and the refusal of an administrator's statement naming the grant that allows it.

use crate::common::{simple_rows, sqlstate, TestServer};

fn texts(rows: Vec<Vec<Option<String>>>) -> Vec<Vec<String>> {
    rows.into_iter()
        .map(|r| r.into_iter().map(|v| v.unwrap_or_default()).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cockroach_account_forms_create_grant_and_show_users() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let root = server.pg("root@t1", "", None).await;
    root.batch_execute(
        "CREATE DATABASE shop; \
         CREATE USER maxroach WITH PASSWORD 'secret'; \
         CREATE ROLE clerk WITH LOGIN PASSWORD 'pw'; \
         GRANT ALL ON DATABASE shop TO maxroach",
    )
    .await
    .unwrap();
    // A role that cannot log in is a group of users (see `roles_are_groups_whose_members_hold_their_grants`).
    root.batch_execute("CREATE ROLE readers").await.unwrap();
    assert_eq!(
        texts(simple_rows(&root, "SHOW USERS").await),
        [
            ["clerk", "", "{}"],
            ["maxroach", "", "{}"],
            ["readers", "NOLOGIN", "{}"],
            ["root", "", "{admin}"]
        ]
    );

    // Both wires take the passwords; the database grant lets maxroach create tables in shop only.
    let m = server.pg("maxroach@t1", "secret", Some("shop")).await;
    let mut m_mysql = server.mysql("maxroach@t1", "secret", Some("shop")).await;
    mysql_async::prelude::Queryable::query_drop(&mut m_mysql, "SELECT 1")
        .await
        .unwrap();
    server.pg("clerk@t1", "pw", None).await;
    m.batch_execute("CREATE TABLE orders (id INT PRIMARY KEY)")
        .await
        .unwrap();
    let e = m.simple_query("CREATE DATABASE other").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42501", "{e}");
    // SHOW USERS shows a user that administers nothing only itself.
    assert_eq!(
        texts(simple_rows(&m, "SHOW ROLES").await),
        [["maxroach", "", "{}"]]
    );

    // BACKUP needs the tenant's administrator, and the refusal says which grant that is.
    let uri = format!("file://{}/t1/bk", server.external_dir().display());
    let e = m
        .simple_query(&format!("BACKUP INTO '{uri}'"))
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42501", "{e}");
    let message = e
        .as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_default();
    assert!(message.contains("GRANT admin TO"), "{message}");

    // GRANT admin makes maxroach an administrator from its next login on; REVOKE takes it back.
    root.batch_execute("GRANT admin TO maxroach").await.unwrap();
    let m = server.pg("maxroach@t1", "secret", Some("shop")).await;
    let out = simple_rows(&m, &format!("BACKUP INTO '{uri}'")).await;
    assert_eq!(out[0][1].as_deref(), Some("succeeded"));
    m.batch_execute("CREATE USER auditor").await.unwrap();
    // clerk, maxroach, root, auditor, and the role readers.
    assert_eq!(simple_rows(&m, "SHOW USERS").await.len(), 5);
    root.batch_execute("REVOKE admin FROM maxroach")
        .await
        .unwrap();
    let m = server.pg("maxroach@t1", "secret", Some("shop")).await;
    let e = m.simple_query("CREATE USER other").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42501", "{e}");
    // The tenant's last administrator keeps the role; GRANT to a missing user changes nothing.
    let e = root
        .simple_query("REVOKE admin FROM root")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42710", "{e}");
    let e = root.simple_query("GRANT admin TO ghost").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42710", "{e}");

    // Passwords change with ALTER USER / ALTER ROLE ... WITH PASSWORD; DROP ROLE drops the user.
    root.batch_execute("ALTER ROLE maxroach WITH PASSWORD 'changed'")
        .await
        .unwrap();
    assert!(server.try_pg("maxroach@t1", "secret", None).await.is_err());
    server.pg("maxroach@t1", "changed", None).await;
    root.batch_execute("DROP ROLE clerk; DROP USER IF EXISTS auditor; DROP ROLE readers")
        .await
        .unwrap();
    assert_eq!(
        texts(simple_rows(&root, "SHOW USERS").await),
        [["maxroach", "", "{}"], ["root", "", "{admin}"]]
    );
    assert!(server.try_pg("clerk@t1", "pw", None).await.is_err());
}

/// CockroachDB's `GRANT SELECT ON TABLE t TO u` (and `db.public.t`): the user reads that table only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn table_grants_in_cockroach_form() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let root = server.pg("root@t1", "", None).await;
    root.batch_execute(
        "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY); CREATE TABLE shop.costs (id INT);
         INSERT INTO shop.items VALUES (1); CREATE USER reader WITH PASSWORD 'pw'",
    )
    .await
    .unwrap();
    let root_shop = server.pg("root@t1", "", Some("shop")).await;
    root_shop
        .batch_execute("GRANT SELECT ON TABLE items TO reader; GRANT INSERT ON TABLE shop.public.costs TO reader")
        .await
        .unwrap();
    let r = server.pg("reader@t1", "pw", Some("shop")).await;
    assert_eq!(
        texts(simple_rows(&r, "SELECT id FROM items").await),
        [["1"]]
    );
    r.batch_execute("INSERT INTO costs VALUES (5)")
        .await
        .unwrap();
    // SHOW GRANTS answers as CockroachDB does: a row per privilege and object.
    let row = |db: Option<&str>,
               schema: Option<&str>,
               table: Option<&str>,
               who: &str,
               p: &str,
               g: &str| {
        [db, schema, table, Some(who), Some(p), Some(g)]
            .iter()
            .map(|v| v.map(str::to_string))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        simple_rows(&root, "SHOW GRANTS FOR reader").await,
        vec![
            row(
                Some("shop"),
                Some("public"),
                Some("costs"),
                "reader",
                "INSERT",
                "f"
            ),
            row(
                Some("shop"),
                Some("public"),
                Some("items"),
                "reader",
                "SELECT",
                "f"
            ),
        ]
    );
    assert_eq!(
        simple_rows(&root, "SHOW GRANTS").await,
        vec![row(None, None, None, "root", "ALL", "t")]
    );
    // A list of tables (CockroachDB's form), all or nothing: one missing table grants none of them.
    root_shop
        .batch_execute("CREATE USER lister WITH PASSWORD 'pw'")
        .await
        .unwrap();
    let e = root_shop
        .simple_query("GRANT SELECT ON TABLE items, nope TO lister")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42P01", "{e}");
    let lister = server.pg("lister@t1", "pw", None).await;
    let e = lister
        .simple_query("SELECT id FROM shop.items")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42501", "{e}");
    root_shop
        .batch_execute("GRANT SELECT ON TABLE items, shop.public.costs TO lister")
        .await
        .unwrap();
    assert_eq!(
        texts(
            simple_rows(
                &lister,
                "SELECT count(*) FROM shop.items JOIN shop.costs ON true"
            )
            .await
        ),
        [["1"]]
    );
    root_shop
        .batch_execute("REVOKE SELECT ON TABLE items, costs FROM lister")
        .await
        .unwrap();
    let e = lister
        .simple_query("SELECT id FROM shop.costs")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42501", "{e}");
    for sql in [
        "SELECT id FROM costs",
        "DELETE FROM items",
        "INSERT INTO items VALUES (2)",
    ] {
        let e = r.simple_query(sql).await.unwrap_err();
        assert_eq!(sqlstate(&e), "42501", "{sql}: {e}");
    }
}

/// Roles as groups: `CREATE ROLE r` (no LOGIN) cannot log in; its members hold its grants, through other roles
/// too, until REVOKE; SHOW ROLES lists memberships; a cycle is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_groups_whose_members_hold_their_grants() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let root = server.pg("root@t1", "", None).await;
    root.batch_execute(
        "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY); INSERT INTO shop.items VALUES (1);
         CREATE ROLE readers; CREATE ROLE staff; GRANT SELECT ON TABLE shop.items TO readers;
         GRANT readers TO staff; CREATE USER amy WITH PASSWORD 'pw'; GRANT staff TO amy",
    )
    .await
    .unwrap();
    let amy = server.pg("amy@t1", "pw", Some("shop")).await;
    assert_eq!(
        texts(simple_rows(&amy, "SELECT id FROM items").await),
        [["1"]]
    );
    let e = amy
        .simple_query("INSERT INTO items VALUES (2)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "42501", "{e}");
    assert_eq!(
        texts(simple_rows(&root, "SHOW ROLES").await),
        [
            ["amy", "", "{staff}"],
            ["readers", "NOLOGIN", "{}"],
            ["root", "", "{admin}"],
            ["staff", "NOLOGIN", "{readers}"]
        ]
    );
    // A role cannot log in, over either wire, whatever is tried.
    assert!(server.try_pg("readers@t1", "", None).await.is_err());
    let e = root.simple_query("GRANT amy TO readers").await.unwrap_err();
    assert_eq!(sqlstate(&e), "22023", "a cycle: {e}");
    // pg_roles and pg_auth_members as psql's \du reads them.
    assert_eq!(
        texts(
            simple_rows(
                &root,
                "SELECT r.rolname, r.rolcanlogin, ARRAY(SELECT b.rolname FROM pg_catalog.pg_auth_members m \
                 JOIN pg_catalog.pg_roles b ON (m.roleid = b.oid) WHERE m.member = r.oid) \
                 FROM pg_catalog.pg_roles r WHERE r.rolname IN ('amy', 'readers', 'staff') ORDER BY 1"
            )
            .await
        ),
        [
            ["amy", "t", "{staff}"],
            ["readers", "f", "{}"],
            ["staff", "f", "{readers}"]
        ]
    );
    root.batch_execute("REVOKE staff FROM amy").await.unwrap();
    let e = amy.simple_query("SELECT id FROM items").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42501", "{e}");
    // Dropping a role ends its memberships.
    root.batch_execute("GRANT readers TO amy; DROP ROLE readers")
        .await
        .unwrap();
    let e = amy.simple_query("SELECT id FROM items").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42501", "{e}");
}
