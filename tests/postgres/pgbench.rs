//! pgbench against the PostgreSQL port: `pgbench -i` (client-side generation: DROP, CREATE ... WITH
//! (fillfactor), BEGIN, TRUNCATE, COPY, COMMIT, VACUUM ANALYZE, ALTER TABLE ADD PRIMARY KEY) and `-I dtGvp`
//! (server-side generation with generate_series), then the TPC-B-like run, `-S` (select only), `-N` (no
//! teller/branch updates) and `-M prepared`, each with no failed transaction, at the scale (`-i -s 10`,
//! `-T 30 -c 8`).

use std::process::Command;

use crate::common::{simple_rows, sqlstate, TestServer};

/// Runs pgbench as root@sys on the test database; fails the test with its output if it fails.
fn pgbench(server: &TestServer, args: &[&str]) -> String {
    crate::psql_smoke::ensure_client();
    let out = Command::new("pgbench")
        .args(args)
        .env("PGHOST", "127.0.0.1")
        .env("PGPORT", server.pg_port.to_string())
        .env("PGUSER", "root@sys")
        .env("PGDATABASE", "test")
        .env_remove("PGPASSWORD")
        .output()
        .expect("run pgbench (Debian's postgresql-client has it)");
    // pgbench reports progress and results on both streams.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "pgbench {args:?} failed:\n{text}");
    text
}

/// The number after `label` in pgbench's report.
fn figure(report: &str, label: &str) -> u64 {
    report
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {label:?} in:\n{report}"))
}

/// Runs one pgbench mode for `seconds` with 8 clients on 2 threads and checks it committed transactions and
/// failed none.
fn run_mode(server: &TestServer, seconds: u32, extra: &[&str]) {
    let seconds = seconds.to_string();
    let mut args = vec!["-T", seconds.as_str(), "-c", "8", "-j", "2"];
    args.extend_from_slice(extra);
    let report = pgbench(server, &args);
    assert!(
        figure(&report, "number of transactions actually processed: ") > 0,
        "{report}"
    );
    assert_eq!(
        figure(&report, "number of failed transactions: "),
        0,
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbench_initialises_and_runs_every_builtin_mode() {
    let server = TestServer::start();
    // The scale: 10 branches, 1,000,000 accounts, loaded with COPY.
    let init = pgbench(&server, &["-i", "-s", "10"]);
    assert!(init.contains("creating primary keys..."), "{init}");
    assert!(init.contains("done in"), "{init}");
    let c = server.pg("root@sys", "", Some("test")).await;
    let one = |v: &str| vec![vec![Some(v.to_string())]];
    for (table, rows) in [
        ("pgbench_branches", "10"),
        ("pgbench_tellers", "100"),
        ("pgbench_accounts", "1000000"),
        ("pgbench_history", "0"),
    ] {
        assert_eq!(
            simple_rows(&c, &format!("SELECT count(*) FROM {table}")).await,
            one(rows),
            "{table}"
        );
    }
    // The primary keys ALTER TABLE added are there.
    let e = c
        .simple_query("INSERT INTO pgbench_accounts (aid, bid, abalance) VALUES (1, 1, 0)")
        .await
        .unwrap_err();
    assert_eq!(sqlstate(&e), "23505", "{e:?}");

    // TPC-B-like: every transaction moves the same delta through an account, its teller and its branch, and
    // logs it in the history, so the four sums agree when no transaction was lost or half applied.
    // `pgbench -T 30 -c 8`, as the issue runs it.
    run_mode(&server, 30, &[]);
    let sums = simple_rows(
        &c,
        "SELECT (SELECT sum(abalance) FROM pgbench_accounts), (SELECT sum(tbalance) FROM pgbench_tellers), \
         (SELECT sum(bbalance) FROM pgbench_branches), (SELECT sum(delta) FROM pgbench_history), \
         (SELECT count(*) FROM pgbench_history)",
    )
    .await;
    let row = &sums[0];
    assert!(row[0].is_some(), "{row:?}");
    assert!(row[..4].iter().all(|s| s == &row[0]), "{row:?}");
    assert_ne!(row[4].as_deref(), Some("0"), "{row:?}");

    run_mode(&server, 5, &["-S"]);
    // Server-side generation: INSERT ... SELECT FROM generate_series(...) AS aid.
    let init = pgbench(&server, &["-i", "-I", "dtGvp", "-s", "1"]);
    assert!(init.contains("server-side generate"), "{init}");
    assert_eq!(
        simple_rows(&c, "SELECT count(*), sum(aid) FROM pgbench_accounts").await,
        vec![vec![
            Some("100000".to_string()),
            Some("5000050000".to_string())
        ]]
    );
    run_mode(&server, 5, &["-N"]);
    // The extended protocol with prepared statements too.
    run_mode(&server, 5, &["-M", "prepared"]);
}
