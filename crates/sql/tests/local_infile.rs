//! `LOAD DATA LOCAL INFILE` through the SQL layer's API: the front end's [`LocalFiles`] hands over the bytes its
//! client sends; the statement needs INSERT (not FILE), the file lands in the tenant's directory only while its
//! job runs, and a connection that cannot send files is refused as MySQL refuses it.

use std::io::Read;
use std::sync::{Arc, Mutex};

use tenantry_catalog::Catalog;
use tenantry_jobs::{JobRegistry, RegistryConfig};
use tenantry_sql::{Engine, LocalFiles, Output, Session, Value};

/// A client holding some files, recording which ones the server asked for.
struct Client {
    files: Vec<(&'static str, Vec<u8>)>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl LocalFiles for Client {
    fn open(&mut self, name: &str) -> std::io::Result<Box<dyn Read + Send + '_>> {
        self.asked.lock().unwrap().push(name.to_string());
        match self.files.iter().find(|(n, _)| *n == name) {
            Some((_, bytes)) => Ok(Box::new(std::io::Cursor::new(bytes.clone()))),
            None => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the client has no such file",
            )),
        }
    }
}

struct Server {
    _rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    engine: Arc<Engine>,
    catalog: Arc<Catalog>,
    jobs: Arc<JobRegistry>,
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
    jobs.register_kind(
        tenantry_kinds::import::IMPORT,
        Arc::new(tenantry_kinds::import::Import::new(
            catalog.clone(),
            rt.handle().clone(),
        )),
    );
    let engine = Engine::new(catalog.clone(), jobs.clone());
    jobs.start().unwrap();
    Server {
        _rt: rt,
        dir,
        engine,
        catalog,
        jobs,
    }
}

impl Server {
    fn session(&self, login: &str) -> Session {
        let _enter = self._rt.enter();
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

    fn run(&self, s: &mut Session, sql: &str) -> tenantry_sql::Result<Output> {
        let _enter = self._rt.enter();
        s.execute(sql, &[])
    }

    /// Files `LOAD DATA LOCAL` left in sys's directory.
    fn local_files(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.path().join("tenants/1"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("local_"))
            .collect()
    }
}

fn code(r: tenantry_sql::Result<Output>) -> u16 {
    match r {
        Ok(o) => panic!("expected an error, got {o:?}"),
        Err(e) => e.wire().mysql_code,
    }
}

#[test]
fn load_data_local_reads_the_clients_file_with_insert_alone() {
    let server = server();
    let mut root = server.session("root@sys");
    server.run(&mut root, "USE test").unwrap();
    for sql in [
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))",
        "CREATE USER loader IDENTIFIED BY 'pw'",
        "GRANT SELECT, INSERT ON test.* TO loader",
    ] {
        server.run(&mut root, sql).unwrap();
    }
    let load = "LOAD DATA LOCAL INFILE 'C:\\\\data\\\\items.csv' INTO TABLE items FIELDS TERMINATED BY ','";

    // A connection whose client sends no files: MySQL's refusal.
    let mut loader = server.session("loader");
    server.run(&mut loader, "USE test").unwrap();
    assert_eq!(code(server.run(&mut loader, load)), 3948);

    let asked = Arc::new(Mutex::new(Vec::new()));
    loader.set_local_files(Some(Box::new(Client {
        files: vec![("C:\\data\\items.csv", b"1,apple\n2,pear\n3,fig\n".to_vec())],
        asked: asked.clone(),
    })));
    match server.run(&mut loader, load).unwrap() {
        Output::Done { affected, .. } => assert_eq!(affected, 3),
        other => panic!("{other:?}"),
    }
    assert_eq!(*asked.lock().unwrap(), ["C:\\data\\items.csv"]);
    match server
        .run(&mut root, "SELECT name FROM items ORDER BY id")
        .unwrap()
    {
        Output::Rows(rs) => {
            let names: Vec<&Value> = rs.rows.iter().map(|r| &r[0]).collect();
            assert_eq!(
                names,
                [
                    &Value::from("apple"),
                    &Value::from("pear"),
                    &Value::from("fig")
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    // The client's bytes were kept only while the job ran.
    assert!(
        server.local_files().is_empty(),
        "{:?}",
        server.local_files()
    );

    // The server's own files stay out of reach without FILE; a file the client does not have fails the
    // statement and leaves nothing behind.
    assert_eq!(
        code(server.run(&mut loader, "LOAD DATA INFILE 'items.csv' INTO TABLE items")),
        1045
    );
    assert_eq!(
        code(server.run(
            &mut loader,
            "LOAD DATA LOCAL INFILE 'missing.csv' INTO TABLE items"
        )),
        29
    );
    assert!(server.local_files().is_empty());
    // INSERT is still needed.
    server
        .run(&mut root, "REVOKE INSERT ON test.* FROM loader")
        .unwrap();
    assert_eq!(code(server.run(&mut loader, load)), 1142);
    assert_eq!(
        asked.lock().unwrap().len(),
        2,
        "no file is asked for before the checks"
    );
}

#[test]
fn start_up_removes_local_files_whose_job_is_gone() {
    let server = server();
    let left = server
        .dir
        .path()
        .join("tenants/1/local_0123456789abcdef.load");
    std::fs::write(&left, "1,a\n").unwrap();
    let other = server.dir.path().join("tenants/1/notes.txt");
    std::fs::write(&other, "kept").unwrap();
    tenantry_kinds::import::remove_orphaned_staging(&server.catalog, &server.jobs);
    assert!(!left.exists());
    assert!(other.exists());
}
