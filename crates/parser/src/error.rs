//! The parser's error type. The SQL layer maps each variant to its own error (and so to wire codes) in
//! one `From` impl, so a parse error reaches clients exactly as the SQL layer words it.

/// Why a statement does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// The statement does not parse; `near` is the text from where parsing failed.
    #[error("syntax error near '{near}' at line {line}")]
    Syntax {
        /// Up to 80 characters of the statement from the failing token.
        near: String,
        /// 1-based line of the failing token.
        line: usize,
    },
    /// An empty statement.
    #[error("Query was empty")]
    EmptyQuery,
    /// A statement form the server does not have.
    #[error("{0} not supported")]
    Unsupported(String),
    /// An option value out of its range (a unit size, a window, a restore point).
    #[error("{0}")]
    InvalidArgument(String),
    /// An OceanBase-specific refusal with its (negative) code.
    #[error("{message}")]
    OceanBase {
        /// The (negative) OceanBase error code.
        code: i64,
        /// The message.
        message: String,
    },
    /// `SET` of an unknown system variable.
    #[error("Unknown system variable '{0}'")]
    UnknownVariable(String),
    /// A statement nested or chained deeper than the server's limits (see `limits`).
    #[error("the statement's {what} is over the limit of {limit}")]
    TooDeep {
        /// The limit.
        limit: usize,
        /// What is limited.
        what: &'static str,
    },
    /// `KILL` of an id that is no connection id.
    #[error("Unknown thread id: {0}")]
    UnknownThread(u64),
}

/// The parser's result type.
pub type Result<T> = std::result::Result<T, ParseError>;
