//! Users, passwords, grants, and isolation between tenants.

use mysql_async::prelude::*;
use mysql_async::Conn;

use crate::common::{expect_error, server_error, TestServer};

#[tokio::test]
async fn users_grants_and_passwords() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut root = server.connect("root@t1").await;
    root.query_drop("CREATE DATABASE app").await.unwrap();
    root.query_drop("CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(10))")
        .await
        .unwrap();
    root.query_drop("INSERT INTO app.t VALUES (1, 'a')")
        .await
        .unwrap();
    root.query_drop("CREATE USER 'alice'@'%' IDENTIFIED BY 'secret'")
        .await
        .unwrap();
    assert_eq!(
        expect_error(&mut root, "CREATE USER alice IDENTIFIED BY 'x'")
            .await
            .0,
        1396
    );
    root.query_drop("CREATE USER IF NOT EXISTS alice IDENTIFIED BY 'x'")
        .await
        .unwrap();

    // Passwords are checked for real; the empty one and a wrong one fail with 1045.
    for pw in ["", "Secret", "secretx"] {
        let err = Conn::new(server.opts("alice@t1", pw, None))
            .await
            .expect_err("wrong password refused");
        assert_eq!(server_error(err).0, 1045);
    }
    let mut alice = server.connect_with("alice@t1", "secret", None).await;
    // No privileges yet: USE, SELECT and INSERT are refused with MySQL's errors.
    assert_eq!(expect_error(&mut alice, "USE app").await.0, 1044);
    assert_eq!(
        expect_error(&mut alice, "SELECT * FROM app.t").await.0,
        1142
    );
    let dbs: Vec<String> = alice.query("SHOW DATABASES").await.unwrap();
    assert!(!dbs.contains(&"app".to_string()), "{dbs:?}");
    root.query_drop("GRANT SELECT, INSERT ON app.* TO alice")
        .await
        .unwrap();
    alice.query_drop("USE app").await.unwrap();
    let v: Option<String> = alice
        .query_first("SELECT v FROM t WHERE id = 1")
        .await
        .unwrap();
    assert_eq!(v.as_deref(), Some("a"));
    alice
        .query_drop("INSERT INTO t VALUES (2, 'b')")
        .await
        .unwrap();
    let (code, state, msg) = expect_error(&mut alice, "DELETE FROM t").await;
    assert_eq!((code, state.as_str()), (1142, "42000"));
    assert_eq!(
        msg,
        "DELETE command denied to user 'alice'@'%' for table 't'"
    );
    assert_eq!(expect_error(&mut alice, "DROP TABLE t").await.0, 1142);
    assert_eq!(
        expect_error(&mut alice, "CREATE DATABASE mine").await.0,
        1044
    );
    assert_eq!(expect_error(&mut alice, "CREATE USER bob").await.0, 1227);
    assert_eq!(
        expect_error(&mut alice, "GRANT ALL ON *.* TO alice")
            .await
            .0,
        1227
    );
    let grants: Vec<String> = alice.query("SHOW GRANTS").await.unwrap();
    assert_eq!(
        grants,
        vec![
            "GRANT USAGE ON *.* TO 'alice'@'%'",
            "GRANT SELECT, INSERT ON `app`.* TO 'alice'@'%'"
        ]
    );
    root.query_drop("REVOKE INSERT ON app.* FROM alice")
        .await
        .unwrap();
    assert_eq!(
        expect_error(&mut alice, "INSERT INTO t VALUES (3, 'c')")
            .await
            .0,
        1142
    );
    root.query_drop("GRANT ALL PRIVILEGES ON *.* TO alice")
        .await
        .unwrap();
    alice
        .query_drop("DELETE FROM t WHERE id = 2")
        .await
        .unwrap();

    // Password changes: by the admin, and by the user for itself.
    root.query_drop("ALTER USER alice IDENTIFIED BY 'n3w'")
        .await
        .unwrap();
    assert!(Conn::new(server.opts("alice@t1", "secret", None))
        .await
        .is_err());
    let mut alice2 = server.connect_with("alice@t1", "n3w", None).await;
    alice2.query_drop("SET PASSWORD = 'mine'").await.unwrap();
    server.connect_with("alice@t1", "mine", None).await;
    assert_eq!(
        expect_error(&mut alice2, "SET PASSWORD FOR root = 'x'")
            .await
            .0,
        1227
    );

    // The tenant administrator cannot be dropped; a dropped user cannot log in.
    assert_eq!(expect_error(&mut root, "DROP USER root").await.0, 1396);
    root.query_drop("DROP USER alice").await.unwrap();
    assert!(Conn::new(server.opts("alice@t1", "mine", None))
        .await
        .is_err());
    assert_eq!(expect_error(&mut root, "DROP USER alice").await.0, 1396);
    root.query_drop("DROP USER IF EXISTS alice").await.unwrap();
}

