//! Where each `?` parameter stands, so that clients that need parameter types described (PostgreSQL's
//! extended protocol) can be told one: compared with or inserted into a column (that column's type), or a
//! LIMIT / OFFSET (an integer).

use std::collections::HashMap;
use std::ops::ControlFlow;

use sqlparser::ast::{
    Expr, LimitClause, ObjectNamePart, Query, SetExpr, Statement, Value as AstValue, Visit, Visitor,
};

/// What a parameter's position says about its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamHint {
    /// It is compared with, or stored into, this column.
    Column(String),
    /// It is a row count.
    Int,
}

fn is_placeholder(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if matches!(v.value, AstValue::Placeholder(_)))
}

fn column_of(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
        Expr::Nested(inner) => column_of(inner),
        _ => None,
    }
}

#[derive(Default)]
struct Collect {
    hints: HashMap<*const Expr, ParamHint>,
    order: Vec<*const Expr>,
}

impl Collect {
    fn hint(&mut self, e: &Expr, hint: ParamHint) {
        if is_placeholder(e) {
            self.hints.entry(e as *const Expr).or_insert(hint);
        }
    }
}

impl Visitor for Collect {
    type Break = ();

    fn pre_visit_statement(&mut self, s: &Statement) -> ControlFlow<()> {
        if let Statement::Insert(insert) = s {
            if let Some(SetExpr::Values(values)) = insert.source.as_ref().map(|q| q.body.as_ref()) {
                for row in &values.rows {
                    for (e, col) in row.content.iter().zip(&insert.columns) {
                        if let Some(ObjectNamePart::Identifier(name)) = col.0.last() {
                            self.hint(e, ParamHint::Column(name.value.clone()));
                        }
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        match &q.limit_clause {
            Some(LimitClause::LimitOffset { limit, offset, .. }) => {
                if let Some(l) = limit {
                    self.hint(l, ParamHint::Int);
                }
                if let Some(o) = offset {
                    self.hint(&o.value, ParamHint::Int);
                }
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
                self.hint(offset, ParamHint::Int);
                self.hint(limit, ParamHint::Int);
            }
            None => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::BinaryOp { left, right, .. } => {
                if let Some(c) = column_of(left) {
                    self.hint(right, ParamHint::Column(c));
                }
                if let Some(c) = column_of(right) {
                    self.hint(left, ParamHint::Column(c));
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                if let Some(c) = column_of(expr) {
                    self.hint(low, ParamHint::Column(c.clone()));
                    self.hint(high, ParamHint::Column(c));
                }
            }
            Expr::InList { expr, list, .. } => {
                if let Some(c) = column_of(expr) {
                    for item in list {
                        self.hint(item, ParamHint::Column(c.clone()));
                    }
                }
            }
            _ if is_placeholder(e) => self.order.push(e as *const Expr),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

/// One hint (or none) per `?`, in the order SQLite numbers them (the order they appear in the text).
pub fn parameter_hints(stmt: &Statement) -> Vec<Option<ParamHint>> {
    let mut c = Collect::default();
    let _ = stmt.visit(&mut c);
    c.order.iter().map(|p| c.hints.get(p).cloned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(sql: &str) -> Vec<Option<ParamHint>> {
        parameter_hints(&crate::parser::parse_tenant_sql(sql).unwrap())
    }

    #[test]
    fn hints_follow_positions() {
        let col = |c: &str| Some(ParamHint::Column(c.into()));
        assert_eq!(
            hints("SELECT a FROM t WHERE id = ? AND ? < b.c AND x BETWEEN ? AND ? LIMIT ?"),
            vec![
                col("id"),
                col("c"),
                col("x"),
                col("x"),
                Some(ParamHint::Int)
            ]
        );
        assert_eq!(
            hints("INSERT INTO t (k, v) VALUES (?, ?), (?, 'x')"),
            vec![col("k"), col("v"), col("k")]
        );
        assert_eq!(hints("SELECT ? + 1"), vec![None]);
    }
}
