use super::*;
use aorist_error::ErrorKind;

#[test]
fn builtin_recipes_parse_and_cover_the_replication_flow() {
    let book = RecipeBook::builtin().unwrap();
    for constraint in [
        "Downloaded",
        "Decompressed",
        "HeaderRemoved",
        "ConvertedToCSV",
        "StoredInLake",
        "TemporaryTableCreated",
        "ConvertedToTargetEncoding",
        "TablePublished",
        "TemporaryTableDropped",
    ] {
        assert!(!book.for_constraint(constraint).is_empty(), "{constraint}");
    }
    assert!(book.runtime(Language::Python, Language::Sql).is_some());
    let download = &book.recipes[book.for_constraint("Downloaded")[&Language::Python][0]];
    assert!(download.body.starts_with("def download("));
    assert!(download.imports.iter().any(|i| i == "import hashlib"));
}

#[test]
fn malformed_headers_are_catalog_errors() {
    let cases = [
        ("python/x.py", "# [recipe]\n# constraint = 1\n"),
        ("python/x.py", "# [recipe]\n# constraint = \"A\"\n# language = \"sql\"\n# entry = \"x\"\n# summary = \"\"\n"),
        ("sql/x.sql", "-- [recipe]\n-- constraint = \"A\"\n-- language = \"sql\"\n-- entry = \"x\"\n-- summary = \"\"\n-- [recipe.parameters]\n-- t = { from = \"x\", doc = \"\" }\nSELECT 1"),
        ("python/x.py", "def f(): pass\n"),
    ];
    for (id, text) in cases {
        let error = RecipeBook::from_files([(id, text)]).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Catalog, "{id}: {text}");
    }
}

#[test]
fn unknown_language_names_the_choices() {
    let error = Language::parse("cobol").unwrap_err();
    assert_eq!(error.kind, ErrorKind::UnknownLanguage);
    assert!(error.fix.contains("python, sql, bash, r"));
}

const RECIPE_USING: &str = "# [recipe]\n# constraint = \"A\"\n# language = \"python\"\n# entry = \"f\"\n# summary = \"s\"\n# uses = [\"outer\"]\ndef f(): pass\n";

fn helper(name: &str, uses: &str) -> String {
    format!("# [helper]\n# name = \"{name}\"\n# language = \"python\"\n# summary = \"s\"\n# uses = [{uses}]\ndef {name}(): pass\n")
}

#[test]
fn a_recipe_using_an_unknown_helper_fails_when_the_book_loads() {
    let error = RecipeBook::from_files([("python/a.py", RECIPE_USING)]).unwrap_err();
    assert_eq!(error.kind, ErrorKind::Catalog);
    assert!(error.cause.contains("\"outer\""), "{}", error.cause);
}

#[test]
fn helpers_come_after_the_helpers_they_use_once_each_even_in_a_cycle() {
    let outer = helper("outer", "\"inner\", \"base\"");
    let inner = helper("inner", "\"base\", \"outer\"");
    let base = helper("base", "");
    let book = RecipeBook::from_files([
        ("python/a.py", RECIPE_USING),
        ("runtime/python/outer.py", outer.as_str()),
        ("runtime/python/inner.py", inner.as_str()),
        ("runtime/python/base.py", base.as_str()),
    ])
    .unwrap();
    let order: Vec<&str> = book
        .helpers_for(Language::Python, &book.recipes[0].uses)
        .iter()
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(order, ["base", "inner", "outer"]);
    assert!(book
        .helpers_for(Language::R, &book.recipes[0].uses)
        .is_empty());
}

#[test]
fn builtin_programs_carry_their_runner() {
    let book = RecipeBook::builtin().unwrap();
    let runners: Vec<&str> = book
        .helpers
        .iter()
        .filter(|h| h.program && h.language == Language::Python)
        .map(|h| h.name.as_str())
        .collect();
    assert_eq!(runners, ["Run"]);
}