#[tokio::test]
async fn tenants_are_isolated() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    server.create_tenant("t2").await;
    let mut a = server.connect("root@t1").await;
    let mut b = server.connect("root@t2").await;
    a.query_drop("CREATE DATABASE secret").await.unwrap();
    a.query_drop("CREATE TABLE secret.s (x INT)").await.unwrap();
    a.query_drop("INSERT INTO secret.s VALUES (42)")
        .await
        .unwrap();
    a.query_drop("CREATE TABLE test.same (x INT)")
        .await
        .unwrap();
    a.query_drop("INSERT INTO test.same VALUES (1)")
        .await
        .unwrap();
    b.query_drop("CREATE TABLE test.same (x INT)")
        .await
        .unwrap();
    b.query_drop("INSERT INTO test.same VALUES (2)")
        .await
        .unwrap();
    // Same database and table names, different data.
    let va: Option<i64> = a.query_first("SELECT x FROM test.same").await.unwrap();
    let vb: Option<i64> = b.query_first("SELECT x FROM test.same").await.unwrap();
    assert_eq!((va, vb), (Some(1), Some(2)));
    // Another tenant's database does not exist from here, by any route.
    assert_eq!(expect_error(&mut b, "USE secret").await.0, 1049);
    assert_eq!(expect_error(&mut b, "SELECT * FROM secret.s").await.0, 1146);
    let dbs: Vec<String> = b.query("SHOW DATABASES").await.unwrap();
    assert!(!dbs.contains(&"secret".to_string()));
    // Raw SQLite escape hatches are not SQL this server accepts.
    for sql in [
        "ATTACH DATABASE '/etc/passwd' AS x",
        "PRAGMA database_list",
        "SELECT * FROM sqlite_dbpage",
        "SELECT * FROM test.sqlite_dbpage",
        "UPDATE test.sqlite_dbpage SET data = zeroblob(4096) WHERE pgno = 1",
        "SELECT * FROM pragma_table_info('t', 'secret')",
        "VACUUM INTO '/tmp/x.db'",
    ] {
        assert!(b.query_drop(sql).await.is_err(), "{sql} must fail");
    }
    // The same user name in two tenants is two users.
    a.query_drop("CREATE USER u IDENTIFIED BY 'pa'")
        .await
        .unwrap();
    b.query_drop("CREATE USER u IDENTIFIED BY 'pb'")
        .await
        .unwrap();
    assert!(Conn::new(server.opts("u@t1", "pb", None)).await.is_err());
    server.connect_with("u@t1", "pa", None).await;
    server.connect_with("u@t2", "pb", None).await;
    // Cluster statements are for root@sys only.
    for sql in [
        "CREATE RESOURCE UNIT u9 MAX_CPU 1, MEMORY_SIZE '2G'",
        "CREATE TENANT t9 RESOURCE_POOL_LIST = ('p')",
        "DROP TENANT t2",
        "ALTER SYSTEM SET bulk_io_max_rate = '1M'",
    ] {
        let (code, state, _) = expect_error(&mut a, sql).await;
        assert_eq!((code, state.as_str()), (1227, "42000"), "{sql}");
    }
    // Login names: user@tenant#cluster, and a bare user means sys.
    server.connect("root@t1#obcluster").await;
    let mut bare = server.connect("root").await;
    let t: Option<String> = bare
        .query_first("SELECT TENANT_NAME FROM oceanbase.DBA_OB_TENANTS WHERE TENANT_ID = 1")
        .await
        .unwrap();
    assert_eq!(t.as_deref(), Some("sys"));
}

