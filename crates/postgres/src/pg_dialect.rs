//! PostgreSQL-flavoured SQL normalised to the dialect the SQL layer parses (MySQL's), for the PostgreSQL
//! front end. Only the differences clients actually send are handled: `$n` parameters and `::type` casts.
//! String literals, quoted identifiers and comments are copied untouched.

/// The highest `$n` a statement may name: the protocol counts parameters in an unsigned 16-bit field
/// (Parse, Bind), so no client can bind more; PostgreSQL refuses larger numbers the same way.
pub const MAX_PARAMS: usize = 65_535;

/// A normalised statement and, for each `?` in it (in order), the 0-based index of the `$n` parameter
/// it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// The statement with `?` placeholders and without `::` casts.
    pub sql: String,
    /// `order[i]` is the index of the client parameter bound to the i-th `?`.
    pub order: Vec<usize>,
    /// The first `$n` past [`MAX_PARAMS`], if any: the statement must be refused, since its number
    /// would otherwise size the parameter lists.
    pub unknown_param: Option<String>,
    /// `(n, type)` for each `$n` written with a cast right after it (`$1::int8`), first cast only: as in
    /// PostgreSQL, the cast is the parameter's type.
    pub casts: Vec<(usize, String)>,
}

impl Normalized {
    /// How many client parameters the statement refers to (the highest `$n`).
    pub fn param_count(&self) -> usize {
        self.order.iter().map(|i| i + 1).max().unwrap_or(0)
    }

    /// Reorders client parameters into the order of the `?` placeholders; `None` if one is missing.
    pub fn bind<T: Clone>(&self, params: &[T]) -> Option<Vec<T>> {
        self.order.iter().map(|i| params.get(*i).cloned()).collect()
    }
}

