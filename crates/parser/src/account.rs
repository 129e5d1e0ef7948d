//! Account statements: users, passwords, grants.

use sqlparser::tokenizer::Token;
use tenantry_catalog::{GrantLevel, Privilege};

use super::cursor::Cursor;
use super::{if_exists, if_not_exists, Command, ParsedLevel, UserName};
use crate::error::{ParseError, Result};

pub(super) fn parse(c: &mut Cursor) -> Result<Option<Command>> {
    let cmd = if c.eat_words(&["CREATE", "USER"]) {
        let if_not_exists = if_not_exists(c);
        let mut users = Vec::new();
        loop {
            let user = user_name(c)?;
            let password = if c.eat_words(&["IDENTIFIED", "BY"]) {
                c.string()?
            } else {
                // CockroachDB's `CREATE USER u [WITH] [LOGIN] [PASSWORD 'p']`.
                role_options(c)?.password
            };
            users.push((user, password));
            if !c.eat(&Token::Comma) {
                break;
            }
        }
        Command::CreateUser {
            users,
            if_not_exists,
        }
    } else if c.eat_words(&["CREATE", "ROLE"]) {
        // A role that logs in is a user; roles as groups of users (NOLOGIN) are not modelled.
        let if_not_exists = if_not_exists(c);
        let user = user_name(c)?;
        let options = role_options(c)?;
        if !options.login {
            // A group of users: it cannot log in, and its members hold its grants.
            return Ok(Some(Command::CreateRole {
                name: user,
                if_not_exists,
            }));
        }
        Command::CreateUser {
            users: vec![(user, options.password)],
            if_not_exists,
        }
    } else if c.eat_words(&["DROP", "USER"]) || c.eat_words(&["DROP", "ROLE"]) {
        let if_exists = if_exists(c);
        Command::DropUser {
            users: user_list(c)?,
            if_exists,
        }
    } else if c.eat_words(&["ALTER", "USER"]) || c.eat_words(&["ALTER", "ROLE"]) {
        let _ = if_exists(c);
        let user = user_name(c)?;
        let password = if c.eat_words(&["IDENTIFIED", "BY"]) {
            c.string()?
        } else {
            let options = role_options(c)?;
            if !options.password_given {
                return Err(c.error());
            }
            options.password
        };
        Command::SetPassword {
            user: Some(user),
            password,
        }
    } else if c.is_word("GRANT") && c.is_word_at(1, "ADMIN") && c.is_word_at(2, "TO") {
        c.eat_words(&["GRANT", "ADMIN", "TO"]);
        let users = user_list(c)?;
        let _ = c.eat_words(&["WITH", "ADMIN", "OPTION"]);
        Command::SetAdmin { users, admin: true }
    } else if c.is_word("REVOKE") && c.is_word_at(1, "ADMIN") && c.is_word_at(2, "FROM") {
        c.eat_words(&["REVOKE", "ADMIN", "FROM"]);
        Command::SetAdmin {
            users: user_list(c)?,
            admin: false,
        }
    } else if (c.is_word("GRANT") || c.is_word("REVOKE")) && names_roles(c) {
        // `GRANT r1, r2 TO u` / `REVOKE r FROM u`: role memberships (no ON: not privileges).
        let grant = c.eat_word("GRANT");
        if !grant {
            c.expect_word("REVOKE")?;
        }
        let roles = user_list(c)?;
        c.expect_word(if grant { "TO" } else { "FROM" })?;
        let users = user_list(c)?;
        let _ = c.eat_words(&["WITH", "ADMIN", "OPTION"]);
        Command::RoleMembership {
            roles,
            users,
            grant,
        }
    } else if c.eat_words(&["SHOW", "USERS"]) || c.eat_words(&["SHOW", "ROLES"]) {
        Command::ShowUsers
    } else if c.eat_words(&["SET", "PASSWORD"]) {
        let user = if c.eat_word("FOR") {
            Some(user_name(c)?)
        } else {
            None
        };
        c.expect(&Token::Eq)?;
        let password = if c.eat_word("PASSWORD") {
            c.expect(&Token::LParen)?;
            let p = c.string()?;
            c.expect(&Token::RParen)?;
            p
        } else {
            c.string()?
        };
        Command::SetPassword { user, password }
    } else if c.eat_word("GRANT") {
        let privileges = privilege_list(c)?;
        c.expect_word("ON")?;
        let levels = levels(c)?;
        c.expect_word("TO")?;
        let users = user_list(c)?;
        // Grant options are accepted: only administrators grant here anyway.
        let _ = c.eat_words(&["WITH", "GRANT", "OPTION"]);
        Command::Grant {
            privileges,
            levels,
            users,
        }
    } else if c.eat_word("REVOKE") {
        let privileges = privilege_list(c)?;
        c.expect_word("ON")?;
        let levels = levels(c)?;
        c.expect_word("FROM")?;
        Command::Revoke {
            privileges,
            levels,
            users: user_list(c)?,
        }
    } else if c.eat_words(&["SHOW", "GRANTS"]) {
        let user = if c.eat_word("FOR") {
            let u = user_name(c)?;
            // `FOR CURRENT_USER()`.
            if c.eat(&Token::LParen) {
                c.expect(&Token::RParen)?;
            }
            Some(u)
        } else {
            None
        };
        Command::ShowGrants(user)
    } else {
        return Ok(None);
    };
    c.expect_end()?;
    Ok(Some(cmd))
}

