//! `pg_catalog` as psql's meta-commands read it: `\dt`, `\di`, `\dv`, `\d table`, `\dn`, `\du`, `\l`, run
//! with the real psql and compared with what PostgreSQL 15's psql prints for the same schema (captured from a
//! PostgreSQL 15 server where the same objects were created by a superuser `root`).

use std::process::Command;

use crate::common::TestServer;

/// Runs psql with these arguments as root@sys on database `test`; fails on error.
fn psql(server: &TestServer, args: &[&str]) -> String {
    crate::psql_smoke::ensure_client();
    let out = Command::new("psql")
        .arg(format!(
            "postgresql://root%40sys@127.0.0.1:{}/test",
            server.pg_port
        ))
        .args(["-X", "-v", "ON_ERROR_STOP=1"])
        .args(args)
        .env_remove("PGPASSWORD")
        .output()
        .expect("run psql");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "psql {args:?} failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn meta(server: &TestServer, command: &str) -> String {
    psql(server, &["-c", command])
}

const SCHEMA: &str =
    "CREATE TABLE items (id integer PRIMARY KEY, name varchar(64) NOT NULL, price numeric(10,2)); \
     CREATE INDEX items_name ON items (name); \
     CREATE VIEW v AS SELECT id FROM items;";

#[test]
fn psql_meta_commands_print_what_postgres_prints() {
    let server = TestServer::start();
    psql(&server, &["-c", SCHEMA]);

    assert_eq!(
        meta(&server, "\\dt"),
        "       List of relations
 Schema | Name  | Type  | Owner 
--------+-------+-------+-------
 public | items | table | root
(1 row)

"
    );
    assert_eq!(
        meta(&server, "\\di"),
        "              List of relations
 Schema |    Name    | Type  | Owner | Table 
--------+------------+-------+-------+-------
 public | items_name | index | root  | items
 public | items_pkey | index | root  | items
(2 rows)

"
    );
    assert_eq!(
        meta(&server, "\\dv"),
        "      List of relations
 Schema | Name | Type | Owner 
--------+------+------+-------
 public | v    | view | root
(1 row)

"
    );
    assert_eq!(
        meta(&server, "\\d items"),
        "                      Table \"public.items\"
 Column |         Type          | Collation | Nullable | Default 
--------+-----------------------+-----------+----------+---------
 id     | integer               |           | not null | 
 name   | character varying(64) |           | not null | 
 price  | numeric(10,2)         |           |          | 
Indexes:
    \"items_pkey\" PRIMARY KEY, btree (id)
    \"items_name\" btree (name)

"
    );
    assert_eq!(
        meta(&server, "\\dn"),
        "      List of schemas
  Name  |       Owner       
--------+-------------------
 public | pg_database_owner
(1 row)

"
    );
    // PostgreSQL lists its bootstrap superuser `postgres` too; here the tenant's administrator is the one.
    assert_eq!(
        meta(&server, "\\du"),
        "                             List of roles
 Role name |                  Attributes                   | Member of 
-----------+-----------------------------------------------+-----------
 root      | Superuser, Create role, Create DB, Bypass RLS | {}

"
    );
    // `\l` lists the tenant's databases; PostgreSQL's own (postgres, template0/1) do not exist here.
    let listed = psql(&server, &["-A", "-t", "-c", "\\l"]);
    assert_eq!(listed, "test|root|UTF8|C.UTF-8|C.UTF-8||libc|\n");
}

#[test]
fn a_missing_table_is_reported_as_psql_reports_it() {
    let server = TestServer::start();
    crate::psql_smoke::ensure_client();
    let out = Command::new("psql")
        .arg(format!(
            "postgresql://root%40sys@127.0.0.1:{}/test",
            server.pg_port
        ))
        .args(["-X", "-c", "\\d nothing"])
        .output()
        .expect("run psql");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Did not find any relation named \"nothing\".\n"
    );
}
