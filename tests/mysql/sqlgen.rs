//! A generator of statements for the property tests of both wires: mostly well-formed SQL of the kinds
//! clients send (queries with nested expressions, DML on a scratch table, SHOW with filters, SET,
//! executable comments, administrative statements), some of it then mutated (a token dropped, repeated or
//! swapped), from a fixed seed so every run sends the same statements.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Statements from `seed`, touching only the table `g` (id INT PRIMARY KEY, v VARCHAR(20), n INT).
pub struct SqlGen {
    rng: StdRng,
}

const COLUMNS: &[&str] = &["id", "v", "n", "nope"];
const FUNCTIONS: &[&str] = &[
    "abs",
    "length",
    "lower",
    "upper",
    "coalesce",
    "ifnull",
    "concat",
    "substr",
    "round",
    "max",
    "min",
    "count",
    "json_extract",
    "nosuchfn",
];
const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "%", "=", "<>", "<", ">=", "AND", "OR", "XOR", "||", "LIKE", "DIV", "&",
    "|", "<<", "->",
];
const LITERALS: &[&str] = &[
    "1",
    "0",
    "-7",
    "2.5",
    "1e3",
    "NULL",
    "TRUE",
    "'x'",
    "'%a_'",
    "''",
    "'it''s'",
    "X'00ff'",
    "@u",
    "@@autocommit",
    "@@version",
    "?",
    "'2024-01-02'",
    "9223372036854775807",
];

impl SqlGen {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
        }
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.gen_range(0..items.len())]
    }

    fn expr(&mut self, depth: u32) -> String {
        if depth == 0 || self.rng.gen_bool(0.3) {
            return if self.rng.gen_bool(0.5) {
                self.pick(COLUMNS).to_string()
            } else {
                self.pick(LITERALS).to_string()
            };
        }
        match self.rng.gen_range(0..9) {
            0..=2 => {
                let (l, op, r) = (
                    self.expr(depth - 1),
                    self.pick(OPERATORS),
                    self.expr(depth - 1),
                );
                format!("{l} {op} {r}")
            }
            3 => format!("({})", self.expr(depth - 1)),
            4 => {
                let f = self.pick(FUNCTIONS);
                let n = self.rng.gen_range(0..3);
                let args: Vec<String> = (0..n).map(|_| self.expr(depth - 1)).collect();
                format!("{f}({})", args.join(", "))
            }
            5 => format!("NOT {}", self.expr(depth - 1)),
            6 => format!(
                "CASE WHEN {} THEN {} ELSE {} END",
                self.expr(depth - 1),
                self.expr(depth - 1),
                self.expr(depth - 1)
            ),
            7 => format!(
                "{} IN ({}, {})",
                self.expr(depth - 1),
                self.expr(0),
                self.expr(0)
            ),
            _ => format!("(SELECT {} FROM g LIMIT 1)", self.expr(depth - 1)),
        }
    }

    fn statement(&mut self) -> String {
        let d = self.rng.gen_range(0..5);
        match self.rng.gen_range(0..14) {
            0..=3 => {
                let items: Vec<String> = (0..self.rng.gen_range(1..4))
                    .map(|_| self.expr(d))
                    .collect();
                let mut s = format!("SELECT {}", items.join(", "));
                if self.rng.gen_bool(0.7) {
                    s.push_str(&format!(" FROM g WHERE {}", self.expr(d)));
                }
                if self.rng.gen_bool(0.3) {
                    s.push_str(" ORDER BY 1 LIMIT 3");
                }
                if self.rng.gen_bool(0.2) {
                    s.push_str(&format!(
                        " UNION SELECT {}",
                        (0..items.len()).map(|_| "1").collect::<Vec<_>>().join(", ")
                    ));
                }
                s
            }
            4 => format!(
                "INSERT INTO g (id, v, n) VALUES ({}, {}, {})",
                self.rng.gen_range(0..50),
                self.expr(1),
                self.expr(1)
            ),
            5 => format!("UPDATE g SET n = {} WHERE {}", self.expr(d), self.expr(d)),
            6 => format!("DELETE FROM g WHERE {}", self.expr(d)),
            7 => {
                let what = self.pick(&[
                    "TABLES",
                    "DATABASES",
                    "VARIABLES",
                    "STATUS",
                    "COLUMNS FROM g",
                ]);
                if self.rng.gen_bool(0.5) {
                    format!(
                        "SHOW {what} LIKE {}",
                        self.pick(&["'%'", "'g%'", "'%_%_%!'", "'a\\_b'", "x"])
                    )
                } else {
                    format!("SHOW {what} WHERE {}", self.expr(d))
                }
            }
            8 => format!("SET @u = {}", self.expr(d)),
            9 => format!("/*!40101 SET @u = {} */", self.expr(1)),
            10 => format!(
                "SELECT 1 /*!{} + {} */",
                self.rng.gen_range(30000..90000),
                self.expr(1)
            ),
            11 => self
                .pick(&[
                    "SHOW JOBS",
                    "SHOW PROCESSLIST",
                    "SHOW GRANTS",
                    "SHOW CREATE TABLE g",
                    "SHOW INDEX FROM g",
                    "SELECT * FROM information_schema.COLUMNS WHERE TABLE_NAME = 'g'",
                    "SELECT * FROM oceanbase.DBA_OB_TENANTS",
                    "BEGIN",
                    "COMMIT",
                    "ROLLBACK",
                    "ALTER TABLE g DISABLE KEYS",
                    "LOCK TABLES g WRITE",
                    "UNLOCK TABLES",
                ])
                .to_string(),
            12 => format!(
                "SELECT {}1{}",
                "(".repeat(self.rng.gen_range(0..300)),
                ")".repeat(self.rng.gen_range(0..300))
            ),
            _ => format!("SELECT 1{}", "+1".repeat(self.rng.gen_range(0..6000))),
        }
    }

    /// The next statement, mutated one time in four.
    pub fn next_statement(&mut self) -> String {
        let s = self.statement();
        if !self.rng.gen_bool(0.25) {
            return s;
        }
        let mut words: Vec<&str> = s.split(' ').collect();
        if words.len() < 2 {
            return format!("{s} {s}");
        }
        let i = self.rng.gen_range(0..words.len());
        match self.rng.gen_range(0..3) {
            0 => {
                words.remove(i);
            }
            1 => words.insert(i, words[i]),
            _ => {
                let j = self.rng.gen_range(0..words.len());
                words.swap(i, j);
            }
        }
        words.join(" ")
    }
}
