//! CREATE CHANGEFEED (issue 20): every committed change of a watched table reaches the sink, in commit order per
//! key, across pauses, sink outages and a SIGKILL; nothing rolled back is sent; a feed made over one wire is
//! seen and canceled over the other; bad feeds are refused before anything exists. The sinks are real: an
//! HTTPS webhook receiver this test starts (tests/webhook_receiver.rs) and files in the external-IO directory.

use std::path::Path;
use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use serde_json::Value;

use crate::common::{expect_error, final_status, make_certs, TestServer};
use crate::webhook_receiver::{Mode, Receiver};

/// Polls `cond` every 20 ms until it holds, failing after `secs` seconds with `what`.
async fn wait_for(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The names of the capture triggers in every database file of the server.
fn capture_triggers(server: &TestServer) -> Vec<String> {
    let mut names = Vec::new();
    let tenants = server.data_dir().join("tenants");
    for tenant in std::fs::read_dir(tenants).unwrap().flatten() {
        for f in std::fs::read_dir(tenant.path()).unwrap().flatten() {
            let p = f.path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if !(name.starts_with("db_") && name.ends_with(".sqlite")) {
                continue;
            }
            let c = rusqlite::Connection::open_with_flags(
                &p,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .unwrap();
            let mut stmt = c
                .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                .unwrap();
            names.extend(
                stmt.query_map([], |r| r.get::<_, String>(0))
                    .unwrap()
                    .map(Result::unwrap),
            );
        }
    }
    names
}

/// Every message in the `.ndjson` files under `dir`, files in name order (CockroachDB's: by lower-bound time).
fn file_messages(dir: &Path) -> Vec<Value> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "ndjson") {
                files.push(p);
            }
        }
    }
    files.sort_by_key(|p| p.file_name().unwrap().to_os_string());
    files
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{l}: {e}")))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs a CREATE CHANGEFEED over the MySQL wire and returns its job id.
async fn create_feed(c: &mut mysql_async::Conn, sql: impl AsRef<str>) -> i64 {
    let sql = sql.as_ref();
    c.query_first(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("CREATE CHANGEFEED returns the job id")
}

/// The rows of a simple query over the PostgreSQL wire, as text.
async fn pg_rows(c: &tokio_postgres::Client, sql: &str) -> Vec<Vec<Option<String>>> {
    c.simple_query(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
            }
            _ => None,
        })
        .collect()
}

