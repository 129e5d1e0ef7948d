//! `pg_catalog`: the PostgreSQL system catalogs that psql's meta-commands (`\dt`, `\d t`, `\l`, `\du` ...),
//! drivers' metadata calls (pgjdbc's DatabaseMetaData) and SQLAlchemy's inspector read, over the session's
//! current database (its schema `public`, as in CockroachDB) and the tenant's users and databases.
//!
//! Oids are not stored anywhere: a table's or index's oid is a hash of its database and name (stable
//! across statements and sessions, which psql relies on: it reads a table's oid, then queries by it);
//! built-in types and namespaces have PostgreSQL's own oids. Catalogs of features that do not exist here
//! (policies, publications, inheritance, extended statistics, sequences) are empty, so the queries that
//! read them run.

use super::{ViewDef, Visibility};
use crate::error::Result;
use crate::exec::privileges;
use crate::exec::schema::list_tables;
use crate::exec::schema::{table_columns, table_indexes};
use crate::pg_types::{format_array, of_declared, quote_ident, TYPES};
use crate::session::Session;
use crate::sqlite::pg_functions::PgObjects;
use crate::value::Value;

/// `pg_catalog`'s namespace oid.
const PG_CATALOG_OID: i64 = 11;
/// `public`'s namespace oid.
const PUBLIC_OID: i64 = 2200;
/// `information_schema`'s namespace oid (PostgreSQL assigns it at initdb; any fixed number will do).
const INFORMATION_SCHEMA_OID: i64 = 13_000;
/// The bootstrap superuser's oid: the tenant's administrator, who owns every object.
const ADMIN_ROLE_OID: i64 = 10;
/// PostgreSQL 15's owner of schema `public`: whoever owns the database.
const DATABASE_OWNER_ROLE: (i64, &str) = (6171, "pg_database_owner");
/// Access methods.
const HEAP_AM: i64 = 2;
const BTREE_AM: i64 = 403;
/// Collations: the database default and "C".
const DEFAULT_COLLATION: i64 = 100;
const C_COLLATION: i64 = 950;
/// The first oid PostgreSQL gives user objects; ours are hashed into [FIRST_USER_OID, 2^31).
const FIRST_USER_OID: i64 = 16_384;

/// A stable oid for a user object: FNV-1a of its kind and names.
fn oid_of(parts: &[&str]) -> i64 {
    let mut h: u32 = 0x811c_9dc5;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0)) {
            h ^= b as u32;
            h = h.wrapping_mul(0x0100_0193);
        }
    }
    FIRST_USER_OID + (h as i64) % ((1i64 << 31) - FIRST_USER_OID)
}

/// The oid of table or view `name` of database `db`, as pg_class lists it.
pub(super) fn table_oid(db: &str, name: &str) -> i64 {
    oid_of(&["table", db, name])
}

fn role_oid(admin: bool, name: &str) -> i64 {
    if admin {
        ADMIN_ROLE_OID
    } else {
        oid_of(&["role", name])
    }
}

fn b(v: bool) -> Value {
    Value::Int(v as i64)
}

fn s(v: &str) -> Value {
    Value::from(v)
}

fn i(v: i64) -> Value {
    Value::Int(v)
}

/// One column of a table, as pg_attribute shows it.
struct Attr {
    name: String,
    type_oid: i64,
    typmod: i64,
    not_null: bool,
    default: Option<String>,
}

/// One index of a table.
struct Index {
    oid: i64,
    name: String,
    unique: bool,
    primary: bool,
    /// Column numbers (1-based).
    keys: Vec<i64>,
    columns: Vec<String>,
}

/// A foreign key of a table.
struct ForeignKey {
    oid: i64,
    name: String,
    /// Column numbers (1-based) of the table, and of the referenced table.
    keys: Vec<i64>,
    ref_keys: Vec<i64>,
    ref_oid: i64,
    /// `pg_get_constraintdef`'s text.
    def: String,
    /// pg_constraint's action codes (`a` no action, `r` restrict, `c` cascade, `n` set null, `d` set default).
    on_update: &'static str,
    on_delete: &'static str,
}

/// A table or view of the current database.
struct Relation {
    oid: i64,
    name: String,
    view: bool,
    attrs: Vec<Attr>,
    indexes: Vec<Index>,
    foreign_keys: Vec<ForeignKey>,
}