#[tokio::test]
async fn root_password_option() {
    let server = TestServer::start_with(&["--root-password", "topsecret"]);
    assert!(Conn::new(server.opts("root@sys", "", None)).await.is_err());
    let mut c = server.connect_with("root@sys", "topsecret", None).await;
    let one: Option<i64> = c.query_first("SELECT 1").await.unwrap();
    assert_eq!(one, Some(1));
    let catalog = std::fs::read(server.data_dir().join("catalog.sqlite")).unwrap();
    assert!(
        !catalog.windows(9).any(|w| w == b"topsecret"),
        "passwords are stored hashed"
    );
}

#[tokio::test]
async fn name_resolution_never_reaches_past_the_privilege_check() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut root = server.connect("root@t1").await;
    root.query_drop("CREATE DATABASE app").await.unwrap();
    root.query_drop("CREATE DATABASE logs").await.unwrap();
    root.query_drop("CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(10))")
        .await
        .unwrap();
    root.query_drop("INSERT INTO app.t VALUES (1, 'a'), (2, 'b')")
        .await
        .unwrap();
    root.query_drop("CREATE VIEW app.v AS SELECT id FROM app.t WHERE id > 1")
        .await
        .unwrap();
    root.query_drop("CREATE TABLE logs.secret (s VARCHAR(20))")
        .await
        .unwrap();
    root.query_drop("INSERT INTO logs.secret VALUES ('classified')")
        .await
        .unwrap();
    root.query_drop("CREATE USER alice IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    root.query_drop("GRANT SELECT ON app.* TO alice")
        .await
        .unwrap();
    let mut alice = server.connect_with("alice@t1", "pw", Some("app")).await;
    // Ordinary CTEs and views keep working for her.
    let n: Option<i64> = alice
        .query_first("WITH x AS (SELECT * FROM t) SELECT COUNT(*) FROM x")
        .await
        .unwrap();
    assert_eq!(n, Some(2));
    let ids: Vec<i64> = alice.query("SELECT id FROM v").await.unwrap();
    assert_eq!(ids, vec![2]);
    // So do recursive ones (SQLite asks about reading the CTE with no database).
    let n: Option<i64> = alice
        .query_first("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) SELECT COUNT(*) FROM c")
        .await
        .unwrap();
    assert_eq!(n, Some(5));
    // A CTE name in one scope used as a table in another must not resolve to logs.secret.
    let sneaky = "SELECT s FROM (WITH secret AS (SELECT 1) SELECT 1) a, secret";
    assert!(alice.query_drop(sneaky).await.is_err());
    // Not even once her session has logs attached (she could read it until her grant was revoked): the
    // refusal is MySQL's 1142 for the name the statement used, naming neither the database nor the column
    // SQLite found (its own message was "access to logs.secret.s is prohibited").
    root.query_drop("GRANT SELECT ON logs.* TO alice")
        .await
        .unwrap();
    let n: Option<i64> = alice
        .query_first("SELECT COUNT(*) FROM logs.secret")
        .await
        .unwrap();
    assert_eq!(n, Some(1));
    root.query_drop("REVOKE SELECT ON logs.* FROM alice")
        .await
        .unwrap();
    let (code, _, msg) = expect_error(&mut alice, sneaky).await;
    assert_eq!(code, 1142, "{msg}");
    assert_eq!(
        msg,
        "SELECT command denied to user 'alice'@'%' for table 'secret'"
    );
    assert!(alice.query_drop("SELECT * FROM logs.secret").await.is_err());
}