/// `name`, `'name'`, `'name'@'host'`, `name@host`, `name@'host'`. The host is accepted and ignored.
fn user_name(c: &mut Cursor) -> Result<UserName> {
    let name = c.name()?;
    // MySQL's tokenizer glues `@` onto identifiers: `u@host` is one word, `u@'%'` is `u@` and a string.
    if let Some((user, host)) = name.split_once('@') {
        if host.is_empty() && !c.at_end() && !matches!(c.peek(), Some(Token::Comma)) {
            c.name()?;
        }
        return Ok(user.to_string());
    }
    // `'u'@'h'`: a separate at-sign, or a word `@h` / `@` glued to the host.
    match c.peek() {
        Some(Token::AtSign) => {
            c.advance();
            c.name()?;
        }
        Some(Token::Word(w)) if w.value.starts_with('@') => {
            let bare = w.value == "@";
            c.advance();
            if bare {
                c.name()?;
            }
        }
        _ => {}
    }
    Ok(name)
}

fn user_list(c: &mut Cursor) -> Result<Vec<UserName>> {
    let mut users = vec![user_name(c)?];
    while c.eat(&Token::Comma) {
        users.push(user_name(c)?);
    }
    Ok(users)
}

fn privilege_list(c: &mut Cursor) -> Result<Vec<Privilege>> {
    let mut privileges = Vec::new();
    loop {
        let word = match c.peek() {
            Some(Token::Word(w)) => w.value.to_ascii_uppercase(),
            _ => return Err(c.error()),
        };
        c.advance();
        if word == "ALL" {
            c.eat_word("PRIVILEGES");
        }
        if word == "USAGE" {
            // USAGE grants nothing.
        } else {
            let p = Privilege::parse(&word)
                .ok_or_else(|| ParseError::Unsupported(format!("privilege {word}")))?;
            privileges.push(p);
        }
        if !c.eat(&Token::Comma) {
            break;
        }
    }
    Ok(privileges)
}

/// CockroachDB's role options after a user name: `[WITH] [LOGIN | NOLOGIN] [PASSWORD 'p' | PASSWORD NULL]`,
/// in any order.
struct RoleOptions {
    login: bool,
    password: String,
    password_given: bool,
}

fn role_options(c: &mut Cursor) -> Result<RoleOptions> {
    let mut options = RoleOptions {
        login: false,
        password: String::new(),
        password_given: false,
    };
    c.eat_word("WITH");
    loop {
        if c.eat_word("LOGIN") {
            options.login = true;
        } else if c.eat_word("NOLOGIN") {
            options.login = false;
        } else if c.eat_word("PASSWORD") {
            options.password_given = true;
            if !c.eat_word("NULL") {
                options.password = c.string()?;
            }
        } else {
            return Ok(options);
        }
    }
}