/// Rewrites `$n` to `?` (a `$n` used twice becomes two `?`), drops `::type` casts, and writes interval
/// literals (`INTERVAL '1 day'`, `'1 day'::interval`) as MySQL's `INTERVAL n UNIT`.
pub fn normalize(sql: &str) -> Normalized {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut order = Vec::new();
    let mut unknown_param = None;
    let mut casts: Vec<(usize, String)> = Vec::new();
    // The parameter just written and where the output stood after it, to tell `$1::t` from `($1)::t`.
    let mut last_param: Option<(usize, usize)> = None;
    // The string literal just written: where it starts in the output, and where the output stood after it.
    let mut last_string: Option<(usize, usize)> = None;
    // For each open `[`: whether it opened an `ARRAY[` constructor (closed by `)`, not `]`).
    let mut brackets: Vec<bool> = Vec::new();
    // Whether the string literal about to start is an `E'...'` one.
    let mut escape_string = false;
    // For each open `(`: where it stands in the output, and whether it opens a call's arguments.
    let mut parens: Vec<(usize, bool)> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            // `ARRAY[a, b]`: PostgreSQL's array constructor, as the SQL layer's `pg_array(a, b)`.
            'A' | 'a'
                if keyword_at(&chars, i, "array") && next_non_space(&chars, i + 5) == Some('[') =>
            {
                out.push_str("pg_array(");
                i = skip_spaces(&chars, i + 5) + 1;
                brackets.push(true);
            }
            '[' => {
                // `t.col[i]`: a qualified column's element, which the MySQL parser reads only as `(t.col)[i]`.
                if let Some(start) = qualified_name_before(&out) {
                    out.insert(start, '(');
                    out.push(')');
                }
                out.push('[');
                brackets.push(false);
                i += 1;
            }
            ']' => {
                out.push(if brackets.pop() == Some(true) {
                    ')'
                } else {
                    ']'
                });
                i += 1;
            }
            // pgjdbc's `information_schema._pg_expandarray(a)`: the SQL layer's set-returning `pg_expandarray`
            // (the qualified name does not parse as a call, and the name would read as a charset introducer).
            'I' | 'i' if keyword_at(&chars, i, EXPANDARRAY) => {
                out.push_str("pg_expandarray");
                i += EXPANDARRAY.len();
            }
            '(' => {
                // A call's bracket follows its name at once; a bracket after anything else groups.
                let call = i
                    .checked_sub(1)
                    .and_then(|p| chars.get(p))
                    .is_some_and(|p| p.is_alphanumeric() || matches!(p, '_' | '`' | '"'));
                parens.push((out.len(), call));
                out.push('(');
                i += 1;
            }
            ')' => {
                out.push(')');
                i += 1;
                // `(expr).field`: a field of a composite value, which the MySQL parser has no form for, as the
                // SQL layer's `pg_field((expr), 'field')`.
                let grouping = parens.pop().and_then(|(at, call)| (!call).then_some(at));
                let field_follows = chars.get(i) == Some(&'.')
                    && chars
                        .get(i + 1)
                        .is_some_and(|c| c.is_alphabetic() || *c == '_');
                if let (Some(at), true) = (grouping, field_follows) {
                    let (field, end) = word_at(&chars, i + 1);
                    out.insert_str(at, "pg_field(");
                    out.push_str(&format!(", '{}')", field.to_ascii_lowercase()));
                    i = end;
                    // Positions recorded in the output before the insertion moved.
                    last_param = None;
                    last_string = None;
                }
            }
            'I' | 'i' if keyword_at(&chars, i, "interval") => {
                let (rewritten, end) = interval_literal_at(&chars, i + "interval".len())
                    .unwrap_or_else(|| ("INTERVAL".to_string(), i + "interval".len()));
                out.push_str(&rewritten);
                i = end;
            }
            '"' => {
                // A PostgreSQL quoted identifier (`"Order"`, `"$user"`), written as the parser's
                // back-quoted one; a doubled `""` inside is one `"`, and a back quote is doubled.
                out.push('`');
                i += 1;
                while i < chars.len() {
                    match chars[i] {
                        '"' if chars.get(i + 1) == Some(&'"') => {
                            out.push('"');
                            i += 1;
                        }
                        '"' => {
                            // Closed; an unterminated name stays unterminated, for the parser to refuse.
                            out.push('`');
                            break;
                        }
                        '`' => out.push_str("``"),
                        ch => out.push(ch),
                    }
                    i += 1;
                }
                i += 1;
            }
            '\'' => {
                // A string literal. In a standard one a backslash is itself (standard_conforming_strings is
                // on), so it is doubled for the parser, which reads backslash escapes; in an `E'...'` one it
                // escapes the next character, as the parser reads it too. A doubled quote stays inside.
                let escapes = std::mem::take(&mut escape_string);
                let start = out.len();
                out.push('\'');
                i += 1;
                while i < chars.len() {
                    match chars[i] {
                        '\\' if escapes && i + 1 < chars.len() => {
                            out.push('\\');
                            i += 1;
                            out.push(chars[i]);
                        }
                        '\\' => out.push_str("\\\\"),
                        '\'' if chars.get(i + 1) == Some(&'\'') => {
                            out.push_str("''");
                            i += 1;
                        }
                        '\'' => {
                            out.push('\'');
                            break;
                        }
                        ch => out.push(ch),
                    }
                    i += 1;
                }
                i += 1;
                last_string = Some((start, out.len()));
            }
            '`' => {
                // A back-quoted name (MySQL's form, accepted here too); a doubled quote stays inside it.
                out.push('`');
                i += 1;
                while i < chars.len() {
                    out.push(chars[i]);
                    if chars[i] == '`' {
                        if chars.get(i + 1) == Some(&'`') {
                            i += 1;
                            out.push('`');
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
                i += 1;
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(chars[i]);
                    i += 1;
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                out.push_str("/*");
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    out.push(chars[i]);
                    i += 1;
                }
                if i < chars.len() {
                    out.push_str("*/");
                    i += 2;
                }
            }
            '$' if chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) => {
                let start = i + 1;
                i = start;
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
                let digits: String = chars[start..i].iter().collect();
                match digits.parse::<usize>() {
                    Ok(n) if (1..=MAX_PARAMS).contains(&n) => {
                        order.push(n - 1);
                        out.push('?');
                        last_param = Some((n - 1, out.len()));
                    }
                    // `$0`: not a parameter; the parser rejects it.
                    Ok(0) => {
                        out.push('$');
                        out.push_str(&digits);
                    }
                    // Past the protocol's limit (or past usize): no client can bind it.
                    _ => {
                        unknown_param.get_or_insert_with(|| format!("${digits}"));
                        out.push('$');
                        out.push_str(&digits);
                    }
                }
            }
            ':' if chars.get(i + 1) == Some(&':') => {
                let end = skip_type_name(&chars, i + 2);
                let type_name: String = chars[i + 2..end].iter().collect();
                // `'t'::regclass`: a CAST the SQL layer reads as the table's oid.
                if let Some((start, after)) = last_string {
                    if after == out.len() && type_name.trim().eq_ignore_ascii_case("regclass") {
                        let literal = out[start..after].to_string();
                        out.truncate(start);
                        out.push_str(&format!("CAST({literal} AS regclass)"));
                        i = end;
                        continue;
                    }
                }
                // `'1 day'::interval`: the literal becomes MySQL's interval.
                if let Some((start, after)) = last_string {
                    let literal = out[start..after].to_string();
                    let text = literal.trim_matches('\'');
                    if after == out.len()
                        && type_name.trim().eq_ignore_ascii_case("interval")
                        && !text.contains('\'')
                    {
                        if let Some(rewritten) = crate::interval_literal::to_mysql(text) {
                            out.truncate(start);
                            out.push_str(&rewritten);
                            i = end;
                            continue;
                        }
                    }
                }
                if let Some((n, at)) = last_param {
                    if out[at..].trim().is_empty() && !casts.iter().any(|(m, _)| *m == n) {
                        let name: String = chars[i + 2..end].iter().collect();
                        casts.push((n, name.trim().to_string()));
                    }
                }
                i = end;
            }
            // `E'...'`: PostgreSQL's escape string; the parser's strings already read backslash escapes.
            'E' | 'e'
                if chars.get(i + 1) == Some(&'\'')
                    && !i
                        .checked_sub(1)
                        .and_then(|p| chars.get(p))
                        .is_some_and(|p| p.is_alphanumeric() || *p == '_') =>
            {
                escape_string = true;
                i += 1;
            }
            // `OPERATOR(pg_catalog.~)`: psql's schema-qualified operator, the operator itself.
            'O' | 'o' if operator_call(&chars, i).is_some() => {
                if let Some((op, end)) = operator_call(&chars, i) {
                    out.push(' ');
                    out.push_str(&op);
                    out.push(' ');
                    i = end;
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Normalized {
        sql: out,
        order,
        unknown_param,
        casts,
    }
}

/// Where the `a.b` (or `a.b.c`) name that ends the output starts, when one does.
fn qualified_name_before(out: &str) -> Option<usize> {
    let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == '`';
    let mut start = out.len();
    let mut dots = 0;
    for (i, c) in out.char_indices().rev() {
        if is_name(c) {
            start = i;
        } else if c == '.' && start == i + 1 {
            dots += 1;
            start = i;
        } else {
            break;
        }
    }
    let name = &out[start..];
    (dots > 0 && !name.starts_with('.') && !name.ends_with('.')).then_some(start)
}

/// pgjdbc's set-returning function over an index's columns.
const EXPANDARRAY: &str = "information_schema._pg_expandarray";

/// The index of the first non-space character at or after `i`.
fn skip_spaces(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

/// The first non-space character at or after `i`.
fn next_non_space(chars: &[char], i: usize) -> Option<char> {
    chars.get(skip_spaces(chars, i)).copied()
}

/// Whether `chars[i..]` starts `word` (lower case) as a whole word, in any case.
fn keyword_at(chars: &[char], i: usize, word: &str) -> bool {
    let end = i + word.len();
    let is_word = |c: &char| c.is_alphanumeric() || *c == '_';
    chars.len() >= end
        && chars[i..end]
            .iter()
            .zip(word.chars())
            .all(|(c, w)| c.to_ascii_lowercase() == w)
        && !chars.get(end).is_some_and(is_word)
        && !i
            .checked_sub(1)
            .and_then(|p| chars.get(p))
            .is_some_and(is_word)
}

/// After the INTERVAL keyword at `from`: a quoted PostgreSQL interval text (`'2 days'`, with no unit after
/// it) as MySQL's interval, and where the input continues; `None` to leave the input as it is.
fn interval_literal_at(chars: &[char], from: usize) -> Option<(String, usize)> {
    let mut j = from;
    while chars.get(j).is_some_and(|c| c.is_whitespace()) {
        j += 1;
    }
    if chars.get(j) != Some(&'\'') {
        return None;
    }
    let close = j + 1 + chars[j + 1..].iter().position(|c| *c == '\'')?;
    if chars.get(close + 1) == Some(&'\'') {
        return None;
    }
    // `INTERVAL '1' DAY` (MySQL's own form, a unit after the string) is left alone.
    let mut k = close + 1;
    while chars.get(k).is_some_and(|c| c.is_whitespace()) {
        k += 1;
    }
    let (next, _) = word_at(chars, k);
    if is_interval_unit(&next) {
        return None;
    }
    let text: String = chars[j + 1..close].iter().collect();
    crate::interval_literal::to_mysql(&text).map(|r| (r, close + 1))
}

/// The identifier-like word at `k` and where it ends.
fn word_at(chars: &[char], k: usize) -> (String, usize) {
    let mut e = k;
    while chars
        .get(e)
        .is_some_and(|c| c.is_alphanumeric() || *c == '_')
    {
        e += 1;
    }
    (chars[k.min(e)..e].iter().collect(), e)
}

/// MySQL's interval units (the word that follows `INTERVAL expr` in its own form).
fn is_interval_unit(word: &str) -> bool {
    const UNITS: &[&str] = &[
        "MICROSECOND",
        "SECOND",
        "MINUTE",
        "HOUR",
        "DAY",
        "WEEK",
        "MONTH",
        "QUARTER",
        "YEAR",
        "SECOND_MICROSECOND",
        "MINUTE_MICROSECOND",
        "MINUTE_SECOND",
        "HOUR_MICROSECOND",
        "HOUR_SECOND",
        "HOUR_MINUTE",
        "DAY_MICROSECOND",
        "DAY_SECOND",
        "DAY_MINUTE",
        "DAY_HOUR",
        "YEAR_MONTH",
    ];
    UNITS.iter().any(|u| u.eq_ignore_ascii_case(word))
}

/// Splits a simple-protocol query string into its statements at top-level `;` (not inside quotes or
/// comments); empty statements are dropped.
pub fn split_statements(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            current.push(c);
            if c == '\\' && q == '\'' && i + 1 < chars.len() {
                i += 1;
                current.push(chars[i]);
            } else if c == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '-' if chars.get(i + 1) == Some(&'-') => {
                while i < chars.len() && chars[i] != '\n' {
                    current.push(chars[i]);
                    i += 1;
                }
                continue;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    current.push(chars[i]);
                    i += 1;
                }
                current.push_str("*/");
                i += 2;
                continue;
            }
            ';' => {
                if !current.trim().is_empty() {
                    out.push(current.trim().to_string());
                }
                current.clear();
                i += 1;
                continue;
            }
            _ => {}
        }
        current.push(c);
        i += 1;
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

/// `OPERATOR(schema.op)` starting at `i` (not inside a longer word): the operator and the index after `)`.
fn operator_call(chars: &[char], i: usize) -> Option<(String, usize)> {
    const WORD: &str = "operator";
    if i.checked_sub(1)
        .and_then(|p| chars.get(p))
        .is_some_and(|p| p.is_alphanumeric() || *p == '_')
    {
        return None;
    }
    let end = i + WORD.len();
    let word: String = chars.get(i..end)?.iter().collect();
    if !word.eq_ignore_ascii_case(WORD) {
        return None;
    }
    let mut j = end;
    while chars.get(j).is_some_and(|c| c.is_whitespace()) {
        j += 1;
    }
    if chars.get(j) != Some(&'(') {
        return None;
    }
    let close = j + chars[j..].iter().position(|c| *c == ')')?;
    let inner: String = chars[j + 1..close].iter().collect();
    let op = inner.rsplit('.').next()?.trim();
    if op.is_empty() || !op.chars().all(|c| "~!@#%^&|`?+-*/<>=".contains(c)) {
        return None;
    }
    Some((op.to_string(), close + 1))
}

/// Skips a type name after `::`: words (`double precision`, `timestamp with time zone`), an optional
/// `(n[, m])` and `[]`. SQLite's dynamic typing makes dropping the cast the closest equivalent.
fn skip_type_name(chars: &[char], mut i: usize) -> usize {
    const MULTI_WORD: &[&str] = &["precision", "varying", "with", "without", "time", "zone"];
    while i < chars.len() && chars[i] == ' ' {
        i += 1;
    }
    let word = |from: usize| -> (String, usize) {
        let mut j = from;
        while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '.')
        {
            j += 1;
        }
        (chars[from..j].iter().collect(), j)
    };
    let (_, mut j) = word(i);
    loop {
        // A following word belongs to the type only if it is one of the multi-word type parts.
        let mut k = j;
        while k < chars.len() && chars[k] == ' ' {
            k += 1;
        }
        let (next, end) = word(k);
        if !next.is_empty() && MULTI_WORD.contains(&next.to_ascii_lowercase().as_str()) {
            j = end;
        } else {
            break;
        }
    }
    if chars.get(j) == Some(&'(') {
        if let Some(close) = chars[j..].iter().position(|c| *c == ')') {
            j += close + 1;
        }
    }
    while chars.get(j) == Some(&'[') && chars.get(j + 1) == Some(&']') {
        j += 2;
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_parameters_become_question_marks_in_order() {
        let n = normalize("SELECT * FROM t WHERE a = $2 AND b = $1 OR c = $2");
        assert_eq!(n.sql, "SELECT * FROM t WHERE a = ? AND b = ? OR c = ?");
        assert_eq!(n.order, vec![1, 0, 1]);
        assert_eq!(n.param_count(), 2);
        assert_eq!(n.bind(&["x", "y"]), Some(vec!["y", "x", "y"]));
        assert_eq!(n.bind(&["x"]), None);
    }

    #[test]
    fn parameter_numbers_past_the_protocol_limit_are_flagged_not_counted() {
        for sql in [
            "SELECT $4000000000",
            "SELECT $65536",
            "SELECT $1, $99999999999999999999999999",
        ] {
            let n = normalize(sql);
            assert!(n.unknown_param.is_some(), "{sql}");
            assert!(n.param_count() <= 1, "{sql}");
        }
        let n = normalize("SELECT $65535");
        assert_eq!((n.param_count(), n.unknown_param), (MAX_PARAMS, None));
        assert_eq!(normalize("SELECT $0").unknown_param, None);
    }

    #[test]
    fn a_cast_right_after_a_parameter_is_its_type() {
        let n =
            normalize("SELECT $2::int8 + $1::double precision, ($1)::text, $2::text, $3 :: uuid");
        let casts = [(1, "int8"), (0, "double precision"), (2, "uuid")];
        assert_eq!(n.casts, casts.map(|(n, t)| (n, t.to_string())));
        assert_eq!(n.sql, "SELECT ? + ?, (?), ?, ? ");
    }

    #[test]
    fn interval_literals_become_mysql_intervals() {
        assert_eq!(
            normalize("SELECT now() - INTERVAL '1 hour', d + interval '2 days'").sql,
            "SELECT now() - INTERVAL 3600000000 MICROSECOND, d + INTERVAL 172800000000 MICROSECOND"
        );
        assert_eq!(
            normalize("SELECT now() + '3 months'::interval, '1 day'::INTERVAL").sql,
            "SELECT now() + INTERVAL 3 MONTH, INTERVAL 86400000000 MICROSECOND"
        );
        // MySQL's own form, text that is not an interval, and names that merely contain the word stay.
        for sql in [
            "SELECT NOW() - INTERVAL '1' DAY",
            "SELECT INTERVAL 1 DAY + d",
            "SELECT INTERVAL 'P1D'",
            "SELECT intervals, my_interval FROM t",
        ] {
            assert_eq!(normalize(sql).sql, sql);
        }
    }

    #[test]
    fn array_constructors_become_calls() {
        assert_eq!(
            normalize("x = ANY (ARRAY[$1::VARCHAR, 'a]'])").sql,
            "x = ANY (pg_array(?, 'a]'))"
        );
        assert_eq!(
            normalize("SELECT array [1, ARRAY[2]], a[1], my_array[2] FROM [SHOW JOBS]").sql,
            "SELECT pg_array(1, pg_array(2)), a[1], my_array[2] FROM [SHOW JOBS]"
        );
    }

    #[test]
    fn regclass_casts_of_literals_are_kept_as_casts() {
        assert_eq!(
            normalize("WHERE c.oid = 'public.t'::regclass AND x = 'y'::text").sql,
            "WHERE c.oid = CAST('public.t' AS regclass) AND x = 'y'"
        );
    }

    #[test]
    fn casts_are_dropped() {
        assert_eq!(normalize("SELECT 1::int8, $1::text").sql, "SELECT 1, ?");
        assert_eq!(
            normalize("SELECT x::double precision FROM t").sql,
            "SELECT x FROM t"
        );
        assert_eq!(
            normalize("SELECT now()::timestamp with time zone, 'a'::varchar(10)").sql,
            "SELECT now(), 'a'"
        );
        assert_eq!(normalize("SELECT '{1}'::int[]").sql, "SELECT '{1}'");
    }

    #[test]
    fn psql_operator_calls_and_escape_strings() {
        assert_eq!(
            normalize("WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' AND x").sql,
            "WHERE c.relname  ~  '^(t)$' AND x"
        );
        assert_eq!(normalize("SELECT a operator (+) b").sql, "SELECT a  +  b");
        assert_eq!(
            normalize("array_to_string(x, E'\\n')").sql,
            "array_to_string(x, '\\n')"
        );
        assert_eq!(
            normalize("SELECT e'a', name'b', operators(1)").sql,
            "SELECT 'a', name'b', operators(1)"
        );
    }

    #[test]
    fn literals_and_comments_are_untouched() {
        let sql = "SELECT '$1::x', `a::b`, 'it''s $2' -- $3::y\n, 1 /* $4 */";
        let n = normalize(sql);
        assert_eq!(n.sql, sql);
        assert!(n.order.is_empty());
    }

    #[test]
    fn composite_fields_and_expandarray_become_calls() {
        assert_eq!(
            normalize(
                "SELECT (information_schema._pg_expandarray(i.indkey)).n, (r.k).x, f(a).b, (1)"
            )
            .sql,
            "SELECT pg_field((pg_expandarray(i.indkey)), 'n'), pg_field((r.k), 'x'), f(a).b, (1)"
        );
        assert_eq!(
            normalize("SELECT ((a)).X").sql,
            "SELECT pg_field(((a)), 'x')"
        );
        // Unbalanced brackets are left for the parser to refuse.
        assert_eq!(normalize("SELECT a)).x").sql, "SELECT a)).x");
    }

    #[test]
    fn qualified_columns_are_bracketed_before_a_subscript() {
        assert_eq!(
            normalize("SELECT tmp.opt[tmp.n - 1], a[1], s.t.c[2], [SHOW JOBS]").sql,
            "SELECT (tmp.opt)[tmp.n - 1], a[1], (s.t.c)[2], [SHOW JOBS]"
        );
    }

    #[test]
    fn quoted_identifiers_become_back_quoted_names() {
        assert_eq!(
            normalize(r#"SELECT "Id", "a""b", "x`y", "$1::t" FROM "Order""#).sql,
            "SELECT `Id`, `a\"b`, `x``y`, `$1::t` FROM `Order`"
        );
        // Unterminated, it stays so (the parser refuses it) rather than being closed here.
        assert_eq!(normalize(r#"SELECT "abc"#).sql, "SELECT `abc");
    }

    #[test]
    fn backslashes_are_themselves_in_standard_strings_and_escapes_in_e_strings() {
        assert_eq!(
            normalize(r"SELECT 'C:\dir\', 'a\' || 'b''c', E'x\'y\n'").sql,
            r"SELECT 'C:\\dir\\', 'a\\' || 'b''c', 'x\'y\n'"
        );
        assert_eq!(normalize(r"SELECT 'open").sql, r"SELECT 'open");
    }

    #[test]
    fn statements_split_at_top_level_semicolons() {
        assert_eq!(
            split_statements("SELECT 'a;b'; ;SELECT 2 -- c;d\n; /* ; */ SELECT 3;"),
            vec!["SELECT 'a;b'", "SELECT 2 -- c;d", "/* ; */ SELECT 3"]
        );
    }

    #[test]
    fn job_statements_pass_through() {
        let sql = "CANCEL JOBS (SELECT job_id FROM [SHOW JOBS] WHERE user_name = 'maxroach')";
        assert_eq!(normalize(sql).sql, sql);
    }
}
