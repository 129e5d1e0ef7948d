//! MySQL's UPDATE and DELETE forms that SQLite lacks, in SQLite's words: `ORDER BY ... LIMIT n` on one table
//! (batched deletes), `UPDATE a JOIN b ON ... SET a.x = b.y` and `DELETE a FROM a JOIN b ...` /
//! `DELETE FROM a USING a JOIN b ...`.
//!
//! Each becomes one statement on the target table, choosing its rows by rowid: `... WHERE rowid IN (SELECT
//! rowid FROM ... ORDER BY ... LIMIT n)` for the single-table forms, a subquery over the statement's whole
//! join for the multiple-table DELETE, and SQLite's `UPDATE ... FROM` for the multiple-table UPDATE, whose
//! joins must then be inner (an outer join would keep target rows that UPDATE ... FROM drops). Several targets
//! in one statement (`DELETE a, b FROM ...`, `SET a.x = .., b.y = ..`) are refused: SQLite changes one table
//! per statement, and doing them one after the other would let the first change what the second matches.

use sqlparser::ast::{
    AssignmentTarget, Delete, Expr, FromTable, JoinConstraint, JoinOperator, ObjectName,
    ObjectNamePart, TableFactor, TableWithJoins, Update,
};

use super::names;
use crate::error::{Result, SqlError};

/// The SQL of an UPDATE in a MySQL form SQLite lacks, and its target (database, table); `None` for one
/// SQLite runs as it is.
pub(super) fn update(u: &Update) -> Result<Option<(String, (String, String))>> {
    let ordered = !u.order_by.is_empty() || u.limit.is_some();
    if u.table.joins.is_empty() && !ordered {
        return Ok(None);
    }
    if u.table.joins.is_empty() {
        let (name, _) = table_of(&u.table.relation)?;
        let target = names::pair(name)?;
        let factor = &u.table.relation;
        let sql = format!(
            "UPDATE {factor} SET {} WHERE {}",
            list(&u.assignments),
            chosen_rows(factor, u.selection.as_ref(), &u.order_by, u.limit.as_ref()),
        );
        return Ok(Some((with_returning(sql, u.returning.as_deref()), target)));
    }
    if ordered {
        return Err(SqlError::Unsupported(
            "ORDER BY / LIMIT in a multiple-table UPDATE (MySQL refuses it too)".into(),
        ));
    }
    // The relation whose columns the SET names: every assignment must name the same one.
    let relations: Vec<&TableFactor> = std::iter::once(&u.table.relation)
        .chain(u.table.joins.iter().map(|j| &j.relation))
        .collect();
    let mut target: Option<usize> = None;
    let mut assignments = Vec::with_capacity(u.assignments.len());
    for a in &u.assignments {
        let AssignmentTarget::ColumnName(column) = &a.target else {
            return Err(SqlError::Unsupported(
                "a tuple assignment in a multiple-table UPDATE".into(),
            ));
        };
        let parts = idents(column);
        let (qualifier, column) = match parts.as_slice() {
            [column] => (None, column.clone()),
            [.., q, column] => (Some(q.clone()), column.clone()),
            [] => return Err(SqlError::Unsupported("an empty column name".into())),
        };
        // An unqualified column is the first table's, as far as this translation can tell.
        let at = match &qualifier {
            None => 0,
            Some(q) => relations
                .iter()
                .position(|r| names_relation(r, q))
                .ok_or_else(|| SqlError::UnknownColumn(format!("{q}.{column}")))?,
        };
        if target.is_some_and(|t| t != at) {
            return Err(SqlError::Unsupported(
                "an UPDATE of several tables in one statement".into(),
            ));
        }
        target = Some(at);
        assignments.push(format!("{} = {}", names::quote(&column), a.value));
    }
    let at = target.unwrap_or(0);
    let mut others = Vec::new();
    let mut conditions = Vec::new();
    for (i, relation) in relations.iter().enumerate() {
        if i != at {
            others.push(relation.to_string());
        }
        if i > 0 {
            let join = &u.table.joins[i - 1];
            match &join.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::StraightJoin(c) => match c {
                    JoinConstraint::On(e) => conditions.push(format!("({e})")),
                    JoinConstraint::None => {}
                    _ => {
                        return Err(SqlError::Unsupported(
                            "USING or NATURAL joins in a multiple-table UPDATE".into(),
                        ))
                    }
                },
                _ => {
                    return Err(SqlError::Unsupported(
                        "an outer join in a multiple-table UPDATE".into(),
                    ))
                }
            }
        }
    }
    if let Some(s) = &u.selection {
        conditions.push(format!("({s})"));
    }
    let (name, _) = table_of(relations[at])?;
    let target_pair = names::pair(name)?;
    let mut sql = format!(
        "UPDATE {} SET {} FROM {}",
        relations[at],
        assignments.join(", "),
        others.join(", ")
    );
    if !conditions.is_empty() {
        sql.push_str(&format!(" WHERE {}", conditions.join(" AND ")));
    }
    Ok(Some((
        with_returning(sql, u.returning.as_deref()),
        target_pair,
    )))
}

