//! Logins over the PostgreSQL wire: no challenge for users without a password, SCRAM-SHA-256 otherwise,
//! and the database that selects the session's current database.

use crate::common::{simple_rows, sqlstate, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_and_databases() {
    let server = TestServer::start();
    // root@sys has an empty password on first start: let in without one, in `test` by default.
    let root = server.pg("root@sys", "", None).await;
    assert_eq!(
        simple_rows(&root, "SELECT DATABASE()").await,
        vec![vec![Some("test".to_string())]]
    );
    // psql's default database is the user name: it means "none".
    let c = server.pg("root@sys", "", Some("root@sys")).await;
    assert_eq!(
        simple_rows(&c, "SELECT DATABASE()").await,
        vec![vec![Some("test".to_string())]]
    );
    root.batch_execute("CREATE DATABASE shop; CREATE USER maxroach IDENTIFIED BY 'pw'; GRANT ALL ON *.* TO maxroach")
        .await
        .unwrap();
    let c = server.pg("root@sys", "", Some("shop")).await;
    assert_eq!(
        simple_rows(&c, "SELECT DATABASE()").await,
        vec![vec![Some("shop".to_string())]]
    );
    let e = server
        .try_pg("root@sys", "", Some("nope"))
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&e), "3D000");

    // SCRAM-SHA-256 against the same stored verifier as MySQL's users.
    let m = server.pg("maxroach@sys", "pw", None).await;
    assert_eq!(
        simple_rows(&m, "SELECT 1").await,
        vec![vec![Some("1".to_string())]]
    );
    let _ = server.mysql("maxroach@sys", "pw", None).await;
    for (login, pw) in [
        ("maxroach@sys", "wrong"),
        ("ghost@sys", "pw"),
        ("maxroach@nosuchtenant", "pw"),
    ] {
        let e = server.try_pg(login, pw, None).await.err().unwrap();
        assert_eq!(sqlstate(&e), "28P01", "{login}");
        let message = e.as_db_error().map(|d| d.message().to_string());
        assert_eq!(
            message,
            Some(format!(
                "Access denied for user '{login}'@'127.0.0.1' (using password: YES)"
            )),
            "unknown users and wrong passwords fail alike"
        );
    }
}

/// A user with grants on its own database only still logs in without naming one (as CockroachDB lets a user
/// without a grant on defaultdb connect): the session has no current database until it enters one, and asking
/// for a database it has no grant on is refused at login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_a_grant_on_test_logs_in_without_a_database() {
    let server = TestServer::start();
    let root = server.pg("root@sys", "", None).await;
    root.batch_execute(
        "CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY); \
         INSERT INTO shop.items VALUES (7); \
         CREATE USER clerk IDENTIFIED BY 'pw'; GRANT SELECT ON shop.* TO clerk",
    )
    .await
    .unwrap();
    let c = server.pg("clerk@sys", "pw", None).await;
    assert_eq!(simple_rows(&c, "SELECT DATABASE()").await, vec![vec![None]]);
    assert_eq!(
        simple_rows(&c, "SELECT id FROM shop.items").await,
        vec![vec![Some("7".to_string())]]
    );
    let e = c.simple_query("SELECT * FROM test.t").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42501", "{e}");
    c.batch_execute("USE shop").await.unwrap();
    assert_eq!(
        simple_rows(&c, "SELECT DATABASE()").await,
        vec![vec![Some("shop".to_string())]]
    );
    let e = server
        .try_pg("clerk@sys", "pw", Some("test"))
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&e), "42501", "{e}");
    assert!(server.try_pg("clerk@sys", "pw", Some("shop")).await.is_ok());
}
