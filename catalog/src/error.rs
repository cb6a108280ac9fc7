use std::path::PathBuf;

/// Why a catalog could not be loaded or saved. Every variant names the file,
/// dataset, user or code at fault so an operator can fix it without a backtrace.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file is not valid TOML/CSV or does not match the catalog format.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line numbers where the parser gives them.
        message: String,
    },
    /// A dataset declaration is wrong.
    #[error("dataset {dataset}: {problem}")]
    Dataset {
        /// Dataset name.
        dataset: String,
        /// What is wrong.
        problem: String,
    },
    /// A view declaration is wrong.
    #[error("view {view}: {problem}")]
    View {
        /// View name.
        view: String,
        /// What is wrong.
        problem: String,
    },
    /// A policy rule is wrong.
    #[error("rule {rule}: {problem}")]
    Rule {
        /// Rule name.
        rule: String,
        /// What is wrong.
        problem: String,
    },
    /// A user declaration is wrong.
    #[error("user {user}: {problem}")]
    User {
        /// Login name.
        user: String,
        /// What is wrong.
        problem: String,
    },
    /// A level's session defaults are wrong.
    #[error("levels {level}: {problem}")]
    LevelDefaults {
        /// The level.
        level: String,
        /// What is wrong.
        problem: String,
    },
    /// The area tree is inconsistent.
    #[error("area tree: {0}")]
    AreaTree(String),
    /// A policy (mask rule) cannot be applied.
    #[error("policy: {0}")]
    Policy(String),
    /// A lineage entry is wrong.
    #[error("area lineage {old}: {problem}")]
    Lineage {
        /// The retired code.
        old: String,
        /// What is wrong.
        problem: String,
    },
}
