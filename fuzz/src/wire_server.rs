//! The server the wire fuzz targets talk to: the real engine and both wire front ends, in the fuzzer's own
//! process (so libFuzzer sees the server's code coverage, and a panic on any server thread aborts the run as
//! a crash), on a fresh data directory, listening on loopback ports chosen by the kernel. Started once.

use std::sync::{Arc, OnceLock};

use tenantry_catalog::Catalog;
use tenantry_jobs::{JobRegistry, RegistryConfig};
use tenantry_sql::{Engine, Session};
use tokio_util::sync::CancellationToken;

/// The tenant the fuzz inputs log in to, as its administrator `root@fz` (empty password): enough rights to
/// reach every command, none over other tenants or the cluster's limits.
pub const LOGIN: &str = "root@fz";

/// A running server.
pub struct WireServer {
    /// The runtime the front ends and the fuzz clients run on.
    pub runtime: tokio::runtime::Runtime,
    /// The MySQL listener's port.
    pub mysql_port: u16,
    /// The PostgreSQL listener's port.
    pub pg_port: u16,
    _engine: Arc<Engine>,
    _checkpointer: tenantry_storage::Checkpointer,
}

/// The one server of this process, started on first use.
pub fn get() -> &'static WireServer {
    static SERVER: OnceLock<WireServer> = OnceLock::new();
    SERVER.get_or_init(start)
}

fn start() -> WireServer {
    let dir = std::env::temp_dir().join(format!("tenantry-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let catalog = Arc::new(Catalog::open(&dir, None).expect("catalog"));
    let checkpointer =
        tenantry_storage::Checkpointer::spawn(catalog.storage().clone()).expect("checkpointer");
    let jobs = JobRegistry::open(
        &dir.join("catalog.sqlite"),
        RegistryConfig::default(),
        runtime.handle().clone(),
    )
    .expect("job registry");
    jobs.register_kind(
        tenantry_kinds::SCHEMA_CHANGE,
        Arc::new(tenantry_kinds::schema_change::SchemaChange::new(
            catalog.clone(),
        )),
    );
    jobs.register_kind(
        tenantry_kinds::import::IMPORT,
        Arc::new(tenantry_kinds::import::Import::new(
            catalog.clone(),
            runtime.handle().clone(),
        )),
    );
    let engine = Engine::new(catalog, jobs.clone());
    jobs.start().expect("job registry start");
    {
        let _enter = runtime.enter();
        let identity = engine
            .authenticate("root@sys", "127.0.0.1", false, |_| true)
            .expect("root@sys");
        let mut sys = Session::open(
            engine.clone(),
            identity,
            engine.sessions().next_id(),
            "127.0.0.1",
            "mysql",
            CancellationToken::new(),
        )
        .expect("session");
        for sql in [
            "CREATE RESOURCE UNIT unit_fz MAX_CPU 1, MEMORY_SIZE '2G'",
            "CREATE RESOURCE POOL pool_fz UNIT = 'unit_fz', UNIT_NUM = 1",
            "CREATE TENANT fz RESOURCE_POOL_LIST = ('pool_fz') SET ob_compatibility_mode = 'mysql'",
        ] {
            sys.execute(sql, &[]).expect(sql);
        }
    }
    let (mysql_port, pg_port) = runtime.block_on(async {
        let mysql = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let pg = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let ports = (
            mysql.local_addr().expect("addr").port(),
            pg.local_addr().expect("addr").port(),
        );
        let shutdown = CancellationToken::new();
        tokio::spawn(tenantry_mysql::serve(
            mysql,
            engine.clone(),
            tenantry_net::Tls::plain(),
            shutdown.clone(),
        ));
        tokio::spawn(tenantry_postgres::serve(
            pg,
            engine.clone(),
            tenantry_net::Tls::plain(),
            shutdown,
        ));
        ports
    });
    WireServer {
        runtime,
        mysql_port,
        pg_port,
        _engine: engine,
        _checkpointer: checkpointer,
    }
}
