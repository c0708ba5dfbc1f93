#![cfg_attr(test, allow(clippy::panic, clippy::unwrap_used, clippy::expect_used))]
//! The one error type of the aorist core.
//!
//! Every failure a user can cause is an [`AoristError`] naming where (the concept path),
//! what went wrong, and how to fix it. The boundary crate maps [`ErrorKind`] onto the
//! Python exception of the same name in `aorist.errors`; nothing else crosses.

use std::fmt;

/// Which `aorist.errors` class an error becomes in Python.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Declaration,
    DuplicateName,
    UnknownReference,
    UnknownConstraint,
    UnknownDialect,
    UnknownLanguage,
    Cycle,
    UnsatisfiableConstraint,
    NoRecipe,
    UnsupportedStorage,
    /// The constraint catalog or a recipe file is malformed: a bug in aorist itself.
    Catalog,
}

impl ErrorKind {
    /// The name of the Python exception class in `aorist.errors`.
    pub fn python_class(self) -> &'static str {
        match self {
            ErrorKind::Declaration => "DeclarationError",
            ErrorKind::DuplicateName => "DuplicateNameError",
            ErrorKind::UnknownReference => "UnknownReferenceError",
            ErrorKind::UnknownConstraint => "UnknownConstraintError",
            ErrorKind::UnknownDialect => "UnknownDialectError",
            ErrorKind::UnknownLanguage => "UnknownLanguageError",
            ErrorKind::Cycle => "CycleError",
            ErrorKind::UnsatisfiableConstraint => "UnsatisfiableConstraintError",
            ErrorKind::NoRecipe => "NoRecipeError",
            ErrorKind::UnsupportedStorage => "UnsupportedStorageError",
            ErrorKind::Catalog => "CatalogError",
        }
    }
}

/// An error with the concept path it concerns, its cause and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AoristError {
    pub kind: ErrorKind,
    pub path: String,
    pub cause: String,
    pub fix: String,
}

impl AoristError {
    pub fn new(
        kind: ErrorKind,
        path: impl Into<String>,
        cause: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        AoristError {
            kind,
            path: path.into(),
            cause: cause.into(),
            fix: fix.into(),
        }
    }

    /// A malformed catalog or recipe: these are aorist's bugs, not the user's.
    pub fn catalog(path: impl Into<String>, cause: impl Into<String>) -> Self {
        AoristError::new(
            ErrorKind::Catalog,
            path,
            cause,
            "this is a bug in aorist's catalog or recipes; please report it",
        )
    }
}

impl fmt::Display for AoristError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; fix: {}", self.path, self.cause, self.fix)
    }
}

impl std::error::Error for AoristError {}

pub type Result<T> = std::result::Result<T, AoristError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_path_cause_and_fix() {
        let error = AoristError::new(
            ErrorKind::NoRecipe,
            "universe 'u' / dataset 'd'",
            "no recipe",
            "add one",
        );
        assert_eq!(
            error.to_string(),
            "universe 'u' / dataset 'd': no recipe; fix: add one"
        );
        assert_eq!(error.kind.python_class(), "NoRecipeError");
    }
}
