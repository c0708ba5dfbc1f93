//! Parsing and checking the constraint catalog.

use aorist_concept::NodeKind;
use aorist_error::{AoristError, Result};
use serde::Deserialize;

/// A condition under which a constraint attaches to a concept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Implicit: the concept is of the constraint's kind.
    Kind,
    Replicated,
    SourceCompressed,
    SourceHasHeader,
    SourceNotCsv,
    LakeTable,
    /// The asset's table is in the embedded lake (not an object store, Spark or PostgreSQL).
    EmbeddedLake,
    Derived,
    Query,
    Function,
    Model,
    Predictions,
    /// The asset belongs to a dataset another program computes (see `split`).
    External,
}

impl Condition {
    fn parse(name: &str) -> Option<Condition> {
        match name {
            "replicated" => Some(Condition::Replicated),
            "source_compressed" => Some(Condition::SourceCompressed),
            "source_has_header" => Some(Condition::SourceHasHeader),
            "source_not_csv" => Some(Condition::SourceNotCsv),
            "lake_table" => Some(Condition::LakeTable),
            "embedded_lake" => Some(Condition::EmbeddedLake),
            "derived" => Some(Condition::Derived),
            "query" => Some(Condition::Query),
            "function" => Some(Condition::Function),
            "model" => Some(Condition::Model),
            "predictions" => Some(Condition::Predictions),
            "external" => Some(Condition::External),
            _ => None,
        }
    }

