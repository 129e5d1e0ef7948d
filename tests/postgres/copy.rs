//! COPY over the copy sub-protocol with real clients: psql's `\copy`, psycopg 3's `cursor.copy()`, and
//! tokio-postgres's `copy_in` / `copy_out` (the extended protocol). A CopyFail, a malformed row, a cancel
//! request and a missing privilege leave the table as it was.

use std::process::Command;

use futures::{SinkExt, StreamExt};
use tokio_postgres::NoTls;

use crate::common::{simple_rows, sqlstate, TestServer};
use crate::psql_smoke::ensure_client;

/// Runs psql as root@sys with `-c` commands; returns stdout, or fails the test with stderr.
fn psql(server: &TestServer, commands: &[&str]) -> String {
    ensure_client();
    let mut cmd = Command::new("psql");
    cmd.arg(format!(
        "postgresql://root%40sys@127.0.0.1:{}/test",
        server.pg_port
    ))
    .args(["-X", "-v", "ON_ERROR_STOP=1"]);
    for c in commands {
        cmd.args(["-c", c]);
    }
    let out = cmd.env_remove("PGPASSWORD").output().expect("run psql");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "psql {commands:?} failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn texts(rows: &[&[Option<&str>]]) -> Vec<Vec<Option<String>>> {
    rows.iter()
        .map(|r| r.iter().map(|v| v.map(str::to_string)).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psql_copy_from_a_csv_file_and_to_files() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute(
        "CREATE TABLE people (id INT PRIMARY KEY, name TEXT, born DATE, score NUMERIC(6,2))",
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("people.csv");
    std::fs::write(
        &input,
        "id,name,born,score\n1,\"Smith, Ann\",1990-01-02,12.50\n2,\"say \"\"hi\"\"\",,3\n3,\"two\nlines\",2000-12-31,\n",
    )
    .unwrap();
    let out = psql(
        &server,
        &[&format!(
            "\\copy people from '{}' csv header",
            input.display()
        )],
    );
    assert_eq!(out.trim(), "COPY 3");
    assert_eq!(
        simple_rows(&c, "SELECT id, name, born, score FROM people ORDER BY id").await,
        texts(&[
            &[
                Some("1"),
                Some("Smith, Ann"),
                Some("1990-01-02"),
                Some("12.50")
            ],
            &[Some("2"), Some("say \"hi\""), None, Some("3.00")],
            &[Some("3"), Some("two\nlines"), Some("2000-12-31"), None],
        ])
    );

    // Out again: the text format (tabs, `\N`, backslash escapes) and CSV with a header, of a query too.
    let text_out = dir.path().join("people.txt");
    let csv_out = dir.path().join("adults.csv");
    psql(
        &server,
        &[
            &format!("\\copy people to '{}'", text_out.display()),
            &format!(
                "\\copy (SELECT id, name FROM people WHERE id < 3 ORDER BY id) to '{}' with (format csv, header)",
                csv_out.display()
            ),
        ],
    );
    let mut lines: Vec<String> = std::fs::read_to_string(&text_out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "1\tSmith, Ann\t1990-01-02\t12.50",
            "2\tsay \"hi\"\t\\N\t3.00",
            "3\ttwo\\nlines\t2000-12-31\t\\N"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(&csv_out).unwrap(),
        "id,name\n1,\"Smith, Ann\"\n2,\"say \"\"hi\"\"\"\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn psycopg_cursor_copy_in_and_out() {
    crate::drivers::ensure_python();
    let server = TestServer::start();
    let script = r#"
import os, datetime, psycopg
with psycopg.connect(os.environ["PG_DSN"], autocommit=True) as conn:
    cur = conn.cursor()
    cur.execute("CREATE TABLE events (id BIGINT PRIMARY KEY, label TEXT, at TIMESTAMP, ok BOOLEAN)")
    rows = [
        (1, "tab\there", datetime.datetime(2024, 1, 2, 3, 4, 5), True),
        (2, None, None, False),
        (3, "back\\slash\nnewline", datetime.datetime(2024, 5, 6, 7, 8, 9, 500000), None),
    ]
    with cur.copy("COPY events (id, label, at, ok) FROM STDIN") as copy:
        for r in rows:
            copy.write_row(r)
    assert cur.rowcount == 3, cur.rowcount
    with cur.copy("COPY events FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(b"4,csv,2024-01-01 00:00:00,t\n")
    cur.execute("SELECT count(*) FROM events")
    assert cur.fetchone()[0] == 4
    got = []
    with cur.copy("COPY (SELECT id, label, at, ok FROM events ORDER BY id) TO STDOUT") as copy:
        copy.set_types(["int8", "text", "timestamp", "bool"])
        for row in copy.rows():
            got.append(row)
    assert got[:3] == rows, got
    assert got[3] == (4, "csv", datetime.datetime(2024, 1, 1), True), got
    with cur.copy("COPY events (id, label) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
        raw = b"".join(bytes(block) for block in copy)
    assert raw.startswith(b"id,label\n1,tab\there\n2,\n"), raw
print("psycopg copy ok")
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .env(
            "PG_DSN",
            format!("postgresql://root%40sys@127.0.0.1:{}/test", server.pg_port),
        )
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("psycopg copy ok"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The rows of `t`, to show a failed COPY left them as they were.
async fn ids(c: &tokio_postgres::Client) -> Vec<Vec<Option<String>>> {
    simple_rows(c, "SELECT id, v FROM t ORDER BY id").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_copies_leave_the_table_unchanged() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'old')")
        .await
        .unwrap();
    let before = ids(&c).await;

    // tokio-postgres's copy_in (extended protocol): more rows than one batch, then a malformed line 1503.
    let sink = c
        .copy_in("COPY t (id, v) FROM STDIN WITH (FORMAT csv)")
        .await
        .unwrap();
    futures::pin_mut!(sink);
    let mut data = String::new();
    for i in 2..1504 {
        data.push_str(&format!("{i},row {i}\n"));
    }
    data.push_str("x,bad\n");
    sink.send(bytes::Bytes::from(data)).await.unwrap();
    let e = sink.finish().await.unwrap_err();
    assert_eq!(sqlstate(&e), "22P02", "{e:?}");
    let db = e.as_db_error().unwrap();
    assert_eq!(
        db.where_(),
        Some("COPY t, line 1503, column id: \"x\""),
        "{db:?}"
    );
    assert_eq!(ids(&c).await, before);

    // Too few fields, and a duplicate key (found by the insert itself).
    for (data, state) in [("5\n", "22P04"), ("7\ta\n1\tdup\n", "23505")] {
        let sink = c.copy_in("COPY t FROM STDIN").await.unwrap();
        futures::pin_mut!(sink);
        sink.send(bytes::Bytes::from(data)).await.unwrap();
        let e = sink.finish().await.unwrap_err();
        assert_eq!(sqlstate(&e), state, "{data:?}: {e:?}");
        assert_eq!(ids(&c).await, before);
    }

    // The client gives up: CopyFail (tokio-postgres sends it when the sink is dropped unfinished).
    {
        let sink = c.copy_in("COPY t FROM STDIN").await.unwrap();
        futures::pin_mut!(sink);
        sink.send(bytes::Bytes::from_static(b"8\teight\n"))
            .await
            .unwrap();
    }
    assert_eq!(ids(&c).await, before);

    // COPY inside a transaction that rolls back writes nothing; the session goes on normally.
    c.batch_execute("BEGIN").await.unwrap();
    let sink = c.copy_in("COPY t FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"9\tnine\n"))
        .await
        .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 1);
    c.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(ids(&c).await, before);

    // And a good one commits, and copies out through copy_out.
    let sink = c.copy_in("COPY t FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"2\ttwo\n3\t\\N\n"))
        .await
        .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 2);
    let stream = c.copy_out("COPY t TO STDOUT").await.unwrap();
    let chunks: Vec<bytes::Bytes> = stream.map(|r| r.unwrap()).collect().await;
    assert_eq!(chunks.concat(), b"1\told\n2\ttwo\n3\t\\N\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_request_stops_a_copy_with_nothing_written() {
    let server = TestServer::start();
    let c = server.pg("root@sys", "", None).await;
    c.batch_execute("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
        .await
        .unwrap();
    let sink = c.copy_in("COPY t FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    let batch: String = (1..5000).map(|i| format!("{i}\tv{i}\n")).collect();
    sink.send(bytes::Bytes::from(batch)).await.unwrap();
    // The server has the COPY running once it inserted what it was sent.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    c.cancel_token().cancel_query(NoTls).await.unwrap();
    sink.send(bytes::Bytes::from_static(b"6000\tlast\n"))
        .await
        .unwrap();
    let e = sink.finish().await.unwrap_err();
    assert_eq!(sqlstate(&e), "57014", "{e:?}");
    assert_eq!(
        simple_rows(&c, "SELECT count(*) FROM t").await,
        texts(&[&[Some("0")]])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_needs_insert_to_load_and_select_to_unload() {
    let server = TestServer::start();
    let root = server.pg("root@sys", "", None).await;
    root.batch_execute(
        "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one'); \
         CREATE USER reader IDENTIFIED BY 'pw'; GRANT SELECT ON test.* TO reader; \
         CREATE USER loader IDENTIFIED BY 'pw'; GRANT INSERT ON test.* TO loader",
    )
    .await
    .unwrap();
    let reader = server.pg("reader@sys", "pw", Some("test")).await;
    // Refused before the copy starts. (Simple protocol: tokio-postgres's copy_in pipelines a CopyFail and a
    // second Sync after its Execute, which a server answers with a ReadyForQuery the client does not expect.)
    let e = reader.simple_query("COPY t FROM STDIN").await.unwrap_err();
    assert_eq!(sqlstate(&e), "42501", "{e:?}");
    let out: Vec<bytes::Bytes> = reader
        .copy_out("COPY t TO STDOUT")
        .await
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
        .await;
    assert_eq!(out.concat(), b"1\tone\n");

    let loader = server.pg("loader@sys", "pw", Some("test")).await;
    let e = loader.copy_out("COPY t TO STDOUT").await.err().unwrap();
    assert_eq!(sqlstate(&e), "42501", "{e:?}");
    let e = loader
        .copy_out("COPY (SELECT v FROM t) TO STDOUT")
        .await
        .err()
        .unwrap();
    assert_eq!(sqlstate(&e), "42501", "{e:?}");
    let sink = loader.copy_in("COPY t FROM STDIN").await.unwrap();
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from_static(b"2\ttwo\n"))
        .await
        .unwrap();
    assert_eq!(sink.finish().await.unwrap(), 1);
    assert_eq!(
        simple_rows(&root, "SELECT id, v FROM t ORDER BY id").await,
        texts(&[&[Some("1"), Some("one")], &[Some("2"), Some("two")]])
    );
}