/// What the views show, read once per view from the session's current database and the catalog; the
/// oid-keyed names are handed to the functions that look them up (`pg_get_userbyid`, ...).
struct Model {
    relations: Vec<Relation>,
    roles: Vec<(i64, String, bool)>,
    /// The oids of roles that cannot log in (groups).
    nologin: std::collections::HashSet<i64>,
    /// Role memberships as (role oid, member oid).
    memberships: Vec<(i64, i64)>,
}

fn model(session: &Session) -> Result<Model> {
    let mut relations = Vec::new();
    if let Some(db) = session.db.as_deref() {
        if session.conn.is_attached(db) && privileges::has_any(session, db)? {
            for (name, kind) in list_tables(session, db)? {
                session.check_interrupted()?;
                let columns = table_columns(session, db, &name)?;
                let attrs: Vec<Attr> = columns
                    .iter()
                    .map(|c| {
                        let (type_oid, typmod) = of_declared(&c.decl);
                        Attr {
                            name: c.name.clone(),
                            type_oid,
                            typmod,
                            not_null: c.not_null || c.pk > 0,
                            default: c.default.clone(),
                        }
                    })
                    .collect();
                let indexes = table_indexes(session, db, &name)?
                    .into_iter()
                    .map(|ix| {
                        let index_name = if ix.primary {
                            format!("{name}_pkey")
                        } else {
                            ix.name.clone()
                        };
                        Index {
                            oid: oid_of(&["index", db, &name, &index_name]),
                            keys: ix
                                .columns
                                .iter()
                                .map(|c| {
                                    attrs
                                        .iter()
                                        .position(|a| &a.name == c)
                                        .map_or(0, |p| p as i64 + 1)
                                })
                                .collect(),
                            columns: ix.columns,
                            name: index_name,
                            unique: ix.unique,
                            primary: ix.primary,
                        }
                    })
                    .collect();
                let foreign_keys = foreign_keys_of(session, db, &name, &attrs)?;
                relations.push(Relation {
                    oid: table_oid(db, &name),
                    view: kind == "VIEW",
                    name,
                    attrs,
                    indexes,
                    foreign_keys,
                });
            }
        }
    }
    let tenant_id = session.identity.tenant.tenant_id;
    let users = session.engine.catalog().users(tenant_id)?;
    let oid_of_user: std::collections::HashMap<&str, i64> = users
        .iter()
        .map(|u| (u.name.as_str(), role_oid(u.is_admin, &u.name)))
        .collect();
    let nologin = users
        .iter()
        .filter(|u| !u.can_login)
        .map(|u| role_oid(u.is_admin, &u.name))
        .collect();
    let mut memberships = Vec::new();
    for (member, roles) in session.engine.catalog().memberships(tenant_id)? {
        let Some(m) = oid_of_user.get(member.as_str()) else {
            continue;
        };
        for role in roles {
            if let Some(r) = oid_of_user.get(role.as_str()) {
                memberships.push((*r, *m));
            }
        }
    }
    memberships.sort_unstable();
    let mut roles: Vec<(i64, String, bool)> = users
        .iter()
        .map(|u| (role_oid(u.is_admin, &u.name), u.name.clone(), u.is_admin))
        .collect();
    roles.push((
        DATABASE_OWNER_ROLE.0,
        DATABASE_OWNER_ROLE.1.to_string(),
        false,
    ));
    let model = Model {
        relations,
        roles,
        nologin,
        memberships,
    };
    let mut objects = PgObjects::default();
    for (oid, name, _) in &model.roles {
        objects.roles.insert(*oid, name.clone());
    }
    for rel in &model.relations {
        for ix in &rel.indexes {
            objects.index_defs.insert(ix.oid, index_def(rel, ix));
            objects.index_columns.insert(ix.oid, ix.columns.clone());
            if ix.primary || ix.unique {
                objects
                    .constraint_defs
                    .insert(constraint_oid(rel, ix), constraint_def(ix));
            }
        }
        for fk in &rel.foreign_keys {
            objects.constraint_defs.insert(fk.oid, fk.def.clone());
        }
    }
    session.conn.set_pg_objects(objects);
    Ok(model)
}

