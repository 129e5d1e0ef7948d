//! The jobs layer's rules, driven through all three front ends with the same expectations: one table of
//! cases (a job in some state, a request, the answer), run over MySQL, PostgreSQL and the REST API. Then
//! the rules that span several jobs: CANCEL JOBS (SELECT ...) changes nothing when one job refuses, and a
//! sys-initiated backup whose tenants' backups were canceled reads canceled.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::Conn;
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

use crate::client::{Api, Auth};
use crate::common::{big_table, final_status, server_error, set_rate, TestServer};

const TABLE: &str = "(id INT PRIMARY KEY, name VARCHAR(40), price DECIMAL(10,2), qty INT)";

/// A front end and a connection to it as root@sys.
enum Front {
    MySql(Conn),
    Pg(Client),
    Rest(Api),
}

/// How a front end answered a request: fine, or an error with its message and the front end's code
/// (MySQL error number, SQLSTATE, or HTTP status and code).
#[derive(Debug, PartialEq)]
enum Answer {
    Ok,
    Refused { message: String, code: String },
}

/// What a refusal looks like on each front end: MySQL number, SQLSTATE, HTTP status and code.
#[derive(Clone, Copy)]
struct Codes {
    mysql: u16,
    pg: &'static str,
    http: (u16, &'static str),
}

/// A request in a job state its table refuses.
const JOB_STATE: Codes = Codes {
    mysql: 4179,
    pg: "55000",
    http: (409, "job_state"),
};
/// A job that does not exist.
const NOT_FOUND: Codes = Codes {
    mysql: 4018,
    pg: "42704",
    http: (404, "job_not_found"),
};

impl Front {
    fn name(&self) -> &'static str {
        match self {
            Self::MySql(_) => "mysql",
            Self::Pg(_) => "pg",
            Self::Rest(_) => "rest",
        }
    }

    fn code(&self, c: Codes) -> String {
        match self {
            Self::MySql(_) => c.mysql.to_string(),
            Self::Pg(_) => c.pg.to_string(),
            Self::Rest(_) => format!("{} {}", c.http.0, c.http.1),
        }
    }

    /// `CANCEL JOB id` (or PAUSE, RESUME), or the REST API's `POST /api/jobs/{id}/{action}`.
    async fn request(&mut self, action: &str, id: i64) -> Answer {
        let sql = format!("{action} JOB {id}");
        self.statement(&sql, action, id).await
    }

