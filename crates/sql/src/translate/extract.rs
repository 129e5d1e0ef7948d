//! `EXTRACT(field FROM x)` (MySQL and PostgreSQL) and PostgreSQL's `date_part('field', x)`, which SQLite
//! has no form for: its `strftime` of the stored text (`YYYY-MM-DD HH:MM:SS[.ffffff]`), as a number.
//!
//! The two wires differ where their servers do: PostgreSQL's SECOND has the fraction and its WEEK is the
//! ISO week; MySQL's SECOND is whole and its WEEK counts Sunday-first weeks from 0 (`WEEK(d, 0)`). SQLite's
//! `%f` keeps milliseconds, so microsecond fields are multiples of 1,000.

use sqlparser::ast::{BinaryOperator, DateTimeField as F, Expr, Value as AstValue};

use super::functions::call;
use crate::error::{Result, SqlError};

/// The number `field` of `x` as the wire's server computes it (`postgres`: PostgreSQL's meanings).
pub(super) fn extract(field: &F, x: Expr, postgres: bool) -> Result<Expr> {
    // `strftime(fmt, x) + 0`: the field's digits as an integer (or a real for `%f`).
    let part = |fmt: &str, x: Expr| plus(call("strftime", vec![text(fmt), x]), number("0"));
    let year = |x| part("%Y", x);
    Ok(match field {
        F::Year | F::Years => year(x),
        F::Month | F::Months => part("%m", x),
        F::Day | F::Days => part("%d", x),
        F::Hour | F::Hours => part("%H", x),
        F::Minute | F::Minutes => part("%M", x),
        F::Second | F::Seconds if postgres => part("%f", x),
        F::Second | F::Seconds => part("%S", x),
        F::Milliseconds | F::Millisecond => times(part("%f", x), "1000"),
        F::Microseconds if postgres => times(part("%f", x), "1000000"),
        // MySQL's MICROSECOND is the fraction alone (`%` takes integers: the product is rounded first).
        F::Microsecond | F::Microseconds => modulo(
            call("round", vec![times(part("%f", x), "1000000")]),
            number("1000000"),
        ),
        F::Dow | F::DayOfWeek => part("%w", x),
        F::Isodow => plus(
            modulo(plus(part("%w", x), number("6")), number("7")),
            number("1"),
        ),
        F::Doy | F::DayOfYear => part("%j", x),
        F::Week(None) | F::Weeks if postgres => part("%V", x),
        F::Week(None) | F::Weeks => part("%U", x),
        F::IsoWeek => part("%V", x),
        F::Isoyear => part("%G", x),
        F::Quarter => divide(plus(part("%m", x), number("2")), number("3")),
        F::Decade => divide(year(x), number("10")),
        F::Century => divide(plus(year(x), number("99")), number("100")),
        F::Millennium | F::Millenium => divide(plus(year(x), number("999")), number("1000")),
        F::Epoch => call("unixepoch", vec![x, text("subsec")]),
        F::Julian => call("julianday", vec![x]),
        other => return Err(SqlError::Unsupported(format!("EXTRACT({other} FROM ...)"))),
    })
}

/// PostgreSQL's `date_part('field', x)`: EXTRACT of the field its text names.
pub(super) fn date_part(field: &str, x: Expr) -> Result<Expr> {
    let f = match field.to_ascii_lowercase().as_str() {
        "year" | "years" => F::Year,
        "month" | "months" => F::Month,
        "day" | "days" => F::Day,
        "hour" | "hours" => F::Hour,
        "minute" | "minutes" => F::Minute,
        "second" | "seconds" => F::Second,
        "milliseconds" => F::Milliseconds,
        "microseconds" => F::Microseconds,
        "dow" => F::Dow,
        "isodow" => F::Isodow,
        "doy" => F::Doy,
        "week" => F::Week(None),
        "isoyear" => F::Isoyear,
        "quarter" => F::Quarter,
        "decade" => F::Decade,
        "century" => F::Century,
        "millennium" => F::Millennium,
        "epoch" => F::Epoch,
        "julian" => F::Julian,
        other => return Err(SqlError::Unsupported(format!("date_part('{other}', ...)"))),
    };
    extract(&f, x, true)
}

fn text(s: &str) -> Expr {
    Expr::value(AstValue::SingleQuotedString(s.into()))
}

fn number(n: &str) -> Expr {
    Expr::value(AstValue::Number(n.into(), false))
}

fn op(left: Expr, op: BinaryOperator, right: Expr) -> Expr {
    Expr::Nested(Box::new(Expr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }))
}

fn plus(l: Expr, r: Expr) -> Expr {
    op(l, BinaryOperator::Plus, r)
}

fn modulo(l: Expr, r: Expr) -> Expr {
    op(l, BinaryOperator::Modulo, r)
}

fn divide(l: Expr, r: Expr) -> Expr {
    op(l, BinaryOperator::Divide, r)
}

fn times(l: Expr, n: &str) -> Expr {
    op(l, BinaryOperator::Multiply, number(n))
}