/// A user with SELECT on `d.*` who writes or creates gets MySQL's 1142 naming the command and the table;
/// 1044 is for database-level statements on a database the user has nothing on.
#[tokio::test]
async fn select_only_user_gets_1142_for_each_table_command() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut root = server.connect("root@t1").await;
    for sql in [
        "CREATE DATABASE d",
        "CREATE DATABASE other",
        "CREATE TABLE d.t (id INT PRIMARY KEY, v INT)",
        "CREATE USER u IDENTIFIED BY 'pw'",
        "GRANT SELECT ON d.* TO u",
    ] {
        root.query_drop(sql).await.unwrap();
    }
    let mut u = server.connect_with("u@t1", "pw", Some("d")).await;
    let _: Vec<i64> = u.query("SELECT id FROM t").await.unwrap();
    for (sql, command, table) in [
        ("INSERT INTO t VALUES (1, 1)", "INSERT", "t"),
        ("UPDATE t SET v = 2", "UPDATE", "t"),
        ("DELETE FROM d.t", "DELETE", "t"),
        ("CREATE TABLE t2 (id INT)", "CREATE", "t2"),
        ("CREATE TABLE d.t3 AS SELECT * FROM d.t", "CREATE", "t3"),
        ("ALTER TABLE t ADD COLUMN w INT", "ALTER", "t"),
        ("DROP TABLE t", "DROP", "t"),
    ] {
        let (code, state, message) = expect_error(&mut u, sql).await;
        assert_eq!((code, state.as_str()), (1142, "42000"), "{sql}: {message}");
        assert_eq!(
            message,
            format!("{command} command denied to user 'u'@'%' for table '{table}'"),
            "{sql}"
        );
    }
    // The same through a prepared statement.
    let err = u
        .exec_drop("INSERT INTO t VALUES (?, ?)", (5, 5))
        .await
        .expect_err("prepared INSERT refused");
    assert_eq!(server_error(err).0, 1142);
    // Database-level statements on a database the user has no privilege on at all.
    assert_eq!(expect_error(&mut u, "USE other").await.0, 1044);
    let (code, _, message) = expect_error(&mut u, "CREATE DATABASE mine").await;
    assert_eq!(code, 1044, "{message}");
    let rows: Vec<i64> = root.query("SELECT id FROM d.t").await.unwrap();
    assert!(rows.is_empty(), "nothing was written");
}

