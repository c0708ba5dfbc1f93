#![cfg_attr(test, allow(clippy::panic, clippy::unwrap_used, clippy::expect_used))]
//! The cross-language AST and lowering a compressed plan to it.
//!
//! The AST says what a program does (settings, recipe definitions, steps of calls and
//! loops) without committing to a syntax; dialects in Python print it as a script, an
//! Airflow DAG, notebook cells or R. User strings only ever appear as `Expr::Str`
//! literals, which every printer escapes; recipe code (trusted, from `recipes/`) appears
//! verbatim in `Definition::source`.

mod lower;

pub use lower::lower;

use std::sync::Arc;

use aorist_recipe::Language;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "node")]
pub enum Expr {
    Str {
        value: String,
    },
    Int {
        value: i64,
    },
    Float {
        value: f64,
    },
    Bool {
        value: bool,
    },
    None,
    Name {
        id: String,
    },
    List {
        items: Vec<Expr>,
    },
    Tuple {
        items: Vec<Expr>,
    },
    Call {
        func: String,
        args: Vec<Expr>,
        kwargs: Vec<Keyword>,
    },
    /// A string built from literal text and variables (an f-string, `paste0`, ...).
    Format {
        parts: Vec<FormatPart>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "part")]
pub enum FormatPart {
    Text { value: String },
    Field { name: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Keyword {
    pub name: String,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "node")]
pub enum Stmt {
    /// Evaluate an expression (a call) for its effect.
    Expr { value: Expr },
    /// Report that a task is running (printers choose how).
    Progress { task: Expr },
    /// Loop over the rows of a parameter table, unpacking each into `targets`.
    For {
        targets: Vec<String>,
        iter: Expr,
        body: Vec<Stmt>,
    },
}

/// A program-level setting (lake path, ...), overridable by the user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SettingDef {
    pub name: String,
    pub value: Expr,
    pub doc: String,
}

/// A definition the steps use: recipe code pasted verbatim, or a named constant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "node")]
pub enum Definition {
    Function {
        name: String,
        language: Language,
        source: String,
        /// The import lines the function needs (printers may move them inside it).
        imports: Vec<String>,
        /// Where it comes from, e.g. `recipes/python/download.py`.
        origin: String,
        /// Program scaffolding (the runner of a script's steps) rather than code a
        /// step calls; orchestrators that run steps themselves leave it out.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        program: bool,
    },
    Constant {
        name: String,
        value: Expr,
        doc: String,
        /// Where it comes from, e.g. `recipes/sql/create_temporary_table.sql`; empty for
        /// constants of the plan itself (shared parameter tables).
        origin: String,
    },
}

/// A parameter table: one row per task of a loop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<String>,
    /// The rows; `None` when `shared` names the module-level constant holding them
    /// (a large universe would otherwise carry each shared table once per step).
    pub rows: Option<Expr>,
    /// The module-level constant holding these rows, when several steps share them.
    pub shared: Option<String>,
}

/// One group of the compressed plan: what it makes true and the code that does it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub name: String,
    pub constraint: String,
    /// The constraints a fused step makes true before `constraint`, in plan order.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub covers: Vec<String>,
    pub doc: String,
    /// Names of the steps that must run first.
    pub deps: Vec<String>,
    pub task_count: usize,
    /// Task names, one per row; empty when `task_template` names the rows.
    pub tasks: Vec<Arc<str>>,
    /// The task name built from the row's keys (`Expr::Format`), when the table has no
    /// task column.
    pub task_template: Option<Expr>,
    /// Per task: the tasks it depends on (empty when `upstream_template` says it).
    pub upstream: Vec<Vec<Arc<str>>>,
    /// Every task's upstream task names, as a list built from the row's keys.
    pub upstream_template: Option<Expr>,
    /// Per task: the qualified name of the table it publishes (empty for a task that
    /// publishes none); an empty list when no task publishes or `outlet_template` says it.
    pub outlets: Vec<String>,
    /// Every task's published table name, built from the row's keys.
    pub outlet_template: Option<Expr>,
    /// Per task: the asset (`dataset.asset`) it works for, or `None` for a task of a
    /// dataset or of the universe (orchestrators with one node per asset group by it).
    pub assets: Vec<Option<Arc<str>>>,
    /// The step checks tables another program makes (`reads` in the catalog): its
    /// `outlets`, always listed, name what this program waits for, not what it announces.
    pub awaits: bool,
    pub retries: u32,
    pub timeout_minutes: u32,
    /// Its tasks write only files of their own: a script may run them in the background.
    pub parallel: bool,
    /// The language of the recipe it runs, if any.
    pub language: Option<Language>,
    pub recipe: Option<String>,
    pub table: Option<Table>,
    pub body: Vec<Stmt>,
}

/// A whole program.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Module {
    pub name: String,
    pub constraints: Vec<String>,
    pub host: Language,
    /// Import lines (host language), deduplicated and sorted, third-party last.
    pub imports: Vec<String>,
    /// Third-party libraries the program needs (pip names).
    pub libraries: Vec<String>,
    pub settings: Vec<SettingDef>,
    pub definitions: Vec<Definition>,
    pub steps: Vec<Step>,
}

#[cfg(test)]
mod tests;