    /// A statement over SQL; over REST, the action on the one job.
    async fn statement(&mut self, sql: &str, action: &str, id: i64) -> Answer {
        match self {
            Self::MySql(c) => match c.query_drop(sql).await {
                Ok(()) => Answer::Ok,
                Err(e) => {
                    let (code, _, message) = server_error(e);
                    Answer::Refused {
                        message,
                        code: code.to_string(),
                    }
                }
            },
            Self::Pg(c) => match c.simple_query(sql).await {
                Ok(_) => Answer::Ok,
                Err(e) => {
                    let db = e.as_db_error().expect("a server error");
                    Answer::Refused {
                        message: db.message().to_string(),
                        code: db.code().code().to_string(),
                    }
                }
            },
            Self::Rest(api) => {
                let a = api.post(
                    &format!("/api/jobs/{id}/{}", action.to_lowercase()),
                    &Auth::Basic("root@sys".into(), String::new()),
                    None,
                );
                if a.status == 200 {
                    Answer::Ok
                } else {
                    Answer::Refused {
                        message: a.json["error"]["message"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                        code: format!(
                            "{} {}",
                            a.status,
                            a.json["error"]["code"].as_str().unwrap_or("")
                        ),
                    }
                }
            }
        }
    }

    /// The job's state as this front end shows it.
    async fn state(&mut self, id: i64) -> String {
        match self {
            Self::MySql(c) => {
                let row: mysql_async::Row = c
                    .query_first(format!("SHOW JOB {id}"))
                    .await
                    .unwrap()
                    .unwrap();
                row.get("status").unwrap()
            }
            Self::Pg(c) => {
                let rows = c.simple_query(&format!("SHOW JOB {id}")).await.unwrap();
                rows.into_iter()
                    .find_map(|m| match m {
                        SimpleQueryMessage::Row(r) => r.get("status").map(str::to_string),
                        _ => None,
                    })
                    .unwrap()
            }
            Self::Rest(api) => {
                let a = api.get(
                    &format!("/api/jobs/{id}"),
                    &Auth::Basic("root@sys".into(), String::new()),
                );
                assert_eq!(a.status, 200, "{}", a.text);
                a.json["state"].as_str().unwrap().to_string()
            }
        }
    }
}

async fn pg(server: &TestServer) -> Client {
    let (client, conn) = tokio_postgres::connect(
        &format!(
            "host=127.0.0.1 port={} user=root@sys dbname=test",
            server.pg_port
        ),
        NoTls,
    )
    .await
    .expect("pg connect");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// The three front ends of a server, as root@sys.
async fn fronts(server: &TestServer) -> Vec<Front> {
    vec![
        Front::MySql(server.connect_with("root@sys", "", Some("test")).await),
        Front::Pg(pg(server).await),
        Front::Rest(Api::new(server)),
    ]
}

/// CSV lines `id,name,price,qty`, `n` of them.
fn csv(dir: &Path, name: &str, n: i64) -> PathBuf {
    let mut s = String::new();
    for i in 1..=n {
        s.push_str(&format!("{i},\"item {i}\",{}.25,{}\n", i % 100, i % 7));
    }
    let path = dir.join(name);
    std::fs::write(&path, s).unwrap();
    path
}

/// Starts a detached import of `file` into a new table `table`; returns its job id.
async fn import(c: &mut Conn, table: &str, file: &Path) -> i64 {
    c.query_drop(format!("CREATE TABLE {table} {TABLE}"))
        .await
        .unwrap();
    let row: mysql_async::Row = c
        .query_first(format!(
            "IMPORT INTO {table} FROM 'file://{}' WITH DETACHED",
            file.display()
        ))
        .await
        .unwrap()
        .unwrap();
    row.get("Job_ID").unwrap()
}

/// Waits until the job's state is `want` (as MySQL shows it).
async fn wait_state(c: &mut Conn, id: i64, want: &str) {
    let mut seen = String::new();
    for _ in 0..1500 {
        let row: mysql_async::Row = c
            .query_first(format!("SHOW JOB {id}"))
            .await
            .unwrap()
            .unwrap();
        seen = row.get("status").unwrap();
        if seen == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("job {id} is {seen}, never {want}");
}

/// Waits until an import has loaded something.
async fn loading(c: &mut Conn, id: i64) {
    for _ in 0..1500 {
        let f: Option<f64> = c
            .query_first(format!(
                "SELECT fraction_completed FROM [SHOW JOBS] WHERE job_id = {id} AND status = 'running'"
            ))
            .await
            .unwrap();
        if f.is_some_and(|f| f > 0.0) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("import {id} never loaded anything");
}

#[derive(Clone, Copy, Debug)]
enum Fixture {
    Succeeded,
    Failed,
    Canceled,
    Running,
    Paused,
    Missing,
}

/// What a request must answer.
enum Expect {
    /// Fine, and the job is then in one of these states.
    Ok(&'static [&'static str]),
    /// Refused with this message (`{id}` stands for the job's id) and these codes.
    Refused(&'static str, Codes),
}

/// The cases, in the order they run (the last two move their jobs on).
const CASES: &[(Fixture, &str, Expect)] = &[
    (
        Fixture::Succeeded,
        "CANCEL",
        Expect::Refused(
            "job {id}: job with state succeeded cannot be requested to be canceled",
            JOB_STATE,
        ),
    ),
    (
        Fixture::Failed,
        "CANCEL",
        Expect::Refused(
            "job {id}: job with state failed cannot be requested to be canceled",
            JOB_STATE,
        ),
    ),
    (Fixture::Canceled, "CANCEL", Expect::Ok(&["canceled"])),
    (
        Fixture::Succeeded,
        "PAUSE",
        Expect::Refused(
            "job {id}: job with state succeeded cannot be requested to be paused",
            JOB_STATE,
        ),
    ),
    (
        Fixture::Canceled,
        "RESUME",
        Expect::Refused(
            "job {id}: job with state canceled cannot be resumed",
            JOB_STATE,
        ),
    ),
    (Fixture::Running, "RESUME", Expect::Ok(&["running"])),
    (Fixture::Paused, "PAUSE", Expect::Ok(&["paused"])),
    (
        Fixture::Paused,
        "CANCEL",
        Expect::Ok(&["reverting", "canceled"]),
    ),
    (
        Fixture::Missing,
        "CANCEL",
        Expect::Refused("job with ID {id} does not exist", NOT_FOUND),
    ),
    (
        Fixture::Running,
        "PAUSE",
        Expect::Ok(&["pause-requested", "paused"]),
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_answers_the_same_over_mysql_pg_and_rest() {
    let server = TestServer::start();
    let dir = &server.tenant_dir("sys");
    let small = csv(dir, "small.csv", 10);
    let big = csv(dir, "big.csv", 400_000);
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "1,\"x\",1.0,abc\n").unwrap();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;

    let succeeded = import(&mut c, "fx_ok", &small).await;
    assert_eq!(final_status(&mut c, succeeded).await, "succeeded");
    let failed = import(&mut c, "fx_bad", &bad).await;
    assert_eq!(final_status(&mut c, failed).await, "failed");
    set_rate(&server, "1MB").await;
    let canceled = import(&mut c, "fx_canceled", &big).await;
    c.query_drop(format!("CANCEL JOB {canceled}"))
        .await
        .unwrap();
    assert_eq!(final_status(&mut c, canceled).await, "canceled");

    for (n, mut front) in fronts(&server).await.into_iter().enumerate() {
        // Each front end gets its own running and paused jobs (the last cases move them on).
        let running = import(&mut c, &format!("fx_running_{n}"), &big).await;
        let paused = import(&mut c, &format!("fx_paused_{n}"), &big).await;
        loading(&mut c, running).await;
        loading(&mut c, paused).await;
        c.query_drop(format!("PAUSE JOB {paused}")).await.unwrap();
        wait_state(&mut c, paused, "paused").await;
        for (fixture, action, expect) in CASES {
            let id = match fixture {
                Fixture::Succeeded => succeeded,
                Fixture::Failed => failed,
                Fixture::Canceled => canceled,
                Fixture::Running => running,
                Fixture::Paused => paused,
                Fixture::Missing => 42,
            };
            let what = format!("{action} of the {fixture:?} job over {}", front.name());
            let answer = front.request(action, id).await;
            match expect {
                Expect::Ok(states) => {
                    assert_eq!(answer, Answer::Ok, "{what}");
                    let state = front.state(id).await;
                    assert!(states.contains(&state.as_str()), "{what}: then {state}");
                }
                Expect::Refused(message, codes) => {
                    assert_eq!(
                        answer,
                        Answer::Refused {
                            message: message.replace("{id}", &id.to_string()),
                            code: front.code(*codes),
                        },
                        "{what}"
                    );
                }
            }
        }
        for id in [running, paused] {
            let _ = front.request("CANCEL", id).await;
            assert_eq!(final_status(&mut c, id).await, "canceled");
        }
    }
    // The refused requests changed nothing.
    assert_eq!(final_status(&mut c, succeeded).await, "succeeded");
    assert_eq!(final_status(&mut c, failed).await, "failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_jobs_of_a_select_changes_nothing_when_one_job_refuses() {
    let server = TestServer::start();
    let dir = &server.tenant_dir("sys");
    let big = csv(dir, "big.csv", 400_000);
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    set_rate(&server, "1MB").await;

    // A job that reverts and cannot finish its undo (a directory where the undo removes a file: it retries),
    // paused while it reverts. The import keeps its staging journal open, so replacing the file's name by a
    // directory does not disturb the work, only the undo.
    let stuck = import(&mut c, "stuck", &big).await;
    loading(&mut c, stuck).await;
    let journal = server
        .data_dir()
        .join("tenants")
        .join("1")
        .join(format!("import_{stuck}.staging-journal"));
    let _ = std::fs::remove_file(&journal);
    std::fs::create_dir(&journal).unwrap();
    c.query_drop(format!("CANCEL JOB {stuck}")).await.unwrap();
    wait_state(&mut c, stuck, "reverting").await;
    c.query_drop(format!("PAUSE JOB {stuck}")).await.unwrap();
    wait_state(&mut c, stuck, "paused").await;

    let running = import(&mut c, "running", &big).await;
    loading(&mut c, running).await;
    let refusal =
        format!("job {stuck}: job with state reverting cannot be requested to be canceled");
    // The running job comes first in the list: it must not be canceled when the paused one refuses.
    let sql = format!(
        "CANCEL JOBS (SELECT job_id FROM [SHOW JOBS] WHERE job_id IN ({running}, {stuck}) ORDER BY job_id = {stuck})"
    );
    for mut front in fronts(&server).await {
        let answer = match front {
            Front::Rest(_) => front.request("CANCEL", stuck).await,
            _ => front.statement(&sql, "CANCEL", stuck).await,
        };
        assert_eq!(
            answer,
            Answer::Refused {
                message: refusal.clone(),
                code: front.code(JOB_STATE),
            },
            "over {}",
            front.name()
        );
        assert_eq!(
            front.state(running).await,
            "running",
            "over {}",
            front.name()
        );
        assert_eq!(front.state(stuck).await, "paused", "over {}", front.name());
    }

    // Once the undo can finish, RESUME lets it: the job ends canceled.
    std::fs::remove_dir(&journal).unwrap();
    c.query_drop(format!("RESUME JOB {stuck}")).await.unwrap();
    assert_eq!(final_status(&mut c, stuck).await, "canceled");
    c.query_drop(format!("CANCEL JOB {running}")).await.unwrap();
    assert_eq!(final_status(&mut c, running).await, "canceled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_backup_whose_tenant_backups_were_canceled_reads_canceled() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let dest = server.external_dir().join("t1/bk");
    let mut t1 = server.connect("root@t1").await;
    big_table(&mut t1, "test", 50_000).await;
    let mut sys = server.connect("root@sys").await;
    sys.query_drop(format!(
        "ALTER SYSTEM SET DATA_BACKUP_DEST = 'file://{}' TENANT = t1",
        dest.display()
    ))
    .await
    .unwrap();
    set_rate(&server, "128KB").await;
    sys.query_drop("ALTER SYSTEM BACKUP TENANT = t1")
        .await
        .unwrap();
    let parent: i64 = sys
        .query_first("SELECT JOB_ID FROM oceanbase.CDB_OB_BACKUP_JOBS WHERE JOB_LEVEL = 'CLUSTER'")
        .await
        .unwrap()
        .unwrap();
    // The tenant's backup is canceled (not the cluster-level job).
    sys.query_drop("ALTER SYSTEM CANCEL BACKUP TENANT = t1")
        .await
        .unwrap();
    assert_eq!(final_status(&mut sys, parent).await, "canceled");
    let rows: Vec<(String, i64, String, String)> = sys
        .query("SELECT JOB_LEVEL, RESULT, STATUS, COMMENT FROM oceanbase.CDB_OB_BACKUP_JOB_HISTORY ORDER BY TENANT_ID")
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![
            ("CLUSTER".into(), -4072, "CANCELED".into(), String::new()),
            (
                "USER_TENANT".into(),
                -4072,
                "CANCELED".into(),
                String::new()
            ),
        ]
    );
    for mut front in fronts(&server).await {
        assert_eq!(
            front.state(parent).await,
            "canceled",
            "over {}",
            front.name()
        );
    }
    let a = Api::new(&server).get(
        &format!("/api/jobs/{parent}"),
        &Auth::Basic("root@sys".into(), String::new()),
    );
    assert_eq!(a.json["error_code"], -4072, "{}", a.text);
    assert_eq!(a.json["error"], serde_json::Value::Null, "{}", a.text);
    set_rate(&server, "0").await;
}