/// Table-level grants (`GRANT ... ON db.t`, `ON t`, `ON TABLE t`): they allow what they name on that table
/// only, show in SHOW GRANTS, are revoked alike, and refuse privileges that are not a table's.
#[tokio::test]
async fn table_level_grants_allow_their_table_only() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut root = server.connect("root@t1").await;
    root.query_drop(
        "CREATE DATABASE app; USE app; CREATE TABLE a (id INT PRIMARY KEY, v INT); \
         CREATE TABLE b (id INT PRIMARY KEY, w INT); INSERT INTO a VALUES (1, 1); INSERT INTO b VALUES (1, 2); \
         CREATE USER u IDENTIFIED BY 'pw'; GRANT SELECT ON app.a TO u; GRANT INSERT, UPDATE ON TABLE b TO u",
    )
    .await
    .unwrap();
    let mut u = server.connect_with("u@t1", "pw", Some("app")).await;
    let v: Option<i64> = u.query_first("SELECT v FROM a").await.unwrap();
    assert_eq!(v, Some(1));
    u.query_drop("INSERT INTO b VALUES (2, 3)").await.unwrap();
    u.query_drop("UPDATE b SET w = 4 WHERE id = 2")
        .await
        .unwrap();
    for (sql, command) in [
        ("SELECT w FROM b", "SELECT"),
        ("SELECT a.v FROM a JOIN b ON a.id = b.id", "SELECT"),
        ("INSERT INTO a VALUES (9, 9)", "INSERT"),
        ("DELETE FROM b", "DELETE"),
        ("CREATE TABLE c (id INT)", "CREATE"),
    ] {
        let (code, _, msg) = expect_error(&mut u, sql).await;
        assert_eq!(code, 1142, "{sql}: {msg}");
        assert!(msg.starts_with(command), "{sql}: {msg}");
    }
    // Only the tables it holds something on are listed to it, as MySQL lists them.
    root.query_drop("CREATE TABLE app.hidden (x INT)")
        .await
        .unwrap();
    let tables: Vec<String> = u.query("SHOW TABLES").await.unwrap();
    assert_eq!(tables, ["a", "b"]);
    let tables: Vec<String> = u
        .query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app' ORDER BY 1")
        .await
        .unwrap();
    assert_eq!(tables, ["a", "b"]);
    let grants: Vec<String> = root.query("SHOW GRANTS FOR u").await.unwrap();
    assert_eq!(
        grants,
        [
            "GRANT USAGE ON *.* TO 'u'@'%'",
            "GRANT SELECT ON `app`.`a` TO 'u'@'%'",
            "GRANT INSERT, UPDATE ON `app`.`b` TO 'u'@'%'",
        ]
    );
    // Privileges that are not a table's, and tables that do not exist, are refused; nothing is granted.
    let (code, _, _) = expect_error(&mut root, "GRANT FILE ON app.a TO u").await;
    assert_eq!(code, 1144);
    let (code, _, _) = expect_error(&mut root, "GRANT SELECT ON app.nope TO u").await;
    assert_eq!(code, 1146);
    // A database name that could not be one (it would read back as a table's grant) is refused.
    let (code, _, _) = expect_error(&mut root, "GRANT SELECT ON `app.a`.* TO u").await;
    assert_eq!(code, 1103);
    root.query_drop("REVOKE SELECT ON app.a FROM u")
        .await
        .unwrap();
    let (code, _, _) = expect_error(&mut u, "SELECT v FROM a").await;
    assert_eq!(code, 1142);
    // ALL on a table is every table privilege (CockroachDB's CHANGEFEED among them), and a partial REVOKE
    // leaves the rest.
    root.query_drop("GRANT ALL ON app.a TO u; REVOKE DELETE ON app.a FROM u")
        .await
        .unwrap();
    let grants: Vec<String> = root.query("SHOW GRANTS FOR u").await.unwrap();
    assert!(
        grants.contains(
            &"GRANT SELECT, INSERT, UPDATE, CREATE, DROP, ALTER, INDEX, CHANGEFEED ON `app`.`a` TO 'u'@'%'"
                .to_string()
        ),
        "{grants:?}"
    );
    let v: Option<i64> = u.query_first("SELECT v FROM a").await.unwrap();
    assert_eq!(v, Some(1));
    let (code, _, _) = expect_error(&mut u, "DELETE FROM a").await;
    assert_eq!(code, 1142);
}

/// MySQL 8's roles: `CREATE ROLE 'r'`, privileges granted to it, `GRANT 'r' TO u`. A role cannot log in
/// (1045 as for an unknown user); its grants act for its members at once (activate_all_roles_on_login).
#[tokio::test]
async fn roles_grant_their_privileges_to_members_and_cannot_log_in() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut root = server.connect("root@t1").await;
    root.query_drop(
        "CREATE DATABASE app; CREATE TABLE app.t (id INT); INSERT INTO app.t VALUES (1); \
         CREATE ROLE 'app_read'; GRANT SELECT ON app.* TO 'app_read'; \
         CREATE USER u IDENTIFIED BY 'pw'; GRANT 'app_read' TO u",
    )
    .await
    .unwrap();
    let mut u = server.connect_with("u@t1", "pw", Some("app")).await;
    let n: Option<i64> = u.query_first("SELECT COUNT(*) FROM t").await.unwrap();
    assert_eq!(n, Some(1));
    let (code, _, _) = expect_error(&mut u, "INSERT INTO t VALUES (2)").await;
    assert_eq!(code, 1142);
    for password in ["", "pw"] {
        let opts = server.opts("app_read@t1", password, None);
        let e = Conn::new(opts).await.expect_err("a role logs in");
        let (code, _, _) = server_error(e);
        assert_eq!(code, 1045);
    }
    root.query_drop("REVOKE 'app_read' FROM u").await.unwrap();
    let (code, _, _) = expect_error(&mut u, "SELECT COUNT(*) FROM t").await;
    assert_eq!(code, 1142);
}
