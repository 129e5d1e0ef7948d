//! PostgreSQL's view of our columns: the built-in types `pg_catalog` lists, which one a declared column type
//! is (with its type modifier), `format_type`'s spelling, and PostgreSQL's array text (`{a,b}`), which is how
//! arrays are kept in SQLite (it has none).

/// One built-in type: oid, name, length (-1 varying), category (pg_type.typcategory), its array type's oid.
pub struct PgType {
    /// Its oid (fixed in PostgreSQL; drivers compare them).
    pub oid: i64,
    /// `typname`.
    pub name: &'static str,
    /// `typlen`.
    pub len: i64,
    /// `typcategory`.
    pub category: &'static str,
    /// The oid of its array type (0 for none).
    pub array: i64,
}

/// The types our columns and results can have, with PostgreSQL's own oids.
pub const TYPES: &[PgType] = &[
    t(16, "bool", 1, "B", 1000),
    t(17, "bytea", -1, "U", 1001),
    t(18, "char", 1, "Z", 1002),
    t(19, "name", 64, "S", 1003),
    t(20, "int8", 8, "N", 1016),
    t(21, "int2", 2, "N", 1005),
    t(23, "int4", 4, "N", 1007),
    t(25, "text", -1, "S", 1009),
    t(26, "oid", 4, "N", 1028),
    t(114, "json", -1, "U", 199),
    t(700, "float4", 4, "N", 1021),
    t(701, "float8", 8, "N", 1022),
    t(1042, "bpchar", -1, "S", 1014),
    t(1043, "varchar", -1, "S", 1015),
    t(1082, "date", 4, "D", 1182),
    t(1083, "time", 8, "D", 1183),
    t(1114, "timestamp", 8, "D", 1115),
    t(1184, "timestamptz", 8, "D", 1185),
    t(1186, "interval", 16, "T", 1187),
    t(1700, "numeric", -1, "N", 1231),
    t(2950, "uuid", 16, "U", 2951),
    t(3802, "jsonb", -1, "U", 3807),
];

const fn t(oid: i64, name: &'static str, len: i64, category: &'static str, array: i64) -> PgType {
    PgType {
        oid,
        name,
        len,
        category,
        array,
    }
}

/// The type oid and type modifier (-1 for none) of a declared column type, as PostgreSQL would have
/// stored the column (MySQL's names map to their PostgreSQL equivalents: DATETIME is timestamptz, as
/// the wire sends it).
pub fn of_declared(decl: &str) -> (i64, i64) {
    let upper = decl.trim().to_ascii_uppercase();
    let (base, args) = match upper.split_once('(') {
        Some((b, rest)) => (
            b.trim().to_string(),
            rest.split(')')
                .next()
                .unwrap_or("")
                .split(',')
                .filter_map(|n| n.trim().parse::<i64>().ok())
                .collect::<Vec<_>>(),
        ),
        None => (upper.clone(), Vec::new()),
    };
    let base = base.trim_end_matches(" UNSIGNED").trim();
    let varlen = |oid| (oid, args.first().map_or(-1, |n| n + 4));
    match base {
        "SMALLINT" | "INT2" | "TINYINT" | "SMALLSERIAL" => (21, -1),
        "INT" | "INTEGER" | "INT4" | "MEDIUMINT" | "SERIAL" => (23, -1),
        "BIGINT" | "INT8" | "BIGSERIAL" | "SERIAL8" => (20, -1),
        "BOOL" | "BOOLEAN" => (16, -1),
        "REAL" | "FLOAT4" => (700, -1),
        "DOUBLE" | "DOUBLE PRECISION" | "FLOAT" | "FLOAT8" => (701, -1),
        "NUMERIC" | "DECIMAL" => match args.as_slice() {
            [p] => (1700, (p << 16) + 4),
            [p, s, ..] => (1700, ((p << 16) | s) + 4),
            _ => (1700, -1),
        },
        "VARCHAR" | "CHARACTER VARYING" | "NVARCHAR" => varlen(1043),
        "CHAR" | "CHARACTER" | "BPCHAR" | "NCHAR" => varlen(1042),
        "BYTEA" | "BLOB" | "BINARY" | "VARBINARY" | "LONGBLOB" | "MEDIUMBLOB" | "TINYBLOB" => {
            (17, -1)
        }
        "DATE" => (1082, -1),
        "TIME" | "TIME WITHOUT TIME ZONE" => (1083, -1),
        "TIMESTAMP" | "TIMESTAMP WITHOUT TIME ZONE" => (1114, -1),
        "TIMESTAMPTZ" | "TIMESTAMP WITH TIME ZONE" | "DATETIME" => (1184, -1),
        "INTERVAL" => (1186, -1),
        "UUID" => (2950, -1),
        "JSON" => (114, -1),
        "JSONB" => (3802, -1),
        _ if base.contains("INT") => (20, -1),
        _ => (25, -1),
    }
}

/// `to_regtype(name)`: the oid of the built-in type a name spells (`int4`, `integer`, `pg_catalog.text`),
/// `None` for a type we do not have (psycopg asks for `hstore` at connect).
pub fn regtype(name: &str) -> Option<i64> {
    let name = name.trim();
    let name = name
        .get(..11)
        .filter(|p| p.eq_ignore_ascii_case("pg_catalog."))
        .map_or(name, |_| &name[11..])
        .to_ascii_lowercase();
    if let Some(t) = TYPES.iter().find(|t| t.name == name) {
        return Some(t.oid);
    }
    // A name of_declared knows maps to something other than its text fallback, or is a text type itself.
    let (oid, _) = of_declared(&name);
    let text_names = [
        "text",
        "varchar",
        "character varying",
        "char",
        "character",
        "bpchar",
    ];
    (oid != 25 || text_names.contains(&name.as_str())).then_some(oid)
}

