//! What a statement's WHERE requires of a system view it reads: `[SHOW JOBS] WHERE job_type = 'BACKUP'` needs
//! only the view's BACKUP rows, so the view can be filled with those instead of every row (`views::materialize`).
//! SQLite still applies the whole WHERE to what was filled, so a view may fill more rows than the equalities
//! allow, never fewer: only what certainly holds for every row the statement reads from the view is kept —
//! `column = 'text'` or `column = integer` conjuncts of the WHERE of the one SELECT whose only table is the
//! view, and only for a view the statement names once.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use sqlparser::ast::{
    BinaryOperator, Expr, ObjectNamePart, Query, Select, SetExpr, Statement, TableFactor,
    Value as AstValue, Visit, Visitor,
};

use crate::value::Value;

/// A view's column (lower case) and the literal the statement requires it to equal.
pub type Equality = (String, Value);

/// The equalities on each system view (schema, view) of `views` that the statement reads exactly once
/// (`relations` has one entry per name the statement uses).
pub fn equalities(
    stmt: &Statement,
    relations: &[(String, String)],
    views: &BTreeSet<(String, String)>,
) -> BTreeMap<(String, String), Vec<Equality>> {
    let once: Vec<&(String, String)> = views
        .iter()
        .filter(|v| relations.iter().filter(|r| r == v).count() == 1)
        .collect();
    if once.is_empty() {
        return BTreeMap::new();
    }
    let mut finder = Finder {
        views: once,
        found: BTreeMap::new(),
    };
    let _ = stmt.visit(&mut finder);
    finder.found
}

struct Finder<'a> {
    views: Vec<&'a (String, String)>,
    found: BTreeMap<(String, String), Vec<Equality>>,
}

impl Visitor for Finder<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.set_expr(&query.body);
        ControlFlow::Continue(())
    }
}

impl Finder<'_> {
    /// The SELECTs of a query body, through its set operations (nested queries are visited on their own).
    fn set_expr(&mut self, body: &SetExpr) {
        match body {
            SetExpr::Select(select) => self.select(select),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left);
                self.set_expr(right);
            }
            _ => {}
        }
    }

    fn select(&mut self, select: &Select) {
        let [from] = select.from.as_slice() else {
            return;
        };
        if !from.joins.is_empty() {
            return;
        }
        let TableFactor::Table {
            name, alias, args, ..
        } = &from.relation
        else {
            return;
        };
        if args.is_some() {
            return;
        }
        let parts: Vec<&str> = name
            .0
            .iter()
            .filter_map(|p| match p {
                ObjectNamePart::Identifier(i) => Some(i.value.as_str()),
                ObjectNamePart::Function(_) => None,
            })
            .collect();
        let [schema, table] = parts.as_slice() else {
            return;
        };
        let Some(view) = self
            .views
            .iter()
            .find(|(s, t)| s.eq_ignore_ascii_case(schema) && t.eq_ignore_ascii_case(table))
        else {
            return;
        };
        // A column may be written bare or qualified by the alias (or, without one, the view's name).
        let qualifier = alias
            .as_ref()
            .map_or(*table, |a| a.name.value.as_str())
            .to_string();
        let mut out = Vec::new();
        if let Some(selection) = &select.selection {
            conjuncts(selection, &qualifier, &mut out);
        }
        if !out.is_empty() {
            self.found.insert((*view).clone(), out);
        }
    }
}

/// The `column = literal` terms of an AND of terms.
fn conjuncts(expr: &Expr, qualifier: &str, out: &mut Vec<Equality>) {
    match expr {
        Expr::Nested(inner) => conjuncts(inner, qualifier, out),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            conjuncts(left, qualifier, out);
            conjuncts(right, qualifier, out);
        }
        Expr::BinaryOp {
            left,
            op: BinaryOperator::Eq,
            right,
        } => {
            let pair = match (column(left, qualifier), literal(right)) {
                (Some(c), Some(v)) => Some((c, v)),
                _ => column(right, qualifier).zip(literal(left)),
            };
            out.extend(pair);
        }
        _ => {}
    }
}

fn column(expr: &Expr, qualifier: &str) -> Option<String> {
    match expr {
        Expr::Identifier(i) => Some(i.value.to_ascii_lowercase()),
        Expr::CompoundIdentifier(parts) => match parts.as_slice() {
            [q, c] if q.value.eq_ignore_ascii_case(qualifier) => Some(c.value.to_ascii_lowercase()),
            _ => None,
        },
        _ => None,
    }
}

fn literal(expr: &Expr) -> Option<Value> {
    let Expr::Value(v) = expr else {
        return None;
    };
    match &v.value {
        AstValue::SingleQuotedString(s) => Some(Value::Text(s.clone())),
        AstValue::Number(n, _) => n.parse::<i64>().ok().map(Value::Int),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(sql: &str) -> BTreeMap<(String, String), Vec<Equality>> {
        let stmt = crate::parser::parse_tenant_sql(sql).unwrap();
        let view = ("crdb_internal".to_string(), "show_jobs".to_string());
        let n = sql.matches("crdb_internal.show_jobs").count();
        let relations = vec![view.clone(); n];
        equalities(&stmt, &relations, &BTreeSet::from([view]))
    }

    fn eqs(sql: &str) -> Vec<Equality> {
        found(sql).into_values().next().unwrap_or_default()
    }

    #[test]
    fn conjuncts_of_the_views_own_select_are_kept() {
        assert_eq!(
            eqs("SELECT * FROM crdb_internal.show_jobs WHERE job_type = 'BACKUP' AND (status = 'running' AND 7 = job_id)"),
            vec![
                ("job_type".into(), Value::from("BACKUP")),
                ("status".into(), Value::from("running")),
                ("job_id".into(), Value::Int(7)),
            ]
        );
        assert_eq!(
            eqs("SELECT job_id FROM crdb_internal.show_jobs AS j WHERE j.USER_NAME = 'maxroach' AND other.x = 'y'"),
            vec![("user_name".into(), Value::from("maxroach"))]
        );
        assert_eq!(
            eqs("SELECT 1 FROM t WHERE x IN (SELECT job_id FROM crdb_internal.show_jobs WHERE user_name = 'a')"),
            vec![("user_name".into(), Value::from("a"))]
        );
    }

    #[test]
    fn nothing_is_kept_that_does_not_hold_for_every_row_read() {
        for sql in [
            "SELECT * FROM crdb_internal.show_jobs WHERE job_type = 'BACKUP' OR status = 'running'",
            "SELECT * FROM crdb_internal.show_jobs WHERE NOT (job_type = 'BACKUP')",
            "SELECT * FROM crdb_internal.show_jobs WHERE job_type = $1",
            "SELECT * FROM crdb_internal.show_jobs WHERE job_type = lower('BACKUP')",
            "SELECT * FROM crdb_internal.show_jobs WHERE job_type = 'BACKUP' COLLATE NOCASE",
            "SELECT * FROM crdb_internal.show_jobs, t WHERE job_type = 'BACKUP'",
            "SELECT * FROM crdb_internal.show_jobs JOIN t ON true WHERE job_type = 'BACKUP'",
            "SELECT * FROM crdb_internal.show_jobs AS j WHERE k.job_type = 'BACKUP'",
            "SELECT * FROM crdb_internal.show_jobs WHERE job_type = 'BACKUP' \
             UNION ALL SELECT * FROM crdb_internal.show_jobs",
        ] {
            assert!(found(sql).is_empty(), "{sql}: {:?}", found(sql));
        }
    }
}
