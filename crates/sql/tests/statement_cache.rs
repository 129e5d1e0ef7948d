//! The session's statement cache, by counting work: a statement run again is neither parsed nor translated
//! again (the parser's step counter does not move), unless something it depends on changed: a schema change,
//! the catalog (a REVOKE, a database made again), or session values written into its translation.

use std::sync::Arc;

use tenantry_catalog::Catalog;
use tenantry_jobs::{JobRegistry, RegistryConfig};
use tenantry_sql::{Engine, Output, Session, Value};

struct Server {
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    engine: Arc<Engine>,
}

fn server() -> Server {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let catalog = Arc::new(Catalog::open(dir.path(), None).unwrap());
    let jobs = JobRegistry::open(
        &dir.path().join("catalog.sqlite"),
        RegistryConfig::default(),
        rt.handle().clone(),
    )
    .unwrap();
    // ALTER TABLE ... ADD COLUMN runs as a SCHEMA CHANGE job.
    jobs.register_kind(
        tenantry_kinds::SCHEMA_CHANGE,
        Arc::new(tenantry_kinds::schema_change::SchemaChange::new(
            catalog.clone(),
        )),
    );
    let engine = Engine::new(catalog, jobs.clone());
    jobs.start().unwrap();
    Server {
        rt,
        _dir: dir,
        engine,
    }
}

impl Server {
    fn session(&self, login: &str) -> Session {
        let _enter = self.rt.enter();
        let id = self
            .engine
            .authenticate(login, "127.0.0.1", false, |_| true)
            .unwrap();
        Session::open(
            self.engine.clone(),
            id,
            self.engine.sessions().next_id(),
            "127.0.0.1:40000",
            "mysql",
            tokio_util::sync::CancellationToken::new(),
        )
        .unwrap()
    }
}

/// Runs `sql` and returns its rows and the parser steps it took.
fn run(
    s: &mut Session,
    sql: &str,
    params: &[Value],
) -> (tenantry_sql::Result<Vec<Vec<Value>>>, u64) {
    let before = tenantry_sql::parser::work::steps();
    let out = s.execute(sql, params).map(|o| match o {
        Output::Rows(rs) => rs.rows,
        _ => Vec::new(),
    });
    (out, tenantry_sql::parser::work::steps() - before)
}

fn setup(server: &Server) -> Session {
    let mut root = server.session("root@sys");
    for sql in [
        "CREATE DATABASE app",
        "USE app",
        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))",
        "INSERT INTO t VALUES (1, 'a'), (2, 'b')",
        "CREATE USER alice IDENTIFIED BY 'pw'",
        "GRANT SELECT ON app.* TO alice",
    ] {
        root.execute(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    root
}

#[test]
fn a_statement_run_again_is_not_parsed_again_until_the_schema_changes() {
    let server = server();
    let _enter = server.rt.enter();
    let mut root = setup(&server);
    let mut alice = server.session("alice@sys");
    alice.use_database("app").unwrap();
    let sql = "SELECT * FROM t WHERE id = ?";
    let (rows, first) = run(&mut alice, sql, &[Value::Int(1)]);
    assert_eq!(rows.unwrap(), vec![vec![Value::Int(1), Value::from("a")]]);
    assert!(first > 0, "the first run parses");
    for id in [2, 1, 2] {
        let (rows, steps) = run(&mut alice, sql, &[Value::Int(id)]);
        assert_eq!(rows.unwrap().len(), 1);
        assert_eq!(steps, 0, "a run from the cache parses nothing");
    }

    root.execute("ALTER TABLE t ADD COLUMN w INT NOT NULL DEFAULT 7", &[])
        .unwrap();
    let (rows, steps) = run(&mut alice, sql, &[Value::Int(1)]);
    assert_eq!(
        rows.unwrap(),
        vec![vec![Value::Int(1), Value::from("a"), Value::Int(7)]]
    );
    assert!(steps > 0, "a schema change makes the plan again");
    let (_, steps) = run(&mut alice, sql, &[Value::Int(1)]);
    assert_eq!(steps, 0, "and the new plan is cached");

    root.execute("REVOKE SELECT ON app.* FROM alice", &[])
        .unwrap();
    let (rows, _) = run(&mut alice, sql, &[Value::Int(1)]);
    assert_eq!(
        rows.unwrap_err().wire().mysql_code,
        1142,
        "the REVOKE counts at once"
    );
    root.execute("GRANT SELECT ON app.* TO alice", &[]).unwrap();
    let (rows, _) = run(&mut alice, sql, &[Value::Int(2)]);
    assert_eq!(rows.unwrap().len(), 1);

    // The database dropped and made again under the same name: the cached plan reads the new one. The
    // database's grants go with it (`Catalog::drop_database`): refused until granted on the new one.
    root.execute("DROP DATABASE app", &[]).unwrap();
    let (rows, _) = run(&mut alice, sql, &[Value::Int(1)]);
    assert_eq!(rows.unwrap_err().wire().mysql_code, 1142);
    for ddl in [
        "CREATE DATABASE app",
        "CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(10))",
        "INSERT INTO app.t VALUES (1, 'new')",
        "GRANT SELECT ON app.* TO alice",
    ] {
        root.execute(ddl, &[]).unwrap();
    }
    let (rows, _) = run(&mut alice, sql, &[Value::Int(1)]);
    assert_eq!(rows.unwrap(), vec![vec![Value::Int(1), Value::from("new")]]);
}

#[test]
fn statements_holding_session_values_are_made_again_every_time() {
    let server = server();
    let _enter = server.rt.enter();
    let mut root = setup(&server);
    for x in 1..=3 {
        root.execute(&format!("SET @x = {x}"), &[]).unwrap();
        let (rows, steps) = run(&mut root, "SELECT @x, DATABASE()", &[]);
        assert_eq!(rows.unwrap(), vec![vec![Value::Int(x), Value::from("app")]]);
        assert!(
            steps > 0,
            "a statement with a user variable is never cached"
        );
    }
    // The same text in another database is another plan.
    root.execute("CREATE DATABASE other", &[]).unwrap();
    root.execute(
        "CREATE TABLE other.t (id INT PRIMARY KEY, v VARCHAR(10))",
        &[],
    )
    .unwrap();
    root.execute("INSERT INTO other.t VALUES (1, 'other')", &[])
        .unwrap();
    let sql = "SELECT v FROM t WHERE id = 1";
    for (db, want) in [("app", "a"), ("other", "other"), ("app", "a")] {
        root.use_database(db).unwrap();
        let (rows, _) = run(&mut root, sql, &[]);
        assert_eq!(rows.unwrap(), vec![vec![Value::from(want)]], "in {db}");
    }
}