/// Whether a GRANT / REVOKE at the cursor names roles: its first word is not a privilege, and TO / FROM comes
/// before any ON.
fn names_roles(c: &Cursor) -> bool {
    // A quoted name (`'r'@'%'`, MySQL's form) is never a privilege.
    let first = match c.peek_nth(1) {
        Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.clone()),
        Some(Token::Word(_) | Token::SingleQuotedString(_) | Token::DoubleQuotedString(_)) => None,
        _ => return false,
    };
    if first.is_some_and(|f| Privilege::parse(&f).is_some()) {
        return false;
    }
    for i in 1..64 {
        if c.is_word_at(i, "ON") {
            return false;
        }
        if c.is_word_at(i, "TO") || c.is_word_at(i, "FROM") {
            return i > 1;
        }
        if c.peek_nth(i).is_none() {
            return false;
        }
    }
    false
}

/// A level, or after `TABLE` a list of tables (`ON TABLE t1, db.t2`).
fn levels(c: &mut Cursor) -> Result<Vec<ParsedLevel>> {
    let tables = c.is_word("TABLE");
    let mut levels = vec![level(c)?];
    while tables && c.eat(&Token::Comma) {
        levels.push(level(c)?);
    }
    Ok(levels)
}

/// `*.*`, `db.*`, `*`, `db.t`, `t`, CockroachDB's `DATABASE db` and `TABLE [db.]t`.
fn level(c: &mut Cursor) -> Result<ParsedLevel> {
    if c.eat_word("DATABASE") {
        return Ok(ParsedLevel::Level(GrantLevel::Database(
            c.name()?.to_ascii_lowercase(),
        )));
    }
    let _ = c.eat_word("TABLE");
    if c.eat(&Token::Mul) {
        if c.eat(&Token::Period) {
            c.expect(&Token::Mul)?;
            return Ok(ParsedLevel::Level(GrantLevel::Global));
        }
        return Ok(ParsedLevel::CurrentDatabase);
    }
    let first = c.name()?;
    if !c.eat(&Token::Period) {
        return Ok(ParsedLevel::CurrentTable(first));
    }
    if c.eat(&Token::Mul) {
        return Ok(ParsedLevel::Level(GrantLevel::Database(
            first.to_ascii_lowercase(),
        )));
    }
    let table = c.name()?;
    // CockroachDB's `db.public.t`: the public schema is the database.
    let table = if table.eq_ignore_ascii_case("public") && c.eat(&Token::Period) {
        c.name()?
    } else {
        table
    };
    Ok(ParsedLevel::Level(GrantLevel::Table(
        first.to_ascii_lowercase(),
        table,
    )))
}

#[cfg(test)]
mod tests {
    use super::super::tests::cmd;
    use super::super::{Command, ParsedLevel};
    use tenantry_catalog::{GrantLevel, Privilege};

    #[test]
    fn roles() {
        assert_eq!(
            cmd("CREATE ROLE readers"),
            Command::CreateRole {
                name: "readers".into(),
                if_not_exists: false
            }
        );
        assert_eq!(
            cmd("GRANT 'r1'@'%', r2 TO u1, 'u2'@'%'"),
            Command::RoleMembership {
                roles: vec!["r1".into(), "r2".into()],
                users: vec!["u1".into(), "u2".into()],
                grant: true
            }
        );
        assert_eq!(
            cmd("REVOKE r1 FROM u1"),
            Command::RoleMembership {
                roles: vec!["r1".into()],
                users: vec!["u1".into()],
                grant: false
            }
        );
        // Privileges are not roles: these stay grants.
        assert!(matches!(
            cmd("GRANT SELECT ON t TO u"),
            Command::Grant { .. }
        ));
        assert!(crate::parse("GRANT ALL TO u").is_err());
    }

