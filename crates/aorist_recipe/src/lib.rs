#![cfg_attr(test, allow(clippy::panic, clippy::unwrap_used, clippy::expect_used))]
//! Recipes and binding.
//!
//! A recipe is a file under `recipes/` whose leading comment block is a TOML header
//! (the constraint it satisfies, its language, entry point, libraries and parameters,
//! each parameter naming the fact it is resolved from). Binding picks, for each
//! constraint instance, the first language in the preference order that has a recipe,
//! and resolves its parameters from the concept and its ancestors.

mod bind;
mod book;
mod facts;

pub use bind::{bind, Arg, BoundPlan, BoundStep, Preferences, RecipeRef, Setting};
pub use book::{Helper, Language, Param, Recipe, RecipeBook, Runtime};
pub use facts::asset_facts;

#[cfg(test)]
mod tests;