/// `format_type(oid, typmod)`: the SQL spelling of a type, as psql's `\d` prints it.
pub fn format_type(oid: i64, typmod: Option<i64>) -> Option<String> {
    let m = typmod.filter(|m| *m >= 4).map(|m| m - 4);
    Some(match oid {
        16 => "boolean".into(),
        17 => "bytea".into(),
        18 => "\"char\"".into(),
        19 => "name".into(),
        20 => "bigint".into(),
        21 => "smallint".into(),
        23 => "integer".into(),
        25 => "text".into(),
        26 => "oid".into(),
        114 => "json".into(),
        700 => "real".into(),
        701 => "double precision".into(),
        1042 => m.map_or("bpchar".into(), |n| format!("character({n})")),
        1043 => m.map_or("character varying".into(), |n| {
            format!("character varying({n})")
        }),
        1082 => "date".into(),
        1083 => "time without time zone".into(),
        1114 => "timestamp without time zone".into(),
        1184 => "timestamp with time zone".into(),
        1186 => "interval".into(),
        1700 => m.map_or("numeric".into(), |m| {
            format!("numeric({},{})", m >> 16, m & 0xffff)
        }),
        2950 => "uuid".into(),
        3802 => "jsonb".into(),
        _ => match TYPES.iter().find(|t| t.array == oid) {
            Some(t) => format!("{}[]", format_type(t.oid, None)?),
            None => "???".into(),
        },
    })
}

/// `quote_ident`: a name as PostgreSQL writes it in SQL, quoted unless it is a plain lower-case word.
pub fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// The elements of a PostgreSQL array in text form, or of an `int2vector` / `oidvector` (pg_index's `indkey`:
/// numbers separated by spaces, as PostgreSQL prints them); `None` if it is neither.
pub fn parse_array_or_vector(text: &str) -> Option<Vec<Option<String>>> {
    let is_vector = text
        .chars()
        .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
    if is_vector {
        return Some(
            text.split_whitespace()
                .map(|n| Some(n.to_string()))
                .collect(),
        );
    }
    parse_array(text)
}

/// The elements of a PostgreSQL array in text form (`{a,"b c",NULL}`); `None` if it is not one.
pub fn parse_array(text: &str) -> Option<Vec<Option<String>>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    let mut out = Vec::new();
    if inner.trim().is_empty() {
        return Some(out);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut s = String::new();
            loop {
                match chars.next()? {
                    '\\' => s.push(chars.next()?),
                    '"' => break,
                    c => s.push(c),
                }
            }
            out.push(Some(s));
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            let mut s = String::new();
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                s.push(c);
                chars.next();
            }
            let s = s.trim().to_string();
            out.push(if s.eq_ignore_ascii_case("NULL") {
                None
            } else {
                Some(s)
            });
        }
        match chars.next() {
            Some(',') => continue,
            None => return Some(out),
            Some(_) => return None,
        }
    }
}

/// PostgreSQL's text form of an array of these elements.
pub fn format_array<'a>(items: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let parts: Vec<String> = items
        .into_iter()
        .map(|item| match item {
            None => "NULL".to_string(),
            Some(s)
                if s.is_empty()
                    || s.eq_ignore_ascii_case("NULL")
                    || s.chars()
                        .any(|c| c.is_whitespace() || "{},\"\\".contains(c)) =>
            {
                format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
            }
            Some(s) => s.to_string(),
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_resolve_to_their_oids() {
        assert_eq!(regtype("int4"), Some(23));
        assert_eq!(regtype("integer"), Some(23));
        assert_eq!(regtype("pg_catalog.TEXT"), Some(25));
        assert_eq!(regtype("double precision"), Some(701));
        assert_eq!(regtype("hstore"), None);
        assert_eq!(regtype("é"), None);
    }

    #[test]
    fn declared_types_map_to_postgres_types() {
        assert_eq!(of_declared("INTEGER"), (23, -1));
        assert_eq!(of_declared("varchar(64)"), (1043, 68));
        assert_eq!(of_declared("NUMERIC(10,2)"), (1700, (10 << 16 | 2) + 4));
        assert_eq!(
            format_type(1043, Some(68)).as_deref(),
            Some("character varying(64)")
        );
        assert_eq!(
            format_type(1700, Some((10 << 16 | 2) + 4)).as_deref(),
            Some("numeric(10,2)")
        );
        assert_eq!(format_type(1007, None).as_deref(), Some("integer[]"));
    }

    #[test]
    fn arrays_round_trip() {
        let items = [Some("a"), Some("b c"), None, Some("x\"y"), Some("")];
        let text = format_array(items);
        assert_eq!(text, r#"{a,"b c",NULL,"x\"y",""}"#);
        let parsed = parse_array(&text).unwrap();
        assert_eq!(parsed, items.map(|i| i.map(str::to_string)).to_vec());
        assert_eq!(parse_array("{}"), Some(Vec::new()));
        let vector = parse_array_or_vector("1 3 2").unwrap();
        assert_eq!(
            vector,
            [Some("1".into()), Some("3".into()), Some("2".into())]
        );
        assert_eq!(parse_array_or_vector(""), Some(Vec::new()));
        assert_eq!(parse_array_or_vector("{a}"), Some(vec![Some("a".into())]));
        assert_eq!(parse_array("nope"), None);
    }
}