    /// What a concept must satisfy, as a predicate ("... that {describe}").
    pub fn describe(self) -> &'static str {
        match self {
            Condition::Kind => "is a concept of its kind",
            Condition::Replicated => "is replicated from a file source into the lake",
            Condition::SourceCompressed => "has a compressed source",
            Condition::SourceHasHeader => "has a source with header lines",
            Condition::SourceNotCsv => "has a source that is not plain CSV",
            Condition::LakeTable => "writes a lake table",
            Condition::EmbeddedLake => "writes a table of the embedded lake",
            Condition::Derived => "is computed from other assets",
            Condition::Query => "is computed by a SQL query",
            Condition::Function => "is computed by a Python function",
            Condition::Model => "is a model trained on a table",
            Condition::Predictions => "holds a model's predictions",
            Condition::External => "belongs to a dataset another program computes",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    SelfConcept,
    Descendants,
    Ancestor,
    /// The assets the concept is computed from (its `source_asset_names`).
    Sources,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    /// The constraint required, or alternatives in order of preference (`any_of`).
    pub options: Vec<String>,
    pub on: Mapping,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConstraintDecl {
    pub name: String,
    pub attach: NodeKind,
    pub when: Vec<Condition>,
    pub doc: String,
    pub recipe: bool,
    pub output: Option<String>,
    pub publishes: Option<String>,
    /// The fact naming the table, made by another program, the step reads: an
    /// orchestrator schedules the program on it (`publishes`' counterpart).
    pub reads: Option<String>,
    pub retries: u32,
    /// How long an orchestrator lets one run of the step take, in minutes.
    pub timeout_minutes: u32,
    /// The step writes only files of its own (no shared writer such as lake.duckdb):
    /// a program may run it beside other steps.
    pub parallel: bool,
    pub requires: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub constraints: Vec<ConstraintDecl>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    constraint: Vec<RawConstraint>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConstraint {
    name: String,
    attach: String,
    #[serde(default)]
    when: Vec<String>,
    doc: String,
    #[serde(default = "yes")]
    recipe: bool,
    output: Option<String>,
    publishes: Option<String>,
    reads: Option<String>,
    #[serde(default = "one")]
    retries: u32,
    #[serde(default = "an_hour")]
    timeout_minutes: u32,
    #[serde(default)]
    parallel: bool,
    #[serde(default)]
    requires: Vec<RawRequirement>,
}

fn yes() -> bool {
    true
}

fn one() -> u32 {
    1
}

fn an_hour() -> u32 {
    60
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    constraint: Option<String>,
    any_of: Option<Vec<String>>,
    on: String,
}

const BUILTIN: &str = include_str!("../catalog.toml");

impl Catalog {
    /// The catalog shipped with aorist.
    pub fn builtin() -> Result<Catalog> {
        Catalog::parse(BUILTIN)
    }

    /// Parse and check a catalog: every name, kind, condition and reference must resolve.
    pub fn parse(text: &str) -> Result<Catalog> {
        let raw: RawCatalog = toml::from_str(text)
            .map_err(|error| AoristError::catalog("constraint catalog", error.to_string()))?;
        let mut constraints = Vec::new();
        for c in raw.constraint {
            let path = format!("constraint catalog / {}", c.name);
            let attach = NodeKind::parse(&c.attach).ok_or_else(|| {
                AoristError::catalog(path.clone(), format!("unknown concept kind {:?}", c.attach))
            })?;
            let when = c
                .when
                .iter()
                .map(|w| {
                    Condition::parse(w).ok_or_else(|| {
                        AoristError::catalog(path.clone(), format!("unknown condition {w:?}"))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let requires =
                c.requires
                    .into_iter()
                    .map(|r| {
                        let options =
                            match (r.constraint, r.any_of) {
                                (Some(one), None) => vec![one],
                                (None, Some(many)) if !many.is_empty() => many,
                                _ => return Err(AoristError::catalog(
                                    path.clone(),
                                    "a requirement names exactly one of `constraint` or `any_of`",
                                )),
                            };
                        let on = match r.on.as_str() {
                            "self" => Mapping::SelfConcept,
                            "descendants" => Mapping::Descendants,
                            "ancestor" => Mapping::Ancestor,
                            "sources" => Mapping::Sources,
                            other => {
                                return Err(AoristError::catalog(
                                    path.clone(),
                                    format!("unknown mapping {other:?}"),
                                ))
                            }
                        };
                        Ok(Requirement { options, on })
                    })
                    .collect::<Result<Vec<_>>>()?;
            constraints.push(ConstraintDecl {
                name: c.name,
                attach,
                when,
                doc: c.doc,
                recipe: c.recipe,
                output: c.output,
                publishes: c.publishes,
                reads: c.reads,
                retries: c.retries,
                timeout_minutes: c.timeout_minutes,
                parallel: c.parallel,
                requires,
            });
        }
        let catalog = Catalog { constraints };
        for (i, decl) in catalog.constraints.iter().enumerate() {
            if catalog.position(&decl.name) != Some(i) {
                return Err(AoristError::catalog(
                    format!("constraint catalog / {}", decl.name),
                    "declared twice",
                ));
            }
            for requirement in &decl.requires {
                catalog.attach_kind(requirement)?;
            }
        }
        Ok(catalog)
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.constraints.iter().position(|c| c.name == name)
    }

    pub fn get(&self, name: &str) -> Option<&ConstraintDecl> {
        self.constraints.iter().find(|c| c.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.constraints.iter().map(|c| c.name.as_str()).collect()
    }

    /// The concept kind a requirement's options attach to (all options must agree).
    pub fn attach_kind(&self, requirement: &Requirement) -> Result<NodeKind> {
        let mut kinds = requirement.options.iter().map(|option| {
            self.get(option).map(|d| d.attach).ok_or_else(|| {
                AoristError::catalog(
                    format!("constraint catalog / {option}"),
                    "required but not declared",
                )
            })
        });
        let first = kinds.next().unwrap_or_else(|| {
            Err(AoristError::catalog(
                "constraint catalog",
                "empty requirement",
            ))
        })?;
        for kind in kinds {
            if kind? != first {
                return Err(AoristError::catalog(
                    format!("constraint catalog / {}", requirement.options.join(", ")),
                    "alternatives attach to different concept kinds",
                ));
            }
        }
        Ok(first)
    }
}
