//! PostgreSQL's names for result columns written without an alias (its `FigureColname`): a column keeps
//! its name, a function call is named by its function (`count`, `now`), CASE is `case`, EXISTS `exists`,
//! a cast by what it casts, and anything else `?column?`. Drivers read columns by these names
//! (node-postgres' `rows[0].count`).

use sqlparser::ast::{Expr, ObjectNamePart};

/// PostgreSQL's name for an unaliased expression, `None` for a column (SQLite already names it by the
/// column, as PostgreSQL does).
pub(super) fn column_name(expr: &Expr) -> Option<String> {
    Some(match expr {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => return None,
        Expr::Nested(inner) => return column_name(inner),
        Expr::Cast {
            expr, data_type, ..
        } => match expr.as_ref() {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => return None,
            inner => match column_name(inner).as_deref() {
                Some("?column?") | None => data_type.to_string().to_ascii_lowercase(),
                Some(name) => name.to_string(),
            },
        },
        Expr::Function(f) => match f.name.0.last() {
            Some(ObjectNamePart::Identifier(name)) => folded(name),
            _ => UNNAMED.to_string(),
        },
        Expr::Case { .. } => "case".to_string(),
        Expr::Exists { .. } => "exists".to_string(),
        Expr::Array(_) => "array".to_string(),
        Expr::Position { .. } => "position".to_string(),
        Expr::Substring { .. } => "substring".to_string(),
        Expr::Trim { .. } => "btrim".to_string(),
        Expr::Extract { .. } => "extract".to_string(),
        Expr::Overlay { .. } => "overlay".to_string(),
        _ => UNNAMED.to_string(),
    })
}

/// The name PostgreSQL gives a column it cannot name otherwise.
const UNNAMED: &str = "?column?";

/// An identifier as PostgreSQL folds it: unquoted ones in lower case.
fn folded(ident: &sqlparser::ast::Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::column_name;
    use sqlparser::ast::{SelectItem, SetExpr, Statement};
    use sqlparser::dialect::MySqlDialect;
    use sqlparser::parser::Parser;

    fn names(sql: &str) -> Vec<Option<String>> {
        let stmt = Parser::parse_sql(&MySqlDialect {}, sql)
            .expect("parses")
            .remove(0);
        let Statement::Query(q) = stmt else {
            panic!("a query")
        };
        let SetExpr::Select(s) = *q.body else {
            panic!("a select")
        };
        s.projection
            .iter()
            .map(|i| match i {
                SelectItem::UnnamedExpr(e) => column_name(e),
                _ => Some("<aliased>".into()),
            })
            .collect()
    }

    #[test]
    fn expressions_are_named_as_postgres_names_them() {
        let got = names(
            "SELECT a, t.b, count(*), MAX(x), 1 + 1, 'lit', CASE WHEN a THEN 1 END, \
             EXISTS (SELECT 1), CAST(a AS TEXT), CAST(1 AS SIGNED), (now()), pg_catalog.version(), \
             c AS alias",
        );
        let want = [
            None,
            None,
            Some("count"),
            Some("max"),
            Some("?column?"),
            Some("?column?"),
            Some("case"),
            Some("exists"),
            None,
            Some("signed"),
            Some("now"),
            Some("version"),
            Some("<aliased>"),
        ];
        assert_eq!(got, want.map(|w| w.map(str::to_string)));
    }
}