fn is_hlc(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        let (w, l) = s.split_once('.').unwrap_or(("", ""));
        w.len() >= 19 && l.len() == 10 && (w.to_owned() + l).bytes().all(|b| b.is_ascii_digit())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_feed_sends_committed_changes_in_order_and_is_canceled_from_the_other_wire() {
    let server = TestServer::start();
    let certs = tempfile::tempdir().unwrap();
    make_certs(certs.path());
    let rx = Receiver::start(certs.path()).await;
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    my.query_drop("CREATE TABLE orders (id INT PRIMARY KEY, item VARCHAR(20), qty INT)")
        .await
        .unwrap();
    my.query_drop("INSERT INTO orders VALUES (1, 'apple', 1)")
        .await
        .unwrap();
    let uri = rx.uri(certs.path());
    let id = create_feed(&mut my, format!(
            "CREATE CHANGEFEED FOR TABLE orders INTO '{uri}' WITH updated, diff, webhook_auth_header = 'Bearer s3cret'"
        )).await;
    my.query_drop("INSERT INTO orders VALUES (2, 'pear', 2)")
        .await
        .unwrap();
    my.query_drop("UPDATE orders SET qty = 5 WHERE id = 1")
        .await
        .unwrap();
    my.query_drop("DELETE FROM orders WHERE id = 2")
        .await
        .unwrap();
    // A rolled-back transaction and a rolled-back savepoint send nothing.
    my.query_drop("BEGIN").await.unwrap();
    my.query_drop("INSERT INTO orders VALUES (3, 'gone', 0)")
        .await
        .unwrap();
    my.query_drop("ROLLBACK").await.unwrap();
    my.query_drop("BEGIN").await.unwrap();
    my.query_drop("INSERT INTO orders VALUES (4, 'fig', 4)")
        .await
        .unwrap();
    my.query_drop("SAVEPOINT s").await.unwrap();
    my.query_drop("UPDATE orders SET qty = 99 WHERE id = 4")
        .await
        .unwrap();
    my.query_drop("ROLLBACK TO SAVEPOINT s").await.unwrap();
    my.query_drop("COMMIT").await.unwrap();

    wait_for(30, "five messages at the webhook", || {
        rx.messages().len() >= 5
    })
    .await;
    let got = rx.messages();
    let summary: Vec<(Value, Value, Value)> = got
        .iter()
        .map(|m| (m["key"].clone(), m["after"].clone(), m["before"].clone()))
        .collect();
    let row =
        |id: i64, item: &str, qty: i64| serde_json::json!({"id": id, "item": item, "qty": qty});
    assert_eq!(
        summary,
        vec![
            (serde_json::json!([1]), row(1, "apple", 1), Value::Null),
            (serde_json::json!([2]), row(2, "pear", 2), Value::Null),
            (
                serde_json::json!([1]),
                row(1, "apple", 5),
                row(1, "apple", 1)
            ),
            (serde_json::json!([2]), Value::Null, row(2, "pear", 2)),
            (serde_json::json!([4]), row(4, "fig", 4), Value::Null),
        ],
        "{got:#?}"
    );
    for m in &got {
        assert_eq!(m["topic"], "orders", "{m}");
        assert!(is_hlc(&m["updated"]), "{m}");
    }
    let times: Vec<&str> = got.iter().map(|m| m["updated"].as_str().unwrap()).collect();
    let mut sorted = times.clone();
    sorted.sort_by_key(|t| (t.len(), t.to_string()));
    assert_eq!(times, sorted, "updated never goes back");
    assert_eq!(rx.seen.lock().auth.as_deref(), Some("Bearer s3cret"));
    assert_eq!(
        capture_triggers(&server).len(),
        3,
        "one trigger per operation"
    );

    // The feed is visible and cancelable over the PostgreSQL wire.
    let pg = server.pg("root@sys", "", None).await;
    let rows = pg_rows(
        &pg,
        &format!("SELECT status, sink_uri, full_table_names, format, description, high_water_timestamp FROM [SHOW CHANGEFEED JOBS] WHERE job_id = {id}"),
    )
    .await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][0].as_deref(), Some("running"));
    assert!(rows[0][1]
        .as_deref()
        .unwrap()
        .starts_with("webhook-https://127.0.0.1:"));
    assert_eq!(rows[0][2].as_deref(), Some("{test.public.orders}"));
    assert_eq!(rows[0][3].as_deref(), Some("json"));
    let description = rows[0][4].clone().unwrap();
    assert!(
        description
            .starts_with("CREATE CHANGEFEED FOR TABLE test.public.orders INTO 'webhook-https://"),
        "{description}"
    );
    assert!(!description.contains("s3cret"), "{description}");
    let columns = pg.simple_query("SHOW CHANGEFEED JOBS").await.unwrap();
    let tokio_postgres::SimpleQueryMessage::RowDescription(cols) = &columns[0] else {
        panic!("no row description")
    };
    assert_eq!(cols.len(), 16);
    let types = pg_rows(
        &pg,
        &format!("SELECT job_type FROM [SHOW JOBS] WHERE job_id = {id}"),
    )
    .await;
    assert_eq!(types, vec![vec![Some("CHANGEFEED".to_string())]]);

    pg.simple_query(&format!("CANCEL JOB {id}")).await.unwrap();
    assert_eq!(final_status(&mut my, id).await, "canceled");
    // The capture ends with the feed: the table carries no trigger, the log keeps only its newest change (which
    // tells a later cursor where it ends), and new writes go nowhere.
    assert!(
        capture_triggers(&server).is_empty(),
        "{:?}",
        capture_triggers(&server)
    );
    let kept: i64 = rusqlite::Connection::open_with_flags(
        server.data_dir().join("tenants/1/db_1.sqlite"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
    .query_row("SELECT count(*) FROM sqlite_tenantry_changes", [], |r| {
        r.get(0)
    })
    .unwrap();
    assert_eq!(kept, 1);
    let before = rx.messages().len();
    my.query_drop("INSERT INTO orders VALUES (5, 'late', 5)")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(rx.messages().len(), before);
}

/// The table's history as (key, value) versions, committed by `c`.
async fn write_versions(
    c: &mut mysql_async::Conn,
    history: &mut Vec<(i64, i64)>,
    keys: std::ops::Range<i64>,
    round: i64,
) {
    for k in keys {
        let v = round * 1000 + k;
        c.query_drop(format!(
            "INSERT INTO kv (k, v) VALUES ({k}, {v}) ON DUPLICATE KEY UPDATE v = {v}"
        ))
        .await
        .unwrap();
        history.push((k, v));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_feed_keeps_every_committed_version_across_pause_and_sigkill() {
    let mut server = TestServer::start();
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    my.query_drop("CREATE TABLE kv (k INT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    let pg = server.pg("root@sys", "", None).await;
    let rows = pg_rows(
        &pg,
        "CREATE CHANGEFEED FOR kv INTO 'nodelocal://1/kvfeed' WITH updated, resolved, min_checkpoint_frequency = '50ms'",
    )
    .await;
    let id: i64 = rows[0][0].as_deref().unwrap().parse().unwrap();
    let mut history = Vec::new();
    write_versions(&mut my, &mut history, 0..20, 1).await;
    // Paused: changes wait in the log and arrive after RESUME.
    pg.simple_query(&format!("PAUSE JOB {id}")).await.unwrap();
    let status_of = |rows: Vec<Vec<Option<String>>>| rows[0][0].clone().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = status_of(
            pg_rows(
                &pg,
                &format!("SELECT status FROM [SHOW CHANGEFEED JOBS] WHERE job_id = {id}"),
            )
            .await,
        );
        if s == "paused" {
            break;
        }
        assert!(Instant::now() < deadline, "not paused: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    write_versions(&mut my, &mut history, 10..30, 2).await;
    my.query_drop("BEGIN").await.unwrap();
    my.query_drop("UPDATE kv SET v = -1").await.unwrap();
    my.query_drop("ROLLBACK").await.unwrap();
    pg.simple_query(&format!("RESUME JOB {id}")).await.unwrap();
    write_versions(&mut my, &mut history, 0..30, 3).await;
    // A crash right after commits: whatever was not delivered yet is delivered after the restart.
    drop(my);
    drop(pg);
    server.kill9();
    server.restart();
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    write_versions(&mut my, &mut history, 5..15, 4).await;

    let dir = server.external_dir().join("kvfeed");
    let want: std::collections::BTreeSet<(i64, i64)> = history.iter().copied().collect();
    wait_for(60, "every committed version in the files", || {
        let got: std::collections::BTreeSet<(i64, i64)> = file_messages(&dir)
            .iter()
            .filter(|m| !m["after"].is_null())
            .map(|m| {
                (
                    m["key"][0].as_i64().unwrap(),
                    m["after"]["v"].as_i64().unwrap(),
                )
            })
            .collect();
        want.is_subset(&got)
    })
    .await;
    let messages = file_messages(&dir);
    // Nothing that was not committed: every version sent is one of the history's.
    for m in &messages {
        let k = m["key"][0].as_i64().unwrap();
        let v = m["after"]["v"].as_i64().unwrap();
        assert!(
            want.contains(&(k, v)),
            "sent a version never committed: {m}"
        );
        assert!(is_hlc(&m["updated"]), "{m}");
    }
    // Per key, the first delivery of each version follows commit order.
    for k in 0..30 {
        let committed: Vec<i64> = history
            .iter()
            .filter(|(hk, _)| *hk == k)
            .map(|(_, v)| *v)
            .collect();
        let mut first_seen = Vec::new();
        for m in messages.iter().filter(|m| m["key"][0].as_i64() == Some(k)) {
            let v = m["after"]["v"].as_i64().unwrap();
            if !first_seen.contains(&v) {
                first_seen.push(v);
            }
        }
        assert_eq!(first_seen, committed, "key {k}");
    }
    // Resolved files mark progress.
    let resolved = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|d| d.path().is_dir())
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten())
        .filter(|f| f.path().extension().is_some_and(|x| x == "RESOLVED"))
        .count();
    assert!(resolved > 0, "no .RESOLVED file");
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    my.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
    assert_eq!(final_status(&mut my, id).await, "canceled");
    assert!(capture_triggers(&server).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_outage_loses_nothing_and_a_hung_endpoint_does_not_hold_a_cancel() {
    let server = TestServer::start();
    let certs = tempfile::tempdir().unwrap();
    make_certs(certs.path());
    let rx = Receiver::start(certs.path()).await;
    rx.set_mode(Mode::Fail(503));
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    my.query_drop("CREATE TABLE ev (id INT PRIMARY KEY, note TEXT)")
        .await
        .unwrap();
    let uri = rx.uri(certs.path());
    let id = create_feed(&mut my, format!(
            r#"CREATE CHANGEFEED FOR ev INTO '{uri}' WITH webhook_sink_config = '{{"Flush": {{"Messages": 5, "Frequency": "50ms"}}, "Retry": {{"Max": "inf", "Backoff": "10ms"}}}}', webhook_client_timeout = '60s'"#
        )).await;
    for i in 1..=12 {
        my.query_drop(format!("INSERT INTO ev VALUES ({i}, 'n{i}')"))
            .await
            .unwrap();
    }
    wait_for(20, "refused requests", || rx.seen.lock().refused >= 3).await;
    assert!(rx.messages().is_empty());
    // The failing sink shows in /metrics (once a checkpoint saved the figure).
    let http = crate::http_client::Api::new(&server);
    let metric = |name: &str| {
        let text = http.get("/metrics", &crate::http_client::Auth::None).text;
        text.lines().find_map(|l| {
            l.strip_prefix(&format!("{name}{{tenant=\"sys\"}} "))
                .map(str::to_string)
        })
    };
    crate::http_client::eventually(20, "sink errors in /metrics", || {
        metric("tenantry_changefeed_sink_errors").filter(|n| n.parse::<i64>().unwrap_or(0) > 0)
    });
    assert_eq!(metric("tenantry_changefeed_running").as_deref(), Some("1"));
    rx.set_mode(Mode::Accept);
    wait_for(30, "all twelve changes after the outage", || {
        rx.messages().len() >= 12
    })
    .await;
    let keys: Vec<i64> = rx
        .messages()
        .iter()
        .map(|m| m["key"][0].as_i64().unwrap())
        .collect();
    let mut first = Vec::new();
    for k in keys {
        if !first.contains(&k) {
            first.push(k);
        }
    }
    assert_eq!(first, (1..=12).collect::<Vec<_>>());
    assert!(
        rx.seen
            .lock()
            .bodies
            .iter()
            .any(|b| b.contains("\"length\":5")),
        "batches of Flush.Messages"
    );

    // Now the endpoint hangs (the client would wait 60 s): a cancel still lands at once.
    rx.set_mode(Mode::Hang);
    let refused = rx.seen.lock().refused;
    for i in 13..=20 {
        my.query_drop(format!("INSERT INTO ev VALUES ({i}, 'h')"))
            .await
            .unwrap();
    }
    wait_for(20, "a hung request", || rx.seen.lock().refused > refused).await;
    let asked = Instant::now();
    my.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
    assert_eq!(final_status(&mut my, id).await, "canceled");
    let took = asked.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "cancel waited for the hung request: {took:?}"
    );
    assert!(capture_triggers(&server).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_changefeeds_are_refused_before_anything_exists() {
    let server = TestServer::start();
    let pg = server.pg("root@sys", "", None).await;
    pg.batch_execute("CREATE TABLE t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    for (sql, state, text) in [
        (
            "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/x' WITH bogus",
            "22023",
            "invalid option \"bogus\"",
        ),
        (
            "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/x' WITH envelope = 'weird'",
            "22023",
            "unknown envelope: weird",
        ),
        (
            "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/x' WITH diff, envelope = 'bare'",
            "22023",
            "diff is only usable with envelope=wrapped",
        ),
        (
            "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/x' WITH envelope = 'key_only'",
            "22023",
            "this sink is incompatible with envelope=key_only",
        ),
        (
            "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/x' WITH resolved = 'soon'",
            "22023",
            "invalid duration",
        ),
        (
            "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/x' WITH format = 'csv'",
            "22023",
            "format=csv is only usable with initial_scan_only",
        ),
        (
            "CREATE CHANGEFEED FOR t INTO 'kafka://localhost:9092'",
            "22023",
            "kafka:// sinks are not supported",
        ),
        (
            "CREATE CHANGEFEED FOR t INTO 'gcpubsub://p'",
            "22023",
            "gcpubsub:// sinks are not supported",
        ),
        (
            "CREATE CHANGEFEED FOR t INTO ''",
            "22023",
            "omit the SINK clause for inline results",
        ),
        (
            "CREATE CHANGEFEED FOR t INTO 'webhook-http://127.0.0.1:1/x'",
            "22023",
            "this sink requires https",
        ),
        (
            "CREATE CHANGEFEED FOR missing INTO 'nodelocal://1/x'",
            "42P01",
            "missing",
        ),
        (
            "CREATE CHANGEFEED FOR t INTO 'file:///etc/feed'",
            "42501",
            "outside of external-io-dir",
        ),
        (
            "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/../../x'",
            "42501",
            "outside of external-io-dir",
        ),
    ] {
        let e = pg.simple_query(sql).await.unwrap_err();
        let db = e.as_db_error().unwrap_or_else(|| panic!("{sql}: {e}"));
        assert_eq!(db.code().code(), state, "{sql}: {}", db.message());
        assert!(db.message().contains(text), "{sql}: {}", db.message());
    }
    assert!(pg_rows(&pg, "SHOW CHANGEFEED JOBS").await.is_empty());
    assert!(capture_triggers(&server).is_empty());
    assert!(!server.external_dir().join("x").exists());
    // The same checks over the MySQL wire, with MySQL's numbers.
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    let (code, _, msg) = expect_error(
        &mut my,
        "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/x' WITH bogus",
    )
    .await;
    assert_eq!((code, msg.as_str()), (1210, "invalid option \"bogus\""));
    // A tenant user who is not an administrator may not create one.
    server.create_tenant("t1").await;
    let mut root = server.connect("root@t1").await;
    root.query_drop("CREATE DATABASE shop").await.unwrap();
    root.query_drop("CREATE TABLE shop.t (id INT PRIMARY KEY)")
        .await
        .unwrap();
    root.query_drop("CREATE USER u IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    root.query_drop("GRANT SELECT, INSERT ON shop.* TO u")
        .await
        .unwrap();
    let mut u = server.connect_with("u@t1", "pw", Some("shop")).await;
    let (code, _, msg) =
        expect_error(&mut u, "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/x'").await;
    assert_eq!(code, 1227, "{msg}");
    assert!(msg.contains("requires the CHANGEFEED privilege"), "{msg}");
    assert!(capture_triggers(&server).is_empty());
    // GRANT CHANGEFEED ON TABLE lets u make a feed of that table; files also need FILE (the server writes them).
    root.query_drop("GRANT CHANGEFEED ON shop.t TO u")
        .await
        .unwrap();
    let (code, _, msg) =
        expect_error(&mut u, "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/x'").await;
    assert_eq!(code, 1227, "{msg}");
    assert!(msg.contains("FILE"), "{msg}");
    assert!(capture_triggers(&server).is_empty());
    root.query_drop("GRANT FILE ON *.* TO u").await.unwrap();
    let id = create_feed(&mut u, "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/x'").await;
    let grants: Vec<String> = root.query("SHOW GRANTS FOR u").await.unwrap();
    assert!(
        grants
            .iter()
            .any(|g| g.contains("GRANT CHANGEFEED ON `shop`.`t`")),
        "{grants:?}"
    );
    // Its owner sees and cancels it.
    let row: mysql_async::Row = u
        .query_first(format!("SHOW CHANGEFEED JOB {id}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.get::<String, _>("user_name").as_deref(), Some("u"));
    u.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
    assert_eq!(final_status(&mut u, id).await, "canceled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feeds_stay_in_their_tenant_and_a_dropped_table_fails_or_pauses_them() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    server.create_tenant("t2").await;
    let mut t1 = server.connect("root@t1").await;
    t1.query_drop("CREATE DATABASE shop").await.unwrap();
    t1.query_drop("CREATE TABLE shop.a (id INT PRIMARY KEY)")
        .await
        .unwrap();
    t1.query_drop("CREATE TABLE shop.b (id INT PRIMARY KEY)")
        .await
        .unwrap();
    t1.query_drop("INSERT INTO shop.a VALUES (1)")
        .await
        .unwrap();
    let failing = create_feed(&mut t1, "CREATE CHANGEFEED FOR shop.a INTO 'nodelocal://1/fa' WITH min_checkpoint_frequency = '50ms'").await;
    let pausing = create_feed(
        &mut t1,
        "CREATE CHANGEFEED FOR shop.b INTO 'nodelocal://1/fb' WITH on_error = 'pause'",
    )
    .await;
    // The files land in t1's part of the external-IO directory.
    let dir = server.external_dir().join("t1").join("fa");
    wait_for(20, "the initial scan's file", || {
        !file_messages(&dir).is_empty()
    })
    .await;
    assert_eq!(
        file_messages(&dir)[0]["after"],
        serde_json::json!({"id": 1})
    );
    // Another tenant sees none of it and cannot touch it.
    let pg2 = server.pg("root@t2", "", None).await;
    assert!(pg_rows(&pg2, "SHOW CHANGEFEED JOBS").await.is_empty());
    for sql in [
        format!("CANCEL JOB {failing}"),
        format!("SHOW CHANGEFEED JOB {failing}"),
    ] {
        let e = pg2.simple_query(&sql).await.unwrap_err();
        let message = e
            .as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_default();
        assert!(message.contains("does not exist"), "{sql}: {e:?}");
    }
    // Dropping a watched table ends the feed: failed, or paused with on_error = 'pause'.
    t1.query_drop("DROP TABLE shop.a").await.unwrap();
    t1.query_drop("DROP TABLE shop.b").await.unwrap();
    assert_eq!(final_status(&mut t1, failing).await, "failed");
    let row: mysql_async::Row = t1
        .query_first(format!("SHOW CHANGEFEED JOB {failing}"))
        .await
        .unwrap()
        .unwrap();
    let error: String = row.get("error").unwrap();
    assert!(error.contains("table \"a\" was dropped"), "{error}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row: mysql_async::Row = t1
            .query_first(format!("SHOW CHANGEFEED JOB {pausing}"))
            .await
            .unwrap()
            .unwrap();
        let status: String = row.get("status").unwrap();
        if status == "paused" {
            let running: String = row.get("running_status").unwrap();
            assert!(running.contains("table \"b\" was dropped"), "{running}");
            break;
        }
        assert!(Instant::now() < deadline, "status {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initial_scan_only_writes_the_table_once_and_succeeds() {
    let server = TestServer::start();
    let pg = server.pg("root@sys", "", None).await;
    pg.batch_execute(
        "CREATE TABLE people (id INT PRIMARY KEY, name TEXT, note TEXT); \
         INSERT INTO people VALUES (1, 'Ann', NULL), (2, 'Bo, Jr.', 'x'), (3, 'Cy', '')",
    )
    .await
    .unwrap();
    let rows = pg_rows(
        &pg,
        "CREATE CHANGEFEED FOR people INTO 'nodelocal://1/scan' WITH initial_scan = 'only', format = 'csv'",
    )
    .await;
    let id: i64 = rows[0][0].as_deref().unwrap().parse().unwrap();
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    assert_eq!(final_status(&mut my, id).await, "succeeded");
    let mut lines = Vec::new();
    let dir = server.external_dir().join("scan");
    for day in std::fs::read_dir(&dir).unwrap().flatten() {
        for f in std::fs::read_dir(day.path()).unwrap().flatten() {
            lines.extend(
                std::fs::read_to_string(f.path())
                    .unwrap()
                    .lines()
                    .map(str::to_string),
            );
        }
    }
    lines.sort();
    assert_eq!(lines, vec!["1,Ann,", "2,\"Bo, Jr.\",x", "3,Cy,"]);
    assert!(capture_triggers(&server).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_changes_of_a_watched_table_follow_the_policy() {
    let server = TestServer::start();
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    my.query_drop("CREATE TABLE w (id INT PRIMARY KEY, a INT, b VARCHAR(10))")
        .await
        .unwrap();
    my.query_drop("CREATE TABLE s (id INT PRIMARY KEY, a INT)")
        .await
        .unwrap();
    my.query_drop("INSERT INTO w VALUES (1, 1, 'x'), (2, 2, 'y')")
        .await
        .unwrap();
    let backfill = create_feed(
        &mut my,
        "CREATE CHANGEFEED FOR w INTO 'nodelocal://1/w' WITH min_checkpoint_frequency = '20ms'",
    )
    .await;
    let stop = create_feed(
        &mut my,
        "CREATE CHANGEFEED FOR s INTO 'nodelocal://1/s' WITH schema_change_policy = 'stop'",
    )
    .await;
    // Every kind of change still works on a watched table, and the writes between are captured.
    my.query_drop("ALTER TABLE w ADD COLUMN c INT DEFAULT 7")
        .await
        .unwrap();
    my.query_drop("INSERT INTO w (id, a, b) VALUES (3, 3, 'z')")
        .await
        .unwrap();
    my.query_drop("ALTER TABLE w DROP COLUMN a").await.unwrap();
    my.query_drop("INSERT INTO w (id, b) VALUES (4, 'q')")
        .await
        .unwrap();
    my.query_drop("ALTER TABLE w MODIFY b VARCHAR(40)")
        .await
        .unwrap();
    my.query_drop("UPDATE w SET b = 'long enough now' WHERE id = 4")
        .await
        .unwrap();
    my.query_drop("ALTER TABLE w RENAME COLUMN b TO bb")
        .await
        .unwrap();
    my.query_drop("INSERT INTO w (id, bb) VALUES (5, 'r')")
        .await
        .unwrap();
    let dir = server.external_dir().join("w");
    let has = |want: Value| {
        let dir = dir.clone();
        move || file_messages(&dir).iter().any(|m| m["after"] == want)
    };
    wait_for(
        30,
        "the last insert",
        has(serde_json::json!({"id": 5, "bb": "r", "c": 7})),
    )
    .await;
    for want in [
        serde_json::json!({"id": 3, "a": 3, "b": "z", "c": 7}),
        serde_json::json!({"id": 4, "b": "long enough now", "c": 7}),
        // backfill: rows written before a change are sent again in the new shape.
        serde_json::json!({"id": 1, "bb": "x", "c": 7}),
        serde_json::json!({"id": 2, "bb": "y", "c": 7}),
    ] {
        wait_for(30, &format!("{want}"), has(want.clone())).await;
    }
    // schema_change_policy = 'stop' ends the feed at the change.
    my.query_drop("ALTER TABLE s ADD COLUMN c INT")
        .await
        .unwrap();
    my.query_drop("INSERT INTO s VALUES (1, 1, 1)")
        .await
        .unwrap();
    assert_eq!(final_status(&mut my, stop).await, "failed");
    let row: mysql_async::Row = my
        .query_first(format!("SHOW CHANGEFEED JOB {stop}"))
        .await
        .unwrap()
        .unwrap();
    let error: String = row.get("error").unwrap();
    assert!(error.contains("schema_change_policy=\"stop\""), "{error}");
    my.query_drop(format!("CANCEL JOB {backfill}"))
        .await
        .unwrap();
    assert_eq!(final_status(&mut my, backfill).await, "canceled");
    assert!(capture_triggers(&server).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_table_stays_writable_for_users_without_admin() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut root = server.connect("root@t1").await;
    root.query_drop("CREATE DATABASE shop").await.unwrap();
    root.query_drop("CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20))")
        .await
        .unwrap();
    root.query_drop("CREATE USER clerk IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    root.query_drop("GRANT SELECT, INSERT, UPDATE, DELETE ON shop.items TO clerk")
        .await
        .unwrap();
    let id = create_feed(&mut root, "CREATE CHANGEFEED FOR shop.items INTO 'nodelocal://1/items' WITH min_checkpoint_frequency = '20ms'").await;
    // The capture trigger writes the change log under the clerk's authorizer, which allows only the table.
    let mut clerk = server.connect_with("clerk@t1", "pw", Some("shop")).await;
    clerk
        .query_drop("INSERT INTO items VALUES (1, 'pen')")
        .await
        .unwrap();
    clerk
        .query_drop("UPDATE items SET name = 'ink' WHERE id = 1")
        .await
        .unwrap();
    clerk
        .query_drop("DELETE FROM items WHERE id = 1")
        .await
        .unwrap();
    let pg = server.pg("clerk@t1", "pw", Some("shop")).await;
    pg.batch_execute("INSERT INTO items VALUES (2, 'cup')")
        .await
        .unwrap();
    // The log itself is out of the clerk's reach.
    let (code, _, _) = expect_error(&mut clerk, "SELECT * FROM sqlite_tenantry_changes").await;
    assert!(code == 1142 || code == 1146, "{code}");
    let dir = server.external_dir().join("t1").join("items");
    wait_for(30, "four changes", || file_messages(&dir).len() >= 4).await;
    let afters: Vec<Value> = file_messages(&dir)
        .iter()
        .map(|m| m["after"].clone())
        .collect();
    assert_eq!(
        afters,
        vec![
            serde_json::json!({"id": 1, "name": "pen"}),
            serde_json::json!({"id": 1, "name": "ink"}),
            Value::Null,
            serde_json::json!({"id": 2, "name": "cup"}),
        ]
    );
    root.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
}

/// The high-water mark of feed `id` once it is past `after` (nanoseconds since the epoch), as SHOW CHANGEFEED
/// JOB shows it (saved checkpoints reach it within about a second).
async fn high_water_after(my: &mut mysql_async::Conn, id: i64, after: u128) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let row: mysql_async::Row = my
            .query_first(format!("SHOW CHANGEFEED JOB {id}"))
            .await
            .unwrap()
            .unwrap();
        if let Some(hw) = row
            .get::<Option<String>, _>("high_water_timestamp")
            .unwrap()
        {
            let wall: u128 = hw.split('.').next().unwrap().parse().unwrap();
            if wall > after {
                return hw;
            }
        }
        assert!(
            Instant::now() < deadline,
            "feed {id}: no high-water mark past {after}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_feed_resumes_at_an_old_ones_cursor_and_end_time_ends_it() {
    let server = TestServer::start();
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    my.query_drop("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        .await
        .unwrap();
    let keeper = create_feed(&mut my, "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/keeper' WITH min_checkpoint_frequency = '20ms'").await;
    let first = create_feed(
        &mut my,
        "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/first' WITH min_checkpoint_frequency = '20ms'",
    )
    .await;
    for i in 1..=5 {
        my.query_drop(format!("INSERT INTO t VALUES ({i}, {i})"))
            .await
            .unwrap();
    }
    let written = now_nanos();
    let hw = high_water_after(&mut my, first, written).await;
    my.query_drop(format!("CANCEL JOB {first}")).await.unwrap();
    assert_eq!(final_status(&mut my, first).await, "canceled");
    // Written after the first feed ended; the other feed kept the table captured.
    my.query_drop("INSERT INTO t VALUES (6, 6)").await.unwrap();
    my.query_drop("UPDATE t SET v = 10 WHERE id = 1")
        .await
        .unwrap();
    let second = create_feed(&mut my, format!(
            "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/second' WITH cursor = '{hw}', min_checkpoint_frequency = '20ms'"
        )).await;
    let dir = server.external_dir().join("second");
    wait_for(20, "the changes after the cursor", || {
        file_messages(&dir).len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let afters: Vec<Value> = file_messages(&dir)
        .iter()
        .map(|m| m["after"].clone())
        .collect();
    assert_eq!(
        afters,
        vec![
            serde_json::json!({"id": 6, "v": 6}),
            serde_json::json!({"id": 1, "v": 10})
        ],
        "exactly what followed the cursor, no initial scan"
    );
    for id in [keeper, second] {
        my.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
        assert_eq!(final_status(&mut my, id).await, "canceled");
    }
    // Nothing watches t now: what is written meanwhile is not kept, and a cursor from before it is refused.
    my.query_drop("INSERT INTO t VALUES (7, 7)").await.unwrap();
    let (code, _, msg) = expect_error(
        &mut my,
        &format!("CREATE CHANGEFEED FOR t INTO 'nodelocal://1/third' WITH cursor = '{hw}'"),
    )
    .await;
    assert_eq!(code, 1210, "{msg}");
    assert!(msg.contains("older than the GC threshold"), "{msg}");
    assert!(capture_triggers(&server).is_empty());
    // A feed with an end_time sends what comes before it and then succeeds.
    let end = now_nanos() + 2_000_000_000;
    let bounded = create_feed(&mut my, format!(
            "CREATE CHANGEFEED FOR t INTO 'nodelocal://1/bounded' WITH initial_scan = 'no', end_time = '{end}', min_checkpoint_frequency = '20ms'"
        )).await;
    my.query_drop("UPDATE t SET v = 70 WHERE id = 6")
        .await
        .unwrap();
    assert_eq!(final_status(&mut my, bounded).await, "succeeded");
    let sent = file_messages(&server.external_dir().join("bounded"));
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["after"], serde_json::json!({"id": 6, "v": 70}));
    assert!(capture_triggers(&server).is_empty());
}

/// Capture triggers that no unfinished feed needs (a restored or cloned database copies them with its pages; a
/// crash can leave them between a capture's start and its job's creation) are removed at start-up; a live
/// feed's are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_removes_capture_no_feed_needs() {
    let mut server = TestServer::start();
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    my.query_drop("CREATE TABLE kept (id INT PRIMARY KEY)")
        .await
        .unwrap();
    my.query_drop("CREATE TABLE stray (id INT PRIMARY KEY)")
        .await
        .unwrap();
    let id = create_feed(
        &mut my,
        "CREATE CHANGEFEED FOR kept INTO 'nodelocal://1/kept'",
    )
    .await;
    drop(my);
    server.kill9();
    // What a copied database brings: triggers of the same form on a table no feed watches.
    let db = server.data_dir().join("tenants/1/db_1.sqlite");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        let sql: String = c
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'sqlite_tenantry_cdc_ins_kept'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        c.execute_batch("PRAGMA writable_schema = ON").unwrap();
        c.execute_batch(
            &sql.replace(
                "sqlite_tenantry_cdc_ins_kept",
                "sqlite_tenantry_cdc_ins_stray",
            )
            .replace("ON `kept`", "ON `stray`"),
        )
        .unwrap();
    }
    assert_eq!(capture_triggers(&server).len(), 4);
    server.restart();
    let mut triggers = capture_triggers(&server);
    triggers.sort();
    assert_eq!(
        triggers,
        [
            "sqlite_tenantry_cdc_del_kept",
            "sqlite_tenantry_cdc_ins_kept",
            "sqlite_tenantry_cdc_upd_kept"
        ]
    );
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    my.query_drop("INSERT INTO stray VALUES (1)").await.unwrap();
    my.query_drop(format!("CANCEL JOB {id}")).await.unwrap();
    assert_eq!(final_status(&mut my, id).await, "canceled");
    assert!(capture_triggers(&server).is_empty());
}

/// Sinkless feeds (`EXPERIMENTAL CHANGEFEED FOR`): `table, key, value` rows to the client. With `end_time` the
/// statement ends and the real psql prints what CockroachDB's docs show; without it, rows stream while the
/// statement runs and a cancel (the wire's, or CANCEL QUERY from another session) ends it; either way the
/// capture ends with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sinkless_feeds_stream_to_the_client_until_canceled_or_end_time() {
    let server = TestServer::start();
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    my.query_drop("CREATE TABLE cdc_test (a INT PRIMARY KEY, b TEXT)")
        .await
        .unwrap();
    my.query_drop("INSERT INTO cdc_test VALUES (0, 'zero')")
        .await
        .unwrap();
    // psql, ended by end_time while another session writes.
    let end = now_nanos() + 2_500_000_000;
    let psql = std::process::Command::new("psql")
        .arg(format!(
            "host=127.0.0.1 port={} user=root@sys dbname=test sslmode=disable",
            server.pg_port
        ))
        .args(["--csv", "-X", "-c"])
        .arg(format!(
            "EXPERIMENTAL CHANGEFEED FOR cdc_test WITH end_time = '{end}'"
        ))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("psql");
    wait_for(20, "the feed's capture", || {
        capture_triggers(&server).len() == 3
    })
    .await;
    my.query_drop("INSERT INTO cdc_test VALUES (1, 'one')")
        .await
        .unwrap();
    my.query_drop("DELETE FROM cdc_test WHERE a = 1")
        .await
        .unwrap();
    let out = psql.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "table,key,value\n\
         cdc_test,[0],\"{\"\"after\"\": {\"\"a\"\": 0, \"\"b\"\": \"\"zero\"\"}}\"\n\
         cdc_test,[1],\"{\"\"after\"\": {\"\"a\"\": 1, \"\"b\"\": \"\"one\"\"}}\"\n\
         cdc_test,[1],\"{\"\"after\"\": null}\"\n"
    );
    assert!(capture_triggers(&server).is_empty());

    // tokio-postgres (simple protocol): rows arrive while the statement runs; the wire's cancel ends it.
    let pg = server.pg("root@sys", "", None).await;
    let cancel = pg.cancel_token();
    let stream = pg
        .simple_query_raw("EXPERIMENTAL CHANGEFEED FOR cdc_test WITH initial_scan = 'no'")
        .await
        .unwrap();
    futures::pin_mut!(stream);
    wait_for(20, "the second feed's capture", || {
        capture_triggers(&server).len() == 3
    })
    .await;
    my.query_drop("UPDATE cdc_test SET b = 'ZERO' WHERE a = 0")
        .await
        .unwrap();
    // pgwire sends rows as its write buffer (8 KB) fills: enough of them reach the client while the feed runs.
    my.query_drop(
        "INSERT INTO cdc_test WITH RECURSIVE c(x) AS (SELECT 100 UNION ALL SELECT x + 1 FROM c WHERE x < 400) SELECT x, 'padding padding padding padding' FROM c",
    )
    .await
    .unwrap();
    let row = loop {
        let message = tokio::time::timeout(
            Duration::from_secs(20),
            futures::StreamExt::next(&mut stream),
        )
        .await
        .expect("a row while the feed runs")
        .unwrap()
        .unwrap();
        if let tokio_postgres::SimpleQueryMessage::Row(r) = message {
            break r;
        }
    };
    assert_eq!(
        row.columns().iter().map(|c| c.name()).collect::<Vec<_>>(),
        ["table", "key", "value"]
    );
    assert_eq!(row.get("key"), Some("[0]"));
    assert_eq!(
        row.get("value"),
        Some(r#"{"after": {"a": 0, "b": "ZERO"}}"#)
    );
    cancel.cancel_query(tokio_postgres::NoTls).await.unwrap();
    let end = loop {
        match tokio::time::timeout(
            Duration::from_secs(20),
            futures::StreamExt::next(&mut stream),
        )
        .await
        .expect("the cancel ends the feed")
        {
            Some(Ok(_)) => continue,
            Some(Err(e)) => break e,
            None => panic!("the feed ended without the cancel's error"),
        }
    };
    assert_eq!(end.code().map(|c| c.code()), Some("57014"), "{end:?}");
    wait_for(20, "the capture to end", || {
        capture_triggers(&server).is_empty()
    })
    .await;

    // CANCEL QUERY from another session ends a feed too; a user without SELECT may not start one.
    let pg2 = server.pg("root@sys", "", None).await;
    let feed = tokio::spawn(async move {
        pg2.simple_query("EXPERIMENTAL CHANGEFEED FOR cdc_test")
            .await
    });
    wait_for(20, "the third feed's capture", || {
        capture_triggers(&server).len() == 3
    })
    .await;
    let query_id: String = pg
        .query("SHOW QUERIES", &[])
        .await
        .unwrap()
        .iter()
        .find(|r| r.get::<_, String>("query").starts_with("EXPERIMENTAL"))
        .map(|r| r.get("query_id"))
        .expect("the feed shows in SHOW QUERIES");
    pg.simple_query(&format!("CANCEL QUERY '{query_id}'"))
        .await
        .unwrap();
    let e = feed.await.unwrap().unwrap_err();
    assert_eq!(e.code().map(|c| c.code()), Some("57014"), "{e:?}");
    wait_for(20, "the capture to end", || {
        capture_triggers(&server).is_empty()
    })
    .await;
    my.query_drop("CREATE USER reader IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    my.query_drop("GRANT INSERT ON test.* TO reader")
        .await
        .unwrap();
    let mut reader = server.connect_with("reader@sys", "pw", Some("test")).await;
    let (code, _, msg) = expect_error(&mut reader, "EXPERIMENTAL CHANGEFEED FOR cdc_test").await;
    assert_eq!(code, 1227, "{msg}");
    assert!(
        msg.contains("requires the SELECT privilege on all target tables"),
        "{msg}"
    );
    assert!(capture_triggers(&server).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_and_cancel_all_changefeed_jobs() {
    let server = TestServer::start();
    let mut my = server.connect_with("root@sys", "", Some("test")).await;
    my.query_drop("CREATE TABLE a (id INT PRIMARY KEY)")
        .await
        .unwrap();
    my.query_drop("CREATE TABLE b (id INT PRIMARY KEY)")
        .await
        .unwrap();
    let ids = [
        create_feed(&mut my, "CREATE CHANGEFEED FOR a INTO 'nodelocal://1/a'").await,
        create_feed(
            &mut my,
            "CREATE CHANGEFEED FOR a, b INTO 'nodelocal://1/ab'",
        )
        .await,
    ];
    let pg = server.pg("root@sys", "", None).await;
    let status = |rows: Vec<Vec<Option<String>>>| -> Vec<String> {
        rows.into_iter().map(|r| r[0].clone().unwrap()).collect()
    };
    pg.simple_query("PAUSE ALL CHANGEFEED JOBS").await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = status(pg_rows(&pg, "SELECT status FROM [SHOW CHANGEFEED JOBS]").await);
        if now == ["paused", "paused"] {
            break;
        }
        assert!(Instant::now() < deadline, "{now:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Paused feeds keep their capture (writes meanwhile are theirs to send after RESUME).
    assert_eq!(capture_triggers(&server).len(), 6);
    pg.simple_query("CANCEL ALL CHANGEFEED JOBS").await.unwrap();
    for id in ids {
        assert_eq!(final_status(&mut my, id).await, "canceled");
    }
    assert!(capture_triggers(&server).is_empty());
}
