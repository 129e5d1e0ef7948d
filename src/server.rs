//! Start-up and shutdown: open the catalog, bind the listeners, print the ready lines, wait for a signal.

use std::io::Write;
use std::sync::Arc;

use tenantry_catalog::Catalog;
use tenantry_jobs::{JobRegistry, RegistryConfig};
use tenantry_sql::Engine;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::cli::StartArgs;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The catalog could not be opened.
    #[error("opening the catalog in {dir}: {source}")]
    Catalog {
        /// The data directory.
        dir: String,
        /// The cause.
        source: tenantry_catalog::CatalogError,
    },
    /// The job registry could not be opened.
    #[error("opening the job registry: {0}")]
    Jobs(#[from] tenantry_jobs::RegistryError),
    /// Parameters could not be applied.
    #[error("applying parameters: {0}")]
    Parameters(#[from] tenantry_sql::SqlError),
    /// A listener could not be bound.
    #[error("listening on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS certificate or key could not be used.
    #[error("{0}")]
    Tls(#[from] tenantry_net::TlsError),
    /// The runtime could not start.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Runs the server until SIGINT or SIGTERM.
pub fn run(args: StartArgs) -> Result<(), ServerError> {
    // Before anything opens a SQLite database: SQLite's allocator can only be replaced before first use.
    let memory_accounting = tenantry_sql::install_memory_accounting();
    // Everything the server writes is for its own user only (files 0600, directories 0700): tenant databases,
    // the catalog, and backup manifests, which hold password verifiers, and chunks. Set before any thread or
    // file exists.
    // SAFETY: umask only replaces the process's file-creation mask; it has no failure mode.
    unsafe {
        libc::umask(0o077);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if !memory_accounting {
        tracing::warn!(
            "statement memory budgets are off: SQLite's allocator could not be replaced"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(args))
}

async fn serve(args: StartArgs) -> Result<(), ServerError> {
    // Before anything else: a bad certificate must stop the start, not surface at the first TLS client.
    let files = args.tls_cert.as_deref().zip(args.tls_key.as_deref());
    let tls = tenantry_net::Tls::configure(files, args.require_tls)?;
    let dir = args.data_dir.clone();
    let password = args.root_password.clone();
    let external = args.external_io_dir.clone();
    let catalog = tokio::task::spawn_blocking(move || {
        Catalog::open_with_external(&dir, password.as_deref(), external.as_deref())
    })
    .await
    .map_err(|e| std::io::Error::other(e.to_string()))?
    .map_err(|source| ServerError::Catalog {
        dir: args.data_dir.display().to_string(),
        source,
    })?;
    let catalog = Arc::new(catalog);
    // Tenant databases leave their checkpoints to this thread, which records the pages each one changes
    // (incremental backups read only those); it runs until the server stops.
    let _checkpointer = tenantry_storage::Checkpointer::spawn(catalog.storage().clone())
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let runtime = tokio::runtime::Handle::current();
    let catalog_path = args.data_dir.join("catalog.sqlite");
    let engine = {
        let catalog = catalog.clone();
        tokio::task::spawn_blocking(move || -> Result<Arc<Engine>, ServerError> {
            let jobs = JobRegistry::open(&catalog_path, RegistryConfig::default(), runtime)?;
            jobs.register_kind(
                tenantry_kinds::SCHEMA_CHANGE,
                Arc::new(tenantry_kinds::schema_change::SchemaChange::new(
                    catalog.clone(),
                )),
            );
            jobs.register_kind(
                tenantry_kinds::backup::BACKUP,
                Arc::new(tenantry_kinds::backup::Backup::new(
                    catalog.clone(),
                    tokio::runtime::Handle::current(),
                    Arc::downgrade(&jobs),
                )),
            );
            jobs.register_kind(
                tenantry_kinds::restore::RESTORE,
                Arc::new(tenantry_kinds::restore::Restore::new(
                    catalog.clone(),
                    tokio::runtime::Handle::current(),
                )),
            );
            jobs.register_kind(
                tenantry_kinds::import::IMPORT,
                Arc::new(tenantry_kinds::import::Import::new(
                    catalog.clone(),
                    tokio::runtime::Handle::current(),
                )),
            );
            jobs.register_kind(
                tenantry_kinds::clone::CLONE,
                Arc::new(tenantry_kinds::clone::Clone::new(catalog.clone())),
            );
            jobs.register_kind(
                tenantry_kinds::backup_cleanup::BACKUP_CLEANUP,
                Arc::new(tenantry_kinds::backup_cleanup::BackupCleanup::new(
                    catalog.clone(),
                    tokio::runtime::Handle::current(),
                    Arc::downgrade(&jobs),
                )),
            );
            jobs.register_kind(
                tenantry_kinds::changefeed::CHANGEFEED,
                Arc::new(tenantry_kinds::changefeed::Changefeed::new(
                    catalog.clone(),
                    tokio::runtime::Handle::current(),
                    Arc::downgrade(&jobs),
                )),
            );
            let engine = Engine::new(catalog.clone(), jobs.clone());
            engine.apply_parameters()?;
            // Recovery runs before the listeners open: interrupted jobs resume or revert first.
            jobs.start()?;
            tenantry_kinds::import::remove_orphaned_staging(&catalog, &jobs);
            tenantry_kinds::changefeed::remove_unwatched_capture(&catalog, &jobs);
            Ok(engine)
        })
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??
    };
    let shutdown = CancellationToken::new();
    // Delete policies are looked at now (sets that expired while the server was down) and then periodically.
    let cleanup_task = tenantry_kinds::backup_cleanup::spawn_periodic(
        catalog.clone(),
        engine.jobs().clone(),
        tenantry_kinds::backup_cleanup::CLEANUP_PERIOD,
    );

    let mysql = bind(args.mysql_addr).await?;
    let mysql_addr = mysql.local_addr()?;
    engine.set_mysql_port(mysql_addr.port());
    let mysql_task = tokio::spawn(tenantry_mysql::serve(
        mysql,
        engine.clone(),
        tls.clone(),
        shutdown.clone(),
    ));

    let pg = bind(args.pg_addr).await?;
    let pg_addr = pg.local_addr()?;
    let pg_task = tokio::spawn(tenantry_postgres::serve(
        pg,
        engine.clone(),
        tls.clone(),
        shutdown.clone(),
    ));

    let http = bind(args.http_addr).await?;
    let http_addr = http.local_addr()?;
    let http_task = tokio::spawn(tenantry_http::serve(
        http,
        engine.clone(),
        tls.clone(),
        shutdown.clone(),
    ));

    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening mysql {mysql_addr}")?;
        writeln!(out, "listening pg {pg_addr}")?;
        writeln!(out, "listening http {http_addr}")?;
        writeln!(out, "ready")?;
        out.flush()?;
    }
    tracing::info!(
        data_dir = %args.data_dir.display(),
        external_io_dir = %catalog.storage().external().root().display(),
        console = %format!("http://{http_addr}/"),
        "ready"
    );

    wait_for_signal().await?;
    tracing::info!("shutting down");
    shutdown.cancel();
    cleanup_task.abort();
    engine.jobs().shutdown();
    for s in engine.sessions().all() {
        s.kill();
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let _ = mysql_task.await;
        let _ = pg_task.await;
        let _ = http_task.await;
    })
    .await;
    Ok(())
}

async fn bind(addr: std::net::SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}

async fn wait_for_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}
