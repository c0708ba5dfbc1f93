use super::*;
use aorist_compress::compress;
use aorist_concept::fixtures::universe;
use aorist_constraint::{expand, Catalog};
use aorist_recipe::{bind, Preferences, RecipeBook};

fn module(preferences: Vec<Language>, fuse: bool) -> Module {
    let tree = universe(&[("d", &["alpha", "beta"])]);
    let catalog = Catalog::builtin().unwrap();
    let book = RecipeBook::builtin().unwrap();
    let dag = expand(&tree, &catalog, &["AllAssetsComputed".into()]).unwrap();
    let preferences = Preferences {
        default: preferences,
        per_constraint: Default::default(),
        fuse,
    };
    let bound = bind(&tree, &catalog, &dag, &book, &preferences).unwrap();
    let plan = compress(&tree.nodes, &bound);
    lower(
        &plan,
        &catalog,
        &book,
        Language::Python,
        "flow",
        &["AllAssetsComputed".into()],
    )
    .unwrap()
}

#[test]
fn each_recipe_is_defined_once_and_imports_are_grouped() {
    // Unfused: the SQL recipe of TemporaryTableCreated is bound.
    let module = module(vec![Language::Python, Language::Sql], false);
    let mut names: Vec<&str> = module
        .definitions
        .iter()
        .map(|d| match d {
            Definition::Function { name, .. } | Definition::Constant { name, .. } => name.as_str(),
        })
        .collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count);
    assert!(names.contains(&"run_sql") && names.contains(&"SQL_CREATE_TEMPORARY_TABLE"));
    let blank = module.imports.iter().position(String::is_empty).unwrap();
    assert!(module.imports[blank + 1..]
        .iter()
        .all(|i| i.contains("duckdb") || i.contains("pyarrow")));
    assert!(module.libraries.contains(&"duckdb".to_string()));
}

#[test]
fn repeated_steps_loop_over_a_table_and_sql_placeholders_carry_roles() {
    let module = module(vec![Language::Python, Language::Sql], false);
    let downloaded = &module.steps[0];
    // Paths and task names are templates over the asset name: rows hold only it.
    assert_eq!(
        downloaded.table.as_ref().map(|t| t.columns.clone()),
        Some(vec!["asset".to_string()])
    );
    assert!(downloaded.task_template.is_some());
    assert!(matches!(downloaded.body.as_slice(), [Stmt::For { .. }]));
    let sql = module.definitions.iter().find_map(|d| match d {
        Definition::Constant {
            name,
            value: Expr::Str { value },
            ..
        } if name == "SQL_CREATE_TEMPORARY_TABLE" => Some(value.clone()),
        _ => None,
    });
    assert!(sql.unwrap().contains("{table:identifier}"));
}

#[test]
fn bash_recipes_run_through_the_runtime_with_positional_arguments() {
    let module = module(vec![Language::Bash, Language::Python, Language::Sql], true);
    let decompressed = module
        .steps
        .iter()
        .find(|s| s.constraint == "Decompressed")
        .unwrap();
    let Some(Stmt::For { body, .. }) = decompressed.body.first() else {
        panic!("expected a loop");
    };
    let Some(Stmt::Expr {
        value: Expr::Call { func, args, kwargs },
    }) = body.get(1)
    else {
        panic!("expected a call");
    };
    assert_eq!(func, "run_bash");
    assert!(kwargs.is_empty());
    assert_eq!(args.len(), 5);
}

#[test]
fn a_fused_step_is_named_for_its_recipe_and_says_what_it_makes_true() {
    let module = module(vec![Language::Python, Language::Sql], true);
    let fused = module
        .steps
        .iter()
        .find(|s| s.name == "source_loaded")
        .expect("a fused step");
    assert_eq!(fused.constraint, "TemporaryTableDropped");
    assert_eq!(
        fused.covers,
        [
            "Decompressed",
            "HeaderRemoved",
            "ConvertedToCSV",
            "StoredInLake",
            "TemporaryTableCreated",
            "ConvertedToTargetEncoding",
            "TablePublished"
        ]
    );
    assert!(fused
        .doc
        .starts_with("One call makes these true, in order. Decompressed: "));
    assert!(!module.steps.iter().any(|s| s.constraint == "Decompressed"));
    // Downloads write only their own files: a script runs them in the background.
    assert!(module.steps[0].parallel && !fused.parallel);
}