/// A table's foreign keys, with the referenced table's column numbers.
fn foreign_keys_of(
    session: &Session,
    db: &str,
    table: &str,
    attrs: &[Attr],
) -> Result<Vec<ForeignKey>> {
    let position = |names: &[String], c: &str| {
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(c))
            .map_or(0, |p| p as i64 + 1)
    };
    let own: Vec<String> = attrs.iter().map(|a| a.name.clone()).collect();
    let mut out = Vec::new();
    for fk in crate::exec::schema::foreign_keys(session, db, table)? {
        let referenced_columns = crate::exec::schema::table_columns(session, db, &fk.ref_table)?;
        let mut fk = fk;
        if fk.ref_columns.is_empty() {
            // `REFERENCES t` without columns names t's primary key.
            let mut key: Vec<_> = referenced_columns.iter().filter(|c| c.pk > 0).collect();
            key.sort_by_key(|c| c.pk);
            fk.ref_columns = key.into_iter().map(|c| c.name.clone()).collect();
        }
        let referenced: Vec<String> = referenced_columns.into_iter().map(|c| c.name).collect();
        let list = |cols: &[String]| {
            cols.iter()
                .map(|c| quote_ident(c))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut def = format!(
            "FOREIGN KEY ({}) REFERENCES {}({})",
            list(&fk.columns),
            quote_ident(&fk.ref_table),
            list(&fk.ref_columns)
        );
        // PostgreSQL prints the actions that are not the default, ON UPDATE first.
        for (clause, action) in [("UPDATE", &fk.on_update), ("DELETE", &fk.on_delete)] {
            let action = action
                .as_deref()
                .unwrap_or("NO ACTION")
                .to_ascii_uppercase();
            if action != "NO ACTION" {
                def.push_str(&format!(" ON {clause} {action}"));
            }
        }
        let code = |action: &Option<String>| match action
            .as_deref()
            .unwrap_or("")
            .to_ascii_uppercase()
            .as_str()
        {
            "RESTRICT" => "r",
            "CASCADE" => "c",
            "SET NULL" => "n",
            "SET DEFAULT" => "d",
            _ => "a",
        };
        out.push(ForeignKey {
            oid: oid_of(&["constraint", &table_oid(db, table).to_string(), &fk.name]),
            keys: fk.columns.iter().map(|c| position(&own, c)).collect(),
            ref_keys: fk
                .ref_columns
                .iter()
                .map(|c| position(&referenced, c))
                .collect(),
            ref_oid: table_oid(db, &fk.ref_table),
            on_update: code(&fk.on_update),
            on_delete: code(&fk.on_delete),
            name: fk.name,
            def,
        });
    }
    Ok(out)
}

