//! Memory per connection: the server's resident size with 1,000 idle connections (MySQL wire, then the
//! PostgreSQL wire) and with 8 busy ones, beside MariaDB measured the same way in the same run.
//!
//! `cargo bench --bench connection_memory` (option after `--`: `--connections N`, default 1,000). Needs
//! Debian's `mariadb-server` (`.ci/run` installs it). Bar (the query-path issue): ≤ 200 KB per idle
//! connection.

use std::time::{Duration, Instant};

use mysql_async::prelude::*;
use mysql_async::{Conn, OptsBuilder};

mod common;

use common::mariadb::start_mariadb;
use common::rss_bytes;

async fn mysql(port: u16, user: &str) -> Conn {
    let opts = OptsBuilder::default()
        .ip_or_hostname("127.0.0.1")
        .tcp_port(port)
        .user(Some(user))
        .pass(Some(""))
        .db_name(Some("test"))
        .prefer_socket(false);
    Conn::new(opts).await.expect("connect")
}

/// The resident size once it has settled (sampled until two readings 200 ms apart agree within 1 %).
async fn settled_rss(pid: u32) -> u64 {
    let mut last = rss_bytes(pid);
    for _ in 0..25 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = rss_bytes(pid);
        if now.abs_diff(last) * 100 <= last {
            return now;
        }
        last = now;
    }
    last
}

/// Opens `n` idle connections and returns the growth of the server's resident size per connection (bytes).
async fn idle_cost_mysql(pid: u32, port: u16, user: &str, n: usize) -> (f64, Vec<Conn>) {
    let before = settled_rss(pid).await;
    let mut conns = Vec::with_capacity(n);
    for _ in 0..n {
        conns.push(mysql(port, user).await);
    }
    let after = settled_rss(pid).await;
    (after.saturating_sub(before) as f64 / n as f64, conns)
}

/// The peak resident size while 8 connections each run point selects for 3 seconds.
async fn busy_peak(pid: u32, port: u16, user: &str) -> u64 {
    let mut setup = mysql(port, user).await;
    setup
        .query_drop("CREATE TABLE IF NOT EXISTS busy (id INT PRIMARY KEY, v VARCHAR(100))")
        .await
        .expect("create");
    let rows: Vec<String> = (0..1000).map(|i| format!("({i}, 'value {i}')")).collect();
    setup
        .query_drop(format!("REPLACE INTO busy VALUES {}", rows.join(",")))
        .await
        .expect("fill");
    let stop = Instant::now() + Duration::from_secs(3);
    let mut workers = Vec::new();
    for w in 0..8u32 {
        let mut c = mysql(port, user).await;
        workers.push(tokio::spawn(async move {
            let mut i = w;
            while Instant::now() < stop {
                let _: Option<String> = c
                    .exec_first("SELECT v FROM busy WHERE id = ?", (i % 1000,))
                    .await
                    .expect("select");
                i += 7;
            }
        }));
    }
    let mut peak = 0;
    while Instant::now() < stop {
        peak = peak.max(rss_bytes(pid));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for w in workers {
        let _ = w.await;
    }
    peak
}

async fn idle_cost_pg(pid: u32, port: u16, n: usize) -> f64 {
    let before = settled_rss(pid).await;
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        let (client, conn) = tokio_postgres::connect(
            &format!("host=127.0.0.1 port={port} user=root@sys dbname=test"),
            tokio_postgres::NoTls,
        )
        .await
        .expect("pg connect");
        tokio::spawn(conn);
        clients.push(client);
    }
    let after = settled_rss(pid).await;
    drop(clients);
    after.saturating_sub(before) as f64 / n as f64
}

#[tokio::main]
async fn main() {
    let n = common::arg("--connections", 1_000) as usize;
    let ours = common::start();
    let theirs = start_mariadb(n as u32 + 100);
    // root@sys may hold every session: no per-tenant cap for this measurement.
    let mut admin = mysql(ours.port, "root@sys").await;
    for sql in [
        format!("ALTER SYSTEM SET max_connections = {}", n + 100),
        "ALTER SYSTEM SET max_tenant_connections = 0".to_string(),
    ] {
        admin.query_drop(sql).await.expect("setting");
    }
    let mut anchor = mysql(theirs.port, "root").await;
    anchor
        .query_drop("CREATE DATABASE IF NOT EXISTS test")
        .await
        .expect("create database");

    println!(
        "{n} idle connections, then 8 busy ones (point selects, 3 s); resident size of each server"
    );
    println!("{:<34} {:>14} {:>14}", "", "mariadb", "tenantry");
    let base = (
        settled_rss(theirs.child.id()).await,
        settled_rss(ours.pid()).await,
    );
    println!(
        "{:<34} {:>11.1} MB {:>11.1} MB",
        "resident at rest",
        base.0 as f64 / 1e6,
        base.1 as f64 / 1e6
    );
    let (theirs_idle, theirs_conns) =
        idle_cost_mysql(theirs.child.id(), theirs.port, "root", n).await;
    let (ours_idle, ours_conns) = idle_cost_mysql(ours.pid(), ours.port, "root@sys", n).await;
    println!(
        "{:<34} {:>11.1} KB {:>11.1} KB   (bar <= 200 KB)",
        "per idle MySQL connection",
        theirs_idle / 1e3,
        ours_idle / 1e3
    );
    let with_idle = (rss_bytes(theirs.child.id()), rss_bytes(ours.pid()));
    println!(
        "{:<34} {:>11.1} MB {:>11.1} MB",
        format!("resident with {n} idle"),
        with_idle.0 as f64 / 1e6,
        with_idle.1 as f64 / 1e6
    );
    drop(theirs_conns);
    drop(ours_conns);
    // A fresh server for the PostgreSQL wire: memory freed by the MySQL sessions stays resident and would be
    // reused by the new ones, hiding their cost.
    let fresh = common::start();
    let mut fresh_admin = mysql(fresh.port, "root@sys").await;
    for sql in [
        format!("ALTER SYSTEM SET max_connections = {}", n + 100),
        "ALTER SYSTEM SET max_tenant_connections = 0".to_string(),
    ] {
        fresh_admin.query_drop(sql).await.expect("setting");
    }
    let ours_pg = idle_cost_pg(fresh.pid(), fresh.pg_port, n).await;
    drop(fresh);
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "{:<34} {:>14} {:>11.1} KB",
        "per idle PostgreSQL connection",
        "-",
        ours_pg / 1e3
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let busy = (
        busy_peak(theirs.child.id(), theirs.port, "root").await,
        busy_peak(ours.pid(), ours.port, "root@sys").await,
    );
    println!(
        "{:<34} {:>11.1} MB {:>11.1} MB",
        "peak resident, 8 busy",
        busy.0 as f64 / 1e6,
        busy.1 as f64 / 1e6
    );
}