    #[test]
    fn table_levels() {
        let level = |sql: &str| match cmd(sql) {
            Command::Grant { mut levels, .. } | Command::Revoke { mut levels, .. } => {
                levels.remove(0)
            }
            other => panic!("{sql}: {other:?}"),
        };
        let table = |d: &str, t: &str| ParsedLevel::Level(GrantLevel::Table(d.into(), t.into()));
        assert_eq!(
            level("GRANT SELECT ON Shop.Items TO u"),
            table("shop", "Items")
        );
        assert_eq!(
            level("GRANT SELECT ON TABLE shop.public.items TO u"),
            table("shop", "items")
        );
        assert_eq!(
            level("REVOKE INSERT ON `t` FROM u"),
            ParsedLevel::CurrentTable("t".into())
        );
        assert_eq!(
            level("GRANT SELECT ON TABLE t TO u"),
            ParsedLevel::CurrentTable("t".into())
        );
        assert!(crate::parse("GRANT SELECT ON db. TO u").is_err());
        let Command::Grant { levels, .. } = cmd("GRANT SELECT ON TABLE a, shop.b TO u") else {
            panic!("not a GRANT")
        };
        assert_eq!(
            levels,
            [ParsedLevel::CurrentTable("a".into()), table("shop", "b")]
        );
        // Only tables come in lists (`ON db.*, x` is not a form).
        assert!(crate::parse("GRANT SELECT ON shop.*, x TO u").is_err());
    }

    #[test]
    fn users_and_grants() {
        assert_eq!(
            cmd("CREATE USER 'maxroach'@'%' IDENTIFIED BY 'pw'"),
            Command::CreateUser {
                users: vec![("maxroach".into(), "pw".into())],
                if_not_exists: false
            }
        );
        assert_eq!(
            cmd("GRANT SELECT, INSERT ON db1.* TO maxroach@'%'"),
            Command::Grant {
                privileges: vec![Privilege::Select, Privilege::Insert],
                levels: vec![ParsedLevel::Level(GrantLevel::Database("db1".into()))],
                users: vec!["maxroach".into()]
            }
        );
        assert_eq!(
            cmd("grant all privileges on *.* to u1 with grant option"),
            Command::Grant {
                privileges: vec![Privilege::All],
                levels: vec![ParsedLevel::Level(GrantLevel::Global)],
                users: vec!["u1".into()]
            }
        );
        assert_eq!(
            cmd("SET PASSWORD FOR u1 = PASSWORD('x')"),
            Command::SetPassword {
                user: Some("u1".into()),
                password: "x".into()
            }
        );
        // CockroachDB's forms.
        for sql in [
            "CREATE USER maxroach WITH PASSWORD 'pw'",
            "CREATE USER maxroach PASSWORD 'pw'",
            "CREATE USER maxroach WITH LOGIN PASSWORD 'pw'",
            "CREATE ROLE maxroach WITH LOGIN PASSWORD 'pw'",
            "CREATE ROLE maxroach PASSWORD 'pw' LOGIN",
        ] {
            assert_eq!(
                cmd(sql),
                Command::CreateUser {
                    users: vec![("maxroach".into(), "pw".into())],
                    if_not_exists: false
                },
                "{sql}"
            );
        }
        assert_eq!(
            cmd("CREATE USER IF NOT EXISTS u2"),
            Command::CreateUser {
                users: vec![("u2".into(), String::new())],
                if_not_exists: true
            }
        );
        assert_eq!(
            cmd("ALTER ROLE maxroach WITH PASSWORD 'new'"),
            Command::SetPassword {
                user: Some("maxroach".into()),
                password: "new".into()
            }
        );
        assert_eq!(
            cmd("GRANT ALL ON DATABASE Shop TO maxroach"),
            Command::Grant {
                privileges: vec![Privilege::All],
                levels: vec![ParsedLevel::Level(GrantLevel::Database("shop".into()))],
                users: vec!["maxroach".into()]
            }
        );
        assert_eq!(
            cmd("GRANT admin TO maxroach, u2"),
            Command::SetAdmin {
                users: vec!["maxroach".into(), "u2".into()],
                admin: true
            }
        );
        assert_eq!(
            cmd("REVOKE admin FROM maxroach"),
            Command::SetAdmin {
                users: vec!["maxroach".into()],
                admin: false
            }
        );
        assert_eq!(cmd("SHOW USERS"), Command::ShowUsers);
        assert_eq!(cmd("SHOW ROLES"), Command::ShowUsers);
        assert_eq!(
            cmd("DROP ROLE IF EXISTS u2"),
            Command::DropUser {
                users: vec!["u2".into()],
                if_exists: true
            }
        );
        assert_eq!(
            cmd("SET PASSWORD = 'y'"),
            Command::SetPassword {
                user: None,
                password: "y".into()
            }
        );
    }
}