fn column_list(ix: &Index) -> String {
    ix.columns
        .iter()
        .map(|c| quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `pg_get_indexdef`'s text.
fn index_def(rel: &Relation, ix: &Index) -> String {
    format!(
        "CREATE {}INDEX {} ON public.{} USING btree ({})",
        if ix.unique { "UNIQUE " } else { "" },
        quote_ident(&ix.name),
        quote_ident(&rel.name),
        column_list(ix)
    )
}

/// `pg_get_constraintdef`'s text of a primary key or unique index's constraint.
fn constraint_def(ix: &Index) -> String {
    format!(
        "{} ({})",
        if ix.primary { "PRIMARY KEY" } else { "UNIQUE" },
        column_list(ix)
    )
}

fn constraint_oid(rel: &Relation, ix: &Index) -> i64 {
    oid_of(&["constraint", &rel.oid.to_string(), &ix.name])
}

fn int2vector(keys: &[i64]) -> String {
    keys.iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn int_array(keys: &[i64]) -> String {
    let texts: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    format_array(texts.iter().map(|t| Some(t.as_str())))
}

const OID: &str = "INTEGER";
const NAME: &str = "TEXT";
const BOOL: &str = "BOOLEAN";
const INT: &str = "INTEGER";
const TEXT: &str = "TEXT";

fn empty(_: &Session) -> Result<Vec<Vec<Value>>> {
    Ok(Vec::new())
}

pub(super) static VIEWS: [ViewDef; 30] = [
    ViewDef {
        schema: "pg_catalog",
        name: "pg_namespace",
        columns: &[
            ("oid", OID),
            ("nspname", NAME),
            ("nspowner", OID),
            ("nspacl", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            model(session)?;
            Ok([
                (PG_CATALOG_OID, "pg_catalog"),
                (PUBLIC_OID, "public"),
                (INFORMATION_SCHEMA_OID, "information_schema"),
            ]
            .into_iter()
            .map(|(oid, name)| {
                let owner = if oid == PUBLIC_OID {
                    DATABASE_OWNER_ROLE.0
                } else {
                    ADMIN_ROLE_OID
                };
                vec![i(oid), s(name), i(owner), Value::Null]
            })
            .collect())
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_class",
        columns: &[
            ("oid", OID),
            ("relname", NAME),
            ("relnamespace", OID),
            ("reltype", OID),
            ("reloftype", OID),
            ("relowner", OID),
            ("relam", OID),
            ("relfilenode", OID),
            ("reltablespace", OID),
            ("relpages", INT),
            ("reltuples", "REAL"),
            ("relallvisible", INT),
            ("reltoastrelid", OID),
            ("relhasindex", BOOL),
            ("relisshared", BOOL),
            ("relpersistence", TEXT),
            ("relkind", TEXT),
            ("relnatts", INT),
            ("relchecks", INT),
            ("relhasrules", BOOL),
            ("relhastriggers", BOOL),
            ("relhassubclass", BOOL),
            ("relrowsecurity", BOOL),
            ("relforcerowsecurity", BOOL),
            ("relispopulated", BOOL),
            ("relreplident", TEXT),
            ("relispartition", BOOL),
            ("relrewrite", OID),
            ("relacl", TEXT),
            ("reloptions", TEXT),
            ("relpartbound", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            let m = model(session)?;
            let mut rows = Vec::new();
            let row = |oid: i64, name: &str, kind: &str, am: i64, natts: usize, has_index: bool| {
                vec![
                    i(oid),
                    s(name),
                    i(PUBLIC_OID),
                    i(0),
                    i(0),
                    i(ADMIN_ROLE_OID),
                    i(am),
                    i(0),
                    i(0),
                    i(0),
                    Value::Float(-1.0),
                    i(0),
                    i(0),
                    b(has_index),
                    b(false),
                    s("p"),
                    s(kind),
                    i(natts as i64),
                    i(0),
                    b(false),
                    b(false),
                    b(false),
                    b(false),
                    b(false),
                    b(true),
                    s(if kind == "i" { "n" } else { "d" }),
                    b(false),
                    i(0),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ]
            };
            for rel in &m.relations {
                let (kind, am) = if rel.view { ("v", 0) } else { ("r", HEAP_AM) };
                rows.push(row(
                    rel.oid,
                    &rel.name,
                    kind,
                    am,
                    rel.attrs.len(),
                    !rel.indexes.is_empty(),
                ));
                for ix in &rel.indexes {
                    rows.push(row(ix.oid, &ix.name, "i", BTREE_AM, ix.keys.len(), false));
                }
            }
            Ok(rows)
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_attribute",
        columns: &[
            ("attrelid", OID),
            ("attname", NAME),
            ("atttypid", OID),
            ("attstattarget", INT),
            ("attlen", INT),
            ("attnum", INT),
            ("attndims", INT),
            ("attcacheoff", INT),
            ("atttypmod", INT),
            ("attbyval", BOOL),
            ("attalign", TEXT),
            ("attstorage", TEXT),
            ("attcompression", TEXT),
            ("attnotnull", BOOL),
            ("atthasdef", BOOL),
            ("atthasmissing", BOOL),
            ("attidentity", TEXT),
            ("attgenerated", TEXT),
            ("attisdropped", BOOL),
            ("attislocal", BOOL),
            ("attinhcount", INT),
            ("attcollation", OID),
            ("attacl", TEXT),
            ("attoptions", TEXT),
            ("attfdwoptions", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            let m = model(session)?;
            let mut rows = Vec::new();
            let row = |rel: i64, n: usize, a: &Attr| {
                let ty = TYPES.iter().find(|t| t.oid == a.type_oid);
                vec![
                    i(rel),
                    s(&a.name),
                    i(a.type_oid),
                    i(-1),
                    i(ty.map_or(-1, |t| t.len)),
                    i(n as i64 + 1),
                    i(0),
                    i(-1),
                    i(a.typmod),
                    b(ty.is_some_and(|t| (1..=8).contains(&t.len))),
                    s("i"),
                    s("p"),
                    s(""),
                    b(a.not_null),
                    b(a.default.is_some()),
                    b(false),
                    s(""),
                    s(""),
                    b(false),
                    b(true),
                    i(0),
                    i(collation_of(a.type_oid)),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ]
            };
            for rel in &m.relations {
                for (n, a) in rel.attrs.iter().enumerate() {
                    rows.push(row(rel.oid, n, a));
                }
                for ix in &rel.indexes {
                    for (n, col) in ix.columns.iter().enumerate() {
                        if let Some(a) = rel.attrs.iter().find(|a| &a.name == col) {
                            let mut r = row(ix.oid, n, a);
                            r[13] = b(false);
                            r[14] = b(false);
                            rows.push(r);
                        }
                    }
                }
            }
            Ok(rows)
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_attrdef",
        columns: &[
            ("oid", OID),
            ("adrelid", OID),
            ("adnum", INT),
            ("adbin", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            let m = model(session)?;
            let mut rows = Vec::new();
            for rel in &m.relations {
                for (n, a) in rel.attrs.iter().enumerate() {
                    if let Some(d) = &a.default {
                        rows.push(vec![
                            i(oid_of(&["attrdef", &rel.oid.to_string(), &a.name])),
                            i(rel.oid),
                            i(n as i64 + 1),
                            s(d),
                        ]);
                    }
                }
            }
            Ok(rows)
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_index",
        columns: &[
            ("indexrelid", OID),
            ("indrelid", OID),
            ("indnatts", INT),
            ("indnkeyatts", INT),
            ("indisunique", BOOL),
            ("indnullsnotdistinct", BOOL),
            ("indisprimary", BOOL),
            ("indisexclusion", BOOL),
            ("indimmediate", BOOL),
            ("indisclustered", BOOL),
            ("indisvalid", BOOL),
            ("indcheckxmin", BOOL),
            ("indisready", BOOL),
            ("indislive", BOOL),
            ("indisreplident", BOOL),
            ("indkey", TEXT),
            ("indcollation", TEXT),
            ("indclass", TEXT),
            ("indoption", TEXT),
            ("indexprs", TEXT),
            ("indpred", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            let m = model(session)?;
            let mut rows = Vec::new();
            for rel in &m.relations {
                for ix in &rel.indexes {
                    let n = ix.keys.len() as i64;
                    let zeros = vec![0; ix.keys.len()];
                    rows.push(vec![
                        i(ix.oid),
                        i(rel.oid),
                        i(n),
                        i(n),
                        b(ix.unique),
                        b(false),
                        b(ix.primary),
                        b(false),
                        b(true),
                        b(false),
                        b(true),
                        b(false),
                        b(true),
                        b(true),
                        b(false),
                        s(&int2vector(&ix.keys)),
                        s(&int2vector(&zeros)),
                        s(&int2vector(&zeros)),
                        s(&int2vector(&zeros)),
                        Value::Null,
                        Value::Null,
                    ]);
                }
            }
            Ok(rows)
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_constraint",
        columns: &[
            ("oid", OID),
            ("conname", NAME),
            ("connamespace", OID),
            ("contype", TEXT),
            ("condeferrable", BOOL),
            ("condeferred", BOOL),
            ("convalidated", BOOL),
            ("conrelid", OID),
            ("contypid", OID),
            ("conindid", OID),
            ("conparentid", OID),
            ("confrelid", OID),
            ("confupdtype", TEXT),
            ("confdeltype", TEXT),
            ("confmatchtype", TEXT),
            ("conislocal", BOOL),
            ("coninhcount", INT),
            ("connoinherit", BOOL),
            ("conkey", TEXT),
            ("confkey", TEXT),
            ("conbin", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            let m = model(session)?;
            let mut rows = Vec::new();
            for rel in &m.relations {
                for ix in rel.indexes.iter().filter(|ix| ix.primary || ix.unique) {
                    rows.push(vec![
                        i(constraint_oid(rel, ix)),
                        s(&ix.name),
                        i(PUBLIC_OID),
                        s(if ix.primary { "p" } else { "u" }),
                        b(false),
                        b(false),
                        b(true),
                        i(rel.oid),
                        i(0),
                        i(ix.oid),
                        i(0),
                        i(0),
                        s(" "),
                        s(" "),
                        s(" "),
                        b(true),
                        i(0),
                        b(true),
                        s(&int_array(&ix.keys)),
                        Value::Null,
                        Value::Null,
                    ]);
                }
                for fk in &rel.foreign_keys {
                    rows.push(vec![
                        i(fk.oid),
                        s(&fk.name),
                        i(PUBLIC_OID),
                        s("f"),
                        b(false),
                        b(false),
                        b(true),
                        i(rel.oid),
                        i(0),
                        i(0),
                        i(0),
                        i(fk.ref_oid),
                        s(fk.on_update),
                        s(fk.on_delete),
                        s("s"),
                        b(true),
                        i(0),
                        b(true),
                        s(&int_array(&fk.keys)),
                        s(&int_array(&fk.ref_keys)),
                        Value::Null,
                    ]);
                }
            }
            Ok(rows)
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_type",
        columns: &[
            ("oid", OID),
            ("typname", NAME),
            ("typnamespace", OID),
            ("typowner", OID),
            ("typlen", INT),
            ("typbyval", BOOL),
            ("typtype", TEXT),
            ("typcategory", TEXT),
            ("typispreferred", BOOL),
            ("typisdefined", BOOL),
            ("typdelim", TEXT),
            ("typrelid", OID),
            ("typsubscript", TEXT),
            ("typelem", OID),
            ("typarray", OID),
            ("typinput", TEXT),
            ("typoutput", TEXT),
            ("typreceive", TEXT),
            ("typsend", TEXT),
            ("typalign", TEXT),
            ("typstorage", TEXT),
            ("typnotnull", BOOL),
            ("typbasetype", OID),
            ("typtypmod", INT),
            ("typndims", INT),
            ("typcollation", OID),
            ("typdefault", TEXT),
            ("typacl", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |_| {
            let mut rows = Vec::new();
            for t in TYPES {
                let row =
                    |oid: i64, name: String, len: i64, category: &str, elem: i64, array: i64| {
                        vec![
                            i(oid),
                            Value::Text(name.clone()),
                            i(PG_CATALOG_OID),
                            i(ADMIN_ROLE_OID),
                            i(len),
                            b((1..=8).contains(&len)),
                            s("b"),
                            s(category),
                            b(false),
                            b(true),
                            s(","),
                            i(0),
                            s(if elem != 0 {
                                "array_subscript_handler"
                            } else {
                                "-"
                            }),
                            i(elem),
                            i(array),
                            Value::Text(format!("{}in", name.trim_start_matches('_'))),
                            Value::Text(format!("{}out", name.trim_start_matches('_'))),
                            Value::Text(format!("{}recv", name.trim_start_matches('_'))),
                            Value::Text(format!("{}send", name.trim_start_matches('_'))),
                            s("i"),
                            s(if len == -1 { "x" } else { "p" }),
                            b(false),
                            i(0),
                            i(-1),
                            i(0),
                            i(if elem != 0 {
                                collation_of(elem)
                            } else {
                                collation_of(oid)
                            }),
                            Value::Null,
                            Value::Null,
                        ]
                    };
                rows.push(row(
                    t.oid,
                    t.name.to_string(),
                    t.len,
                    t.category,
                    0,
                    t.array,
                ));
                rows.push(row(t.array, format!("_{}", t.name), -1, "A", t.oid, 0));
            }
            Ok(rows)
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_am",
        columns: &[
            ("oid", OID),
            ("amname", NAME),
            ("amhandler", TEXT),
            ("amtype", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |_| {
            Ok(vec![
                vec![i(HEAP_AM), s("heap"), s("heap_tableam_handler"), s("t")],
                vec![i(BTREE_AM), s("btree"), s("bthandler"), s("i")],
            ])
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_collation",
        columns: &[
            ("oid", OID),
            ("collname", NAME),
            ("collnamespace", OID),
            ("collowner", OID),
            ("collprovider", TEXT),
            ("collisdeterministic", BOOL),
            ("collencoding", INT),
            ("collcollate", TEXT),
            ("collctype", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |_| {
            Ok([
                (DEFAULT_COLLATION, "default", "d", Value::Null),
                (C_COLLATION, "C", "c", s("C")),
            ]
            .into_iter()
            .map(|(oid, name, provider, collate)| {
                vec![
                    i(oid),
                    s(name),
                    i(PG_CATALOG_OID),
                    i(ADMIN_ROLE_OID),
                    s(provider),
                    b(true),
                    i(-1),
                    collate.clone(),
                    collate,
                ]
            })
            .collect())
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_database",
        columns: &[
            ("oid", OID),
            ("datname", NAME),
            ("datdba", OID),
            ("encoding", INT),
            ("datlocprovider", TEXT),
            ("datistemplate", BOOL),
            ("datallowconn", BOOL),
            ("datconnlimit", INT),
            ("dattablespace", OID),
            ("datcollate", TEXT),
            ("datctype", TEXT),
            ("daticulocale", TEXT),
            ("datcollversion", TEXT),
            ("datacl", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            model(session)?;
            let mut rows = Vec::new();
            for d in session
                .engine
                .catalog()
                .databases(session.identity.tenant.tenant_id)?
            {
                if !privileges::has_any(session, &d.name)? {
                    continue;
                }
                rows.push(vec![
                    i(d.database_id),
                    Value::Text(d.name),
                    i(ADMIN_ROLE_OID),
                    i(6),
                    s("c"),
                    b(false),
                    b(true),
                    i(-1),
                    i(1663),
                    s("C.UTF-8"),
                    s("C.UTF-8"),
                    Value::Null,
                    Value::Null,
                    Value::Null,
                ]);
            }
            Ok(rows)
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_roles",
        columns: &[
            ("oid", OID),
            ("rolname", NAME),
            ("rolsuper", BOOL),
            ("rolinherit", BOOL),
            ("rolcreaterole", BOOL),
            ("rolcreatedb", BOOL),
            ("rolcanlogin", BOOL),
            ("rolreplication", BOOL),
            ("rolconnlimit", INT),
            ("rolpassword", TEXT),
            ("rolvaliduntil", "TIMESTAMPTZ"),
            ("rolbypassrls", BOOL),
            ("rolconfig", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            let m = model(session)?;
            Ok(m.roles
                .into_iter()
                .map(|(oid, name, admin)| {
                    vec![
                        i(oid),
                        Value::Text(name),
                        b(admin),
                        b(true),
                        b(admin),
                        b(admin),
                        b(oid != DATABASE_OWNER_ROLE.0 && !m.nologin.contains(&oid)),
                        b(false),
                        i(-1),
                        s("********"),
                        Value::Null,
                        b(admin),
                        Value::Null,
                    ]
                })
                .collect())
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_user",
        columns: &[
            ("usename", NAME),
            ("usesysid", OID),
            ("usecreatedb", BOOL),
            ("usesuper", BOOL),
            ("userepl", BOOL),
            ("usebypassrls", BOOL),
            ("passwd", TEXT),
            ("valuntil", "TIMESTAMPTZ"),
            ("useconfig", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            Ok(model(session)?
                .roles
                .into_iter()
                .filter(|(oid, _, _)| *oid != DATABASE_OWNER_ROLE.0)
                .map(|(oid, name, admin)| {
                    vec![
                        Value::Text(name),
                        i(oid),
                        b(admin),
                        b(admin),
                        b(false),
                        b(admin),
                        s("********"),
                        Value::Null,
                        Value::Null,
                    ]
                })
                .collect())
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_tables",
        columns: &[
            ("schemaname", NAME),
            ("tablename", NAME),
            ("tableowner", NAME),
            ("tablespace", NAME),
            ("hasindexes", BOOL),
            ("hasrules", BOOL),
            ("hastriggers", BOOL),
            ("rowsecurity", BOOL),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            let m = model(session)?;
            let owner = admin_name(&m);
            Ok(m.relations
                .iter()
                .filter(|r| !r.view)
                .map(|r| {
                    vec![
                        s("public"),
                        s(&r.name),
                        owner.clone(),
                        Value::Null,
                        b(!r.indexes.is_empty()),
                        b(false),
                        b(false),
                        b(false),
                    ]
                })
                .collect())
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_views",
        columns: &[
            ("schemaname", NAME),
            ("viewname", NAME),
            ("viewowner", NAME),
            ("definition", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            let m = model(session)?;
            let owner = admin_name(&m);
            Ok(m.relations
                .iter()
                .filter(|r| r.view)
                .map(|r| vec![s("public"), s(&r.name), owner.clone(), Value::Null])
                .collect())
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_indexes",
        columns: &[
            ("schemaname", NAME),
            ("tablename", NAME),
            ("indexname", NAME),
            ("tablespace", NAME),
            ("indexdef", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            let m = model(session)?;
            let mut rows = Vec::new();
            for rel in &m.relations {
                for ix in &rel.indexes {
                    rows.push(vec![
                        s("public"),
                        s(&rel.name),
                        s(&ix.name),
                        Value::Null,
                        Value::Text(index_def(rel, ix)),
                    ]);
                }
            }
            Ok(rows)
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_settings",
        columns: &[
            ("name", TEXT),
            ("setting", TEXT),
            ("unit", TEXT),
            ("category", TEXT),
            ("short_desc", TEXT),
            ("context", TEXT),
            ("vartype", TEXT),
            ("source", TEXT),
            ("boot_val", TEXT),
            ("reset_val", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            Ok(crate::exec::variables::pg_settings(session)
                .into_iter()
                .map(|(name, value)| {
                    vec![
                        Value::Text(name),
                        Value::Text(value),
                        Value::Null,
                        s("Client Connection Defaults"),
                        s(""),
                        s("user"),
                        s("string"),
                        s("session"),
                        Value::Null,
                        Value::Null,
                    ]
                })
                .collect())
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_tablespace",
        columns: &[
            ("oid", OID),
            ("spcname", NAME),
            ("spcowner", OID),
            ("spcacl", TEXT),
            ("spcoptions", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        // PostgreSQL's two built-in tablespaces (every table is in pg_default, reltablespace 0).
        rows: |_| {
            Ok(vec![
                vec![i(1663), s("pg_default"), i(10), Value::Null, Value::Null],
                vec![i(1664), s("pg_global"), i(10), Value::Null, Value::Null],
            ])
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_opclass",
        columns: &[
            ("oid", OID),
            ("opcmethod", OID),
            ("opcname", NAME),
            ("opcnamespace", OID),
            ("opcowner", OID),
            ("opcfamily", OID),
            ("opcintype", OID),
            ("opcdefault", BOOL),
            ("opckeytype", OID),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        // Every index key uses its type's default operator class, which is what clients (SQLAlchemy's
        // index reflection) look here to tell apart: there is none to list.
        rows: empty,
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_cursors",
        columns: &[
            ("name", TEXT),
            ("statement", TEXT),
            ("is_holdable", BOOL),
            ("is_binary", BOOL),
            ("is_scrollable", BOOL),
            ("creation_time", "TIMESTAMP"),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        // The session's own cursors only, as in PostgreSQL.
        rows: |session| Ok(session.cursors.pg_cursors_rows()),
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_description",
        columns: &[
            ("objoid", OID),
            ("classoid", OID),
            ("objsubid", INT),
            ("description", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: empty,
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_auth_members",
        columns: &[
            ("roleid", OID),
            ("member", OID),
            ("grantor", OID),
            ("admin_option", BOOL),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: |session| {
            Ok(model(session)?
                .memberships
                .into_iter()
                .map(|(role, member)| vec![i(role), i(member), i(10), b(false)])
                .collect())
        },
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_policy",
        columns: &[
            ("oid", OID),
            ("polname", NAME),
            ("polrelid", OID),
            ("polcmd", TEXT),
            ("polpermissive", BOOL),
            ("polroles", TEXT),
            ("polqual", TEXT),
            ("polwithcheck", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: empty,
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_statistic_ext",
        columns: &[
            ("oid", OID),
            ("stxrelid", OID),
            ("stxname", NAME),
            ("stxnamespace", OID),
            ("stxowner", OID),
            ("stxstattarget", INT),
            ("stxkeys", TEXT),
            ("stxkind", TEXT),
            ("stxexprs", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: empty,
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_publication",
        columns: &[
            ("oid", OID),
            ("pubname", NAME),
            ("pubowner", OID),
            ("puballtables", BOOL),
            ("pubinsert", BOOL),
            ("pubupdate", BOOL),
            ("pubdelete", BOOL),
            ("pubtruncate", BOOL),
            ("pubviaroot", BOOL),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: empty,
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_publication_namespace",
        columns: &[("oid", OID), ("pnpubid", OID), ("pnnspid", OID)],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: empty,
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_publication_rel",
        columns: &[
            ("oid", OID),
            ("prpubid", OID),
            ("prrelid", OID),
            ("prqual", TEXT),
            ("prattrs", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: empty,
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_inherits",
        columns: &[
            ("inhrelid", OID),
            ("inhparent", OID),
            ("inhseqno", INT),
            ("inhdetachpending", BOOL),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: empty,
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_sequence",
        columns: &[
            ("seqrelid", OID),
            ("seqtypid", OID),
            ("seqstart", "BIGINT"),
            ("seqincrement", "BIGINT"),
            ("seqmax", "BIGINT"),
            ("seqmin", "BIGINT"),
            ("seqcache", "BIGINT"),
            ("seqcycle", BOOL),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: empty,
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_trigger",
        columns: &[
            ("oid", OID),
            ("tgrelid", OID),
            ("tgname", NAME),
            ("tgenabled", TEXT),
            ("tgisinternal", BOOL),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: empty,
    },
    ViewDef {
        schema: "pg_catalog",
        name: "pg_extension",
        columns: &[
            ("oid", OID),
            ("extname", NAME),
            ("extowner", OID),
            ("extnamespace", OID),
            ("extversion", TEXT),
        ],
        visibility: Visibility::AllTenants,
        narrowed: None,
        rows: empty,
    },
];

fn admin_name(m: &Model) -> Value {
    m.roles
        .iter()
        .find(|(_, _, admin)| *admin)
        .map_or(Value::Null, |(_, n, _)| Value::from(n.as_str()))
}

/// A column's collation: the default for text types, none for the rest (so `\d` shows no collation).
fn collation_of(type_oid: i64) -> i64 {
    match type_oid {
        25 | 1042 | 1043 | 19 => DEFAULT_COLLATION,
        _ => 0,
    }
}
