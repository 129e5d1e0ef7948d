//! SHOW statements' LIKE and WHERE filters.

use crate::error::Result;
use crate::parser::ShowFilter;
use crate::session::Session;
use crate::sqlite::results::{collect, to_sql};
use crate::translate::quote;
use crate::value::{ResultSet, Value};

/// Applies a filter to a SHOW result: LIKE matches the first column; WHERE is evaluated by SQLite.
pub fn apply(session: &Session, mut rs: ResultSet, filter: &ShowFilter) -> Result<ResultSet> {
    match filter {
        ShowFilter::None => Ok(rs),
        ShowFilter::Like(pattern) => {
            rs.rows.retain(|row| {
                row.first()
                    .and_then(Value::to_text)
                    .is_some_and(|t| like(pattern, &t))
            });
            Ok(rs)
        }
        ShowFilter::Where(expr) => where_filter(session, rs, expr),
    }
}

fn where_filter(session: &Session, rs: ResultSet, expr: &str) -> Result<ResultSet> {
    let conn = session.conn.conn();
    let cols: Vec<String> = rs.columns.iter().map(|c| quote(&c.name)).collect();
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS temp.show_result; CREATE TEMP TABLE show_result ({})",
        cols.join(", ")
    ))?;
    let result = (|| {
        {
            let placeholders = vec!["?"; cols.len()].join(", ");
            let mut insert = conn.prepare(&format!(
                "INSERT INTO temp.show_result VALUES ({placeholders})"
            ))?;
            for row in &rs.rows {
                insert.execute(rusqlite::params_from_iter(row.iter().map(to_sql)))?;
            }
        }
        let mut stmt = conn.prepare(&format!("SELECT * FROM temp.show_result WHERE {expr}"))?;
        let mut filtered = collect(&mut stmt, &[], None)?;
        // Keep the original column types: the temp table has none declared.
        filtered.columns = rs.columns.clone();
        Ok(filtered)
    })();
    conn.execute_batch("DROP TABLE IF EXISTS temp.show_result")?;
    result
}

/// MySQL's LIKE: `%` any run, `_` one character, `\` escapes; case-insensitive.
pub fn like(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    like_at(&p, &t)
}

fn like_at(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('%') => (0..=t.len()).any(|i| like_at(&p[1..], &t[i..])),
        Some('_') => !t.is_empty() && like_at(&p[1..], &t[1..]),
        Some('\\') if p.len() > 1 => t.first() == Some(&p[1]) && like_at(&p[2..], &t[1..]),
        Some(c) => t.first() == Some(c) && like_at(&p[1..], &t[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::like;

    #[test]
    fn like_patterns() {
        assert!(like("bulk%", "bulk_io_max_rate"));
        assert!(like("%IO%", "bulk_io_max_rate"));
        assert!(like("a_c", "abc"));
        assert!(!like("a_c", "abbc"));
        assert!(like("a\\_c", "a_c"));
        assert!(!like("a\\_c", "abc"));
    }
}