#[test]
fn temporary_files_are_the_earlier_steps_outputs_but_the_download() {
    use aorist_constraint::{expand, Catalog};
    let tree = aorist_concept::fixtures::universe(&[("d", &["g"])]);
    let catalog = Catalog::builtin().unwrap();
    let dag = expand(&tree, &catalog, &["AllAssetsComputed".into()]).unwrap();
    let preferences = Preferences {
        default: vec![Language::Python, Language::Sql],
        per_constraint: Default::default(),
        // The separate steps each write a temporary file.
        fuse: false,
    };
    let plan = bind(
        &tree,
        &catalog,
        &dag,
        &RecipeBook::builtin().unwrap(),
        &preferences,
    )
    .unwrap();
    let step = plan
        .steps
        .iter()
        .find(|s| &*s.constraint == "TemporaryFilesRemoved")
        .unwrap();
    let args: std::collections::BTreeMap<&str, &Arg> = plan
        .parameters(step)
        .iter()
        .map(|name| &**name)
        .zip(&step.args)
        .collect();
    let literal = |name: &str| match args[name] {
        Arg::Literal(value) => serde_json::Value::clone(value),
        Arg::Setting(setting) => panic!("{name} is the setting {setting}"),
    };
    // In plan order; the download (tmp/d.g.download) is the cache a rerun starts from.
    assert_eq!(
        literal("files"),
        serde_json::json!(["tmp/d.g.decompressed", "tmp/d.g.noheader", "tmp/d.g.csv"])
    );
    assert_eq!(literal("staged"), serde_json::json!("_staging/d/g.csv"));
    assert_eq!(
        args["lake_path"],
        &Arg::Setting(std::sync::Arc::new("LAKE_PATH".into()))
    );
}

/// The bound plan of the fixture universe (gzip TSV with header lines, into the lake).
fn bound_with(default: Vec<Language>, per: &[(&str, Vec<Language>)], fuse: bool) -> BoundPlan {
    use aorist_constraint::{expand, Catalog};
    let tree = aorist_concept::fixtures::universe(&[("d", &["g", "h"])]);
    let catalog = Catalog::builtin().unwrap();
    let dag = expand(&tree, &catalog, &["AllAssetsComputed".into()]).unwrap();
    let preferences = Preferences {
        default,
        per_constraint: per
            .iter()
            .map(|(c, l)| (c.to_string(), l.clone()))
            .collect(),
        fuse,
    };
    bind(
        &tree,
        &catalog,
        &dag,
        &RecipeBook::builtin().unwrap(),
        &preferences,
    )
    .unwrap()
}

fn recipes_of(plan: &BoundPlan) -> Vec<&str> {
    plan.steps
        .iter()
        .filter_map(|s| plan.recipe_id(s).map(|id| &**id))
        .collect()
}

#[test]
fn a_fused_recipe_replaces_the_steps_it_covers_when_it_is_cheaper() {
    let fused = bound_with(vec![Language::Python, Language::Sql], &[], true);
    let separate = bound_with(vec![Language::Python, Language::Sql], &[], false);
    // Per asset: download, the fused load, the check, the cleanup (and the gathering steps).
    let loads: Vec<&BoundStep> = fused
        .steps
        .iter()
        .filter(|s| fused.recipe_id(s).map(|id| &**id) == Some("python/load_source.py"))
        .collect();
    assert_eq!(loads.len(), 2);
    assert!(fused.steps.len() + 2 * 7 == separate.steps.len());
    // Ids are positions and dependencies point backwards to the download.
    for (position, step) in fused.steps.iter().enumerate() {
        assert_eq!(step.id, position);
        assert!(step.deps.iter().all(|&d| d < position));
    }
    for load in loads {
        assert_eq!(load.deps.len(), 1);
        assert_eq!(&*fused.steps[load.deps[0]].constraint, "Downloaded");
        assert_eq!(fused.label(load), "source_loaded");
    }
    assert!(!recipes_of(&separate).contains(&"python/load_source.py"));
    assert!(recipes_of(&separate).contains(&"python/decompress.py"));
}

#[test]
fn a_fused_recipe_is_not_chosen_over_a_preferred_language() {
    // Decompression preferred in Bash: the Python recipe may not make it true.
    let plan = bound_with(
        vec![Language::Python, Language::Sql],
        &[("Decompressed", vec![Language::Bash])],
        true,
    );
    let recipes = recipes_of(&plan);
    assert!(recipes.contains(&"bash/decompress.sh"));
    assert!(!recipes.contains(&"python/load_source.py"));
    // R first (the R dialect's order): the R recipes are bound, one per constraint.
    let plan = bound_with(
        vec![Language::R, Language::Sql, Language::Python],
        &[],
        true,
    );
    assert!(!recipes_of(&plan).contains(&"python/load_source.py"));
}
