//! COPY FROM STDIN over the PostgreSQL wire beside IMPORT INTO of the same CSV, in one run: a CSV of `--rows`
//! rows (default 1,000,000) loaded into two empty copies of one table, one through each path, each timed from
//! the statement to its end. Bar (PostgreSQL clients issue): COPY at least as fast as IMPORT.
//!
//! `cargo bench --bench copy_vs_import` (`-- --rows 200000` for a quicker run).

mod common;

use std::time::Instant;

use futures::SinkExt;
use mysql_async::prelude::*;

/// How much of the file one CopyData message carries (psql sends about this much).
const CHUNK: usize = 64 << 10;

#[tokio::main]
async fn main() {
    let rows = common::arg("--rows", 1_000_000);
    let server = common::start();
    let csv = server.external_dir().join("items.csv");
    common::write_items_csv(&csv, rows);
    let bytes = std::fs::read(&csv).expect("read csv");
    let mut my = common::connect(server.port, "test").await;
    for t in ["via_import", "via_copy"] {
        my.query_drop(format!("CREATE TABLE {t} {}", common::ITEMS_TABLE))
            .await
            .expect("create");
    }

    let started = Instant::now();
    my.query_drop(format!(
        "IMPORT INTO via_import CSV DATA ('file://{}')",
        csv.display()
    ))
    .await
    .expect("import");
    let import = started.elapsed();

    let (pg, conn) = tokio_postgres::connect(
        &format!(
            "host=127.0.0.1 port={} user=root@sys dbname=test",
            server.pg_port
        ),
        tokio_postgres::NoTls,
    )
    .await
    .expect("pg connect");
    tokio::spawn(conn);
    let started = Instant::now();
    let sink = pg
        .copy_in("COPY via_copy FROM STDIN WITH (FORMAT csv)")
        .await
        .expect("copy in");
    futures::pin_mut!(sink);
    for chunk in bytes.chunks(CHUNK) {
        sink.send(bytes::Bytes::copy_from_slice(chunk))
            .await
            .expect("copy data");
    }
    let copied = sink.finish().await.expect("copy done");
    let copy = started.elapsed();
    assert_eq!(copied, rows);

    for t in ["via_import", "via_copy"] {
        let n: Option<u64> = my
            .query_first(format!("SELECT count(*) FROM {t}"))
            .await
            .expect("count");
        assert_eq!(n, Some(rows), "{t}");
    }
    let mb = bytes.len() as f64 / 1e6;
    println!("{rows} rows, {mb:.1} MB of CSV, into empty tables of 5 columns with a primary key");
    println!(
        "IMPORT INTO (MySQL wire, file on the server)   {:>8.2} s  {:>7.1} MB/s",
        import.as_secs_f64(),
        mb / import.as_secs_f64()
    );
    println!(
        "COPY FROM STDIN (PostgreSQL wire, {} KB sends) {:>8.2} s  {:>7.1} MB/s",
        CHUNK >> 10,
        copy.as_secs_f64(),
        mb / copy.as_secs_f64()
    );
    println!(
        "COPY / IMPORT time: {:.2} (bar <= 1.00)",
        copy.as_secs_f64() / import.as_secs_f64()
    );
}