/// The SQL of a DELETE in a MySQL form SQLite lacks, and its target; `None` for one SQLite runs as it is.
pub(super) fn delete(d: &Delete) -> Result<Option<(String, (String, String))>> {
    let from = match &d.from {
        FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => f,
    };
    let ordered = !d.order_by.is_empty() || d.limit.is_some();
    let multiple = !d.tables.is_empty()
        || d.using.is_some()
        || from.len() != 1
        || from.iter().any(|t| !t.joins.is_empty());
    if !multiple && !ordered {
        return Ok(None);
    }
    if !multiple {
        let factor = &from[0].relation;
        let (name, _) = table_of(factor)?;
        let target = names::pair(name)?;
        let sql = format!(
            "DELETE FROM {factor} WHERE {}",
            chosen_rows(factor, d.selection.as_ref(), &d.order_by, d.limit.as_ref()),
        );
        return Ok(Some((with_returning(sql, d.returning.as_deref()), target)));
    }
    if ordered {
        return Err(SqlError::Unsupported(
            "ORDER BY / LIMIT in a multiple-table DELETE (MySQL refuses it too)".into(),
        ));
    }
    // `DELETE t FROM <join>` names its targets before FROM; `DELETE FROM t USING <join>` names them in FROM.
    let (targets, joined): (Vec<String>, &[TableWithJoins]) = match &d.using {
        Some(using) => (
            from.iter()
                .map(|t| table_of(&t.relation).map(|(n, a)| a.unwrap_or_else(|| last(n))))
                .collect::<Result<_>>()?,
            using,
        ),
        None => (d.tables.iter().map(last).collect(), from),
    };
    let [target] = targets.as_slice() else {
        return Err(SqlError::Unsupported(
            "a DELETE from several tables in one statement".into(),
        ));
    };
    let factors = joined
        .iter()
        .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)));
    let mut found = None;
    for f in factors {
        if names_relation(f, target) {
            found = Some(f);
            break;
        }
    }
    let mut joined_sql: Vec<String> = joined.iter().map(|t| t.to_string()).collect();
    let factor = match (found, &d.using) {
        (Some(f), _) => f,
        // PostgreSQL's `DELETE FROM a USING b WHERE ...`: the target joins the USING list.
        (None, Some(_)) => {
            let f = &from[0].relation;
            joined_sql.insert(0, f.to_string());
            f
        }
        (None, None) => {
            return Err(SqlError::Unsupported(format!(
                "a DELETE of '{target}', which its FROM does not name"
            )))
        }
    };
    let (name, alias) = table_of(factor)?;
    let qualifier = alias.unwrap_or_else(|| last(name));
    let target_pair = names::pair(name)?;
    let sql = format!(
        "DELETE FROM {} WHERE rowid IN (SELECT {}.rowid FROM {}{})",
        name,
        names::quote(&qualifier),
        joined_sql.join(", "),
        where_clause(d.selection.as_ref()),
    );
    if d.returning.is_some() {
        return Err(SqlError::Unsupported(
            "RETURNING in a multiple-table DELETE".into(),
        ));
    }
    Ok(Some((sql, target_pair)))
}

/// `rowid IN (...)` of the rows of one table that a WHERE, ORDER BY and LIMIT choose.
fn chosen_rows(
    factor: &TableFactor,
    selection: Option<&Expr>,
    order: &[sqlparser::ast::OrderByExpr],
    limit_by: Option<&Expr>,
) -> String {
    format!(
        "rowid IN (SELECT rowid FROM {factor}{}{}{})",
        where_clause(selection),
        order_by(order),
        limit(limit_by),
    )
}

/// A plain table's name and alias.
fn table_of(factor: &TableFactor) -> Result<(&ObjectName, Option<String>)> {
    match factor {
        TableFactor::Table { name, alias, .. } => {
            Ok((name, alias.as_ref().map(|a| a.name.value.clone())))
        }
        _ => Err(SqlError::Unsupported(
            "UPDATE or DELETE of a derived table".into(),
        )),
    }
}

/// Whether `name` (an alias or a table name, as a statement's qualifier) names this relation.
fn names_relation(factor: &TableFactor, name: &str) -> bool {
    match factor {
        TableFactor::Table {
            name: table, alias, ..
        } => match alias {
            Some(a) => a.name.value.eq_ignore_ascii_case(name),
            None => last(table).eq_ignore_ascii_case(name),
        },
        _ => false,
    }
}

/// The last part of a name (a table's, without its database).
fn last(name: &ObjectName) -> String {
    idents(name).pop().unwrap_or_default()
}

fn idents(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i.value.clone()),
            ObjectNamePart::Function(_) => None,
        })
        .collect()
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn where_clause(selection: Option<&Expr>) -> String {
    selection.map_or_else(String::new, |s| format!(" WHERE {s}"))
}

fn order_by(order: &[sqlparser::ast::OrderByExpr]) -> String {
    if order.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {}", list(order))
    }
}

fn limit(limit: Option<&Expr>) -> String {
    limit.map_or_else(String::new, |l| format!(" LIMIT {l}"))
}

fn with_returning(sql: String, returning: Option<&[sqlparser::ast::SelectItem]>) -> String {
    match returning {
        Some(items) => format!("{sql} RETURNING {}", list(items)),
        None => sql,
    }
}
