//! The REST API: login and cookies, listing with filters and paging, one job, cancel / pause / resume,
//! tenant isolation, JSON errors, and `/metrics` after a job ran.

use mysql_async::prelude::*;
use serde_json::Value;

use crate::client::{assert_error, eventually, slow_backup, Api, Auth};
use crate::common::TestServer;

fn root() -> Auth {
    Auth::Basic("root@sys".into(), String::new())
}

fn state_of(api: &Api, auth: &Auth, id: i64) -> String {
    let a = api.get(&format!("/api/jobs/{id}"), auth);
    assert_eq!(a.status, 200, "{}", a.text);
    a.json["state"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_sets_a_session_cookie_and_errors_are_json() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    let mut t = server.connect("root@t1").await;
    t.query_drop("CREATE USER alice IDENTIFIED BY 'wonder'")
        .await
        .unwrap();
    let api = Api::new(&server);

    // Login sets an HttpOnly, SameSite=Strict cookie, and the cookie identifies the caller.
    let a = api.post(
        "/api/login",
        &Auth::None,
        Some(r#"{"user": "alice@t1", "password": "wonder"}"#),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    let cookie = a.set_cookie.clone().expect("a cookie");
    assert!(cookie.starts_with("tenantry_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert_eq!(a.json["user"], "alice");
    assert_eq!(a.json["tenant"], "t1");
    let alice = Auth::Cookie(cookie.split(';').next().unwrap().to_string());
    let me = api.get("/api/me", &alice);
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json["user"], "alice");
    assert_eq!(me.json["cluster_admin"], false);

    // The console's login is a real session of protocol http: SHOW PROCESSLIST sees it.
    let rows: Vec<mysql_async::Row> = t.query("SHOW PROCESSLIST").await.unwrap();
    let session_id = me.json["session_id"].as_u64().unwrap();
    assert!(
        rows.iter()
            .any(|r| r.get::<u64, _>("Id") == Some(session_id)
                && r.get::<String, _>("User").as_deref() == Some("alice")),
        "{rows:?}"
    );

    // Wrong password, unknown user, unknown tenant: the same 401 JSON error.
    for (user, pw) in [
        ("alice@t1", "nope"),
        ("bob@t1", "wonder"),
        ("alice@nowhere", "wonder"),
    ] {
        let a = api.post(
            "/api/login",
            &Auth::None,
            Some(&serde_json::json!({"user": user, "password": pw}).to_string()),
        );
        assert_error(&a, 401, "unauthorized");
        assert!(a.set_cookie.is_none());
    }
    assert_error(
        &api.get("/api/jobs", &Auth::Basic("alice@t1".into(), "nope".into())),
        401,
        "unauthorized",
    );
    // No credentials, a forged cookie, a malformed body, an unknown path: JSON errors with stable codes.
    assert_error(&api.get("/api/jobs", &Auth::None), 401, "unauthorized");
    assert_error(
        &api.get("/api/jobs", &Auth::Cookie("tenantry_session=forged".into())),
        401,
        "unauthorized",
    );
    assert_error(
        &api.post("/api/login", &Auth::None, Some("{not json")),
        400,
        "bad_request",
    );
    assert_error(&api.get("/api/nothing-here", &alice), 404, "not_found");
    assert_error(&api.get("/api/jobs/abc", &alice), 400, "bad_request");
    assert_error(&api.get("/api/jobs/12345", &alice), 404, "job_not_found");
    assert_error(
        &api.post("/api/jobs/12345/explode", &alice, None),
        404,
        "not_found",
    );
    assert_error(
        &api.get("/api/jobs?state=sleeping", &alice),
        400,
        "bad_request",
    );
    assert_error(&api.get("/api/jobs?limit=0", &alice), 400, "bad_request");
    assert_error(&api.get("/api/jobs?limit=many", &alice), 400, "bad_request");

    // A user sees only its own tenant.
    let tenants = api.get("/api/tenants", &alice);
    assert_eq!(tenants.status, 200);
    let names: Vec<&str> = tenants
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["t1"]);
    let all = api.get("/api/tenants", &root());
    let names: Vec<&str> = all
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"sys") && names.contains(&"t1"), "{names:?}");

    // Logging out ends the login: the cookie no longer works.
    let out = api.post("/api/logout", &alice, None);
    assert_eq!(out.status, 200);
    assert_error(&api.get("/api/me", &alice), 401, "unauthorized");

    // The console and its API description are served.
    let index = api.get("/", &Auth::None);
    assert_eq!(index.status, 200);
    assert!(index.text.contains("Tenantry"), "the console page");
    let spec = api.get("/api/openapi.json", &Auth::None);
    assert_eq!(spec.json["openapi"], "3.0.3");
    assert!(spec.json["paths"]["/api/jobs/{id}/cancel"].is_object());
}

/// Runs `n` quick schema changes in `tenant` (each one a SCHEMA CHANGE job).
async fn schema_changes(server: &TestServer, tenant: &str, n: usize) {
    let mut c = server.connect(&format!("root@{tenant}")).await;
    c.query_drop("CREATE TABLE test.s (a INT, b INT)")
        .await
        .unwrap();
    for i in 0..n {
        c.query_drop(format!("CREATE INDEX i{i} ON test.s (a)"))
            .await
            .unwrap();
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_listed_with_filters_and_pages() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    server.create_tenant("t2").await;
    schema_changes(&server, "t1", 5).await;
    schema_changes(&server, "t2", 2).await;
    let api = Api::new(&server);
    let root = root();

    let all = api.get("/api/jobs?type=SCHEMA%20CHANGE", &root);
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(all.json["total"], 7);
    assert_eq!(all.json["counts"]["succeeded"], 7);
    let t1 = api.get("/api/jobs?type=SCHEMA%20CHANGE&tenant=t1", &root);
    assert_eq!(t1.json["total"], 5);
    assert!(t1.json["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|j| j["tenant"] == "t1"
            && j["type"] == "SCHEMA CHANGE"
            && j["state"] == "succeeded"
            && j["owner"] == "root"
            && j["fraction_completed"] == 1.0));
    let tenants = all.json["tenants"].as_array().unwrap();
    assert!(tenants.contains(&Value::from("t1")) && tenants.contains(&Value::from("t2")));

    // Pages are disjoint, newest first, and cover every job.
    let p1 = api.get("/api/jobs?tenant=t1&limit=2&offset=0", &root);
    let p2 = api.get("/api/jobs?tenant=t1&limit=2&offset=2", &root);
    let p3 = api.get("/api/jobs?tenant=t1&limit=2&offset=4", &root);
    assert_eq!(p1.json["total"], 5);
    let mut seen: Vec<String> = [ids(&p1.json), ids(&p2.json), ids(&p3.json)].concat();
    assert_eq!(seen.len(), 5);
    let newest_first = seen.clone();
    seen.sort_by_key(|id| std::cmp::Reverse(id.parse::<i64>().unwrap()));
    assert_eq!(seen, newest_first, "newest first");
    seen.dedup();
    assert_eq!(seen.len(), 5, "pages do not overlap");
    assert_eq!(
        ids(&api.get("/api/jobs?tenant=t1&limit=2&offset=10", &root).json).len(),
        0
    );

    // State filters: none running, every one succeeded; `active` is the unfinished ones.
    assert_eq!(api.get("/api/jobs?state=running", &root).json["total"], 0);
    assert_eq!(
        api.get("/api/jobs?tenant=t2&state=succeeded,failed", &root)
            .json["total"],
        2
    );
    assert_eq!(api.get("/api/jobs?state=active", &root).json["total"], 0);
    // Search in descriptions.
    let found = api.get("/api/jobs?tenant=t1&q=i3", &root);
    assert_eq!(found.json["total"], 1, "{}", found.text);

    // A tenant's administrator sees its tenant's jobs only, whatever filter it asks for.
    let t2 = Auth::Basic("root@t2".into(), String::new());
    let own = api.get("/api/jobs", &t2);
    assert_eq!(own.json["total"], 2, "{}", own.text);
    assert_eq!(api.get("/api/jobs?tenant=t1", &t2).json["total"], 0);
    // The same as SQL: SHOW JOBS in t2 lists the same jobs.
    let mut c = server.connect("root@t2").await;
    let sql: Vec<i64> = c.query("SELECT job_id FROM [SHOW JOBS]").await.unwrap();
    let mut rest: Vec<i64> = ids(&own.json).iter().map(|s| s.parse().unwrap()).collect();
    let mut sql_sorted = sql.clone();
    sql_sorted.sort();
    rest.sort();
    assert_eq!(rest, sql_sorted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_backup_is_shown_controlled_and_isolated() {
    let server = TestServer::start();
    server.create_tenant("t1").await;
    server.create_tenant("t2").await;
    let mut t1 = server.connect("root@t1").await;
    t1.query_drop("CREATE USER carol IDENTIFIED BY 'pw'")
        .await
        .unwrap();
    let id = slow_backup(&server, "t1", 100000, "256KB").await;
    let api = Api::new(&server);
    let root = api.login("root@sys", "");

    // One job: its statement, progress moving, history.
    let first = eventually(20, "the backup to run and report progress", || {
        let a = api.get(&format!("/api/jobs/{id}"), &root);
        (a.json["state"] == "running" && a.json["fraction_completed"].as_f64()? > 0.0).then_some(a)
    });
    assert_eq!(first.json["type"], "BACKUP");
    assert_eq!(first.json["tenant"], "t1");
    assert_eq!(first.json["id"], id.to_string());
    assert!(
        first.json["statement"].as_str().unwrap().contains("BACKUP"),
        "{}",
        first.text
    );
    assert!(
        first.json["progress"]["bytes_total"].as_u64().unwrap() > 0,
        "{}",
        first.text
    );
    assert!(
        first.json["events"].as_array().unwrap().len() >= 2,
        "{}",
        first.text
    );
    assert_eq!(
        first.json["phases"][0]["name"], "BACKUP_DATA",
        "{}",
        first.text
    );
    assert!(
        first.json["speed"]["bytes_per_second"].as_f64().unwrap() > 0.0,
        "{}",
        first.text
    );
    assert!(
        first.json["speed"]["eta_seconds"].as_f64().is_some(),
        "{}",
        first.text
    );
    let f0 = first.json["fraction_completed"].as_f64().unwrap();
    eventually(10, "progress to move", || {
        let a = api.get(&format!("/api/jobs/{id}"), &root);
        (a.json["fraction_completed"].as_f64()? > f0).then_some(())
    });
    let listed = api.get("/api/jobs?state=running", &root);
    assert_eq!(
        listed.json["jobs"][0]["id"],
        id.to_string(),
        "{}",
        listed.text
    );
    assert_eq!(
        listed.json["jobs"][0]["actions"],
        serde_json::json!(["cancel", "pause"])
    );

    // Another tenant's administrator: the job does not exist for it (404, as SHOW JOB says).
    let t2 = Auth::Basic("root@t2".into(), String::new());
    assert_error(
        &api.get(&format!("/api/jobs/{id}"), &t2),
        404,
        "job_not_found",
    );
    for action in ["cancel", "pause", "resume"] {
        assert_error(
            &api.post(&format!("/api/jobs/{id}/{action}"), &t2, None),
            404,
            "job_not_found",
        );
    }
    assert!(ids(&api.get("/api/jobs", &t2).json).is_empty());
    // A user of the same tenant without VIEWJOB / CONTROLJOB: 403, as SQL's job privilege error.
    let carol = Auth::Basic("carol@t1".into(), "pw".into());
    assert_error(
        &api.get(&format!("/api/jobs/{id}"), &carol),
        403,
        "forbidden",
    );
    assert_error(
        &api.post(&format!("/api/jobs/{id}/cancel"), &carol, None),
        403,
        "forbidden",
    );
    assert!(ids(&api.get("/api/jobs", &carol).json).is_empty());
    assert_eq!(
        state_of(&api, &root, id),
        "running",
        "nothing they asked changed the job"
    );

    // Pause, resume, then cancel from the API.
    let paused = api.post(&format!("/api/jobs/{id}/pause"), &root, None);
    assert_eq!(paused.status, 200, "{}", paused.text);
    eventually(10, "the backup to pause", || {
        (state_of(&api, &root, id) == "paused").then_some(())
    });
    // Pausing a paused job is a no-op, as PAUSE JOB is.
    let twice = api.post(&format!("/api/jobs/{id}/pause"), &root, None);
    assert_eq!(twice.status, 200, "{}", twice.text);
    assert_eq!(twice.json["state"], "paused");
    assert_eq!(
        twice.json["actions"],
        serde_json::json!(["cancel", "resume"])
    );
    let resumed = api.post(&format!("/api/jobs/{id}/resume"), &root, None);
    assert_eq!(resumed.status, 200, "{}", resumed.text);
    eventually(10, "the backup to run again", || {
        (state_of(&api, &root, id) == "running").then_some(())
    });
    let canceled = api.post(&format!("/api/jobs/{id}/cancel"), &root, None);
    assert_eq!(canceled.status, 200, "{}", canceled.text);
    eventually(10, "the backup to be canceled", || {
        (state_of(&api, &root, id) == "canceled").then_some(())
    });
    // Resuming a canceled job is refused with the same text SQL gives.
    let again = api.post(&format!("/api/jobs/{id}/resume"), &root, None);
    assert_error(&again, 409, "job_state");
    let (code, _, sql_message) =
        crate::common::expect_error(&mut t1, &format!("RESUME JOB {id}")).await;
    assert_eq!(code, 4179);
    assert_eq!(again.json["error"]["message"], sql_message);
    let done = api.get(&format!("/api/jobs/{id}"), &root);
    let timeline: Vec<&str> = done.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    for s in [
        "pending",
        "running",
        "paused",
        "cancel-requested",
        "reverting",
        "canceled",
    ] {
        assert!(timeline.contains(&s), "{s} in the history: {timeline:?}");
    }

    // Metrics after the job ran.
    let m = api.get("/metrics", &Auth::None);
    assert_eq!(m.status, 200);
    assert!(
        m.content_type.starts_with("text/plain"),
        "{}",
        m.content_type
    );
    let text = m.text;
    assert!(
        text.contains("tenantry_jobs{type=\"BACKUP\",state=\"canceled\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("tenantry_jobs{type=\"BACKUP\",state=\"running\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE tenantry_job_cancel_latency_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("tenantry_job_cancel_latency_seconds_count 1"),
        "{text}"
    );
    assert!(
        text.contains("tenantry_job_cancel_latency_seconds_bucket{le=\"+Inf\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("tenantry_job_duration_seconds_count{type=\"BACKUP\",state=\"canceled\"} 1"),
        "{text}"
    );
    let moved: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("tenantry_job_bytes_moved_total{type=\"BACKUP\"} "))
        .expect("bytes moved by the backup")
        .parse()
        .unwrap();
    assert!(moved > 0, "{text}");
    assert!(
        text.contains("tenantry_sessions{protocol=\"mysql\",tenant=\"t1\"} "),
        "{text}"
    );
    assert!(
        text.contains("tenantry_sessions{protocol=\"http\",tenant=\"sys\"} 1"),
        "the console login: {text}"
    );
}

/// The value of one sample line of the Prometheus text, if present.
fn sample(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_duration_histogram_is_cumulative_and_survives_retention() {
    let server = TestServer::start();
    let mut c = server.connect_with("root@sys", "", Some("test")).await;
    c.query_drop("CREATE TABLE t (a INT, b INT, d INT)")
        .await
        .unwrap();
    for col in ["a", "b", "d"] {
        c.query_drop(format!("CREATE INDEX t_{col} ON t ({col})"))
            .await
            .unwrap();
    }
    let api = Api::new(&server);
    let count = "tenantry_job_duration_seconds_count{type=\"SCHEMA CHANGE\",state=\"succeeded\"}";
    let inf = "tenantry_job_duration_seconds_bucket{type=\"SCHEMA CHANGE\",state=\"succeeded\",le=\"+Inf\"}";
    let before = api.get("/metrics", &Auth::None).text;
    assert_eq!(sample(&before, count), Some(3.0), "{before}");
    assert_eq!(sample(&before, inf), Some(3.0), "{before}");
    // Buckets never decrease along the bounds.
    let buckets: Vec<f64> = before
        .lines()
        .filter(|l| l.starts_with("tenantry_job_duration_seconds_bucket{type=\"SCHEMA CHANGE\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");

    // Retention removes the records; the jobs gauge follows them, the histogram keeps what it observed.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    c.query_drop("ALTER SYSTEM SET jobs_retention = '1s'")
        .await
        .unwrap();
    let n: Option<i64> = c
        .query_first("SELECT COUNT(*) FROM crdb_internal.jobs")
        .await
        .unwrap();
    assert_eq!(n, Some(0));
    let after = api.get("/metrics", &Auth::None).text;
    assert_eq!(
        sample(
            &after,
            "tenantry_jobs{type=\"SCHEMA CHANGE\",state=\"succeeded\"}"
        ),
        Some(0.0),
        "{after}"
    );
    assert_eq!(sample(&after, count), Some(3.0), "{after}");
    assert_eq!(sample(&after, inf), Some(3.0), "{after}");
}
