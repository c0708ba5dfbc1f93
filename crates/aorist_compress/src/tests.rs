use super::*;
use aorist_concept::fixtures::universe;
use aorist_concept::ConceptTree;
use aorist_constraint::{expand, Catalog};
use aorist_recipe::{bind, Language, Preferences, RecipeBook};
use serde_json::json;

#[test]
fn snake_case_handles_acronyms() {
    assert_eq!(snake_case("ConvertedToCSV"), "converted_to_csv");
    assert_eq!(snake_case("AllAssetsComputed"), "all_assets_computed");
    assert_eq!(snake_case("CSVHeaderRemoved"), "csv_header_removed");
}

fn compressed(tree: &ConceptTree) -> CompressedPlan {
    let catalog = Catalog::builtin().unwrap();
    let dag = expand(tree, &catalog, &["AllAssetsComputed".into()]).unwrap();
    let preferences = Preferences {
        default: vec![Language::Python, Language::Sql],
        per_constraint: Default::default(),
        // The separate steps: a long chain per asset to group.
        fuse: false,
    };
    let bound = bind(
        tree,
        &catalog,
        &dag,
        &RecipeBook::builtin().unwrap(),
        &preferences,
    )
    .unwrap();
    compress(&tree.nodes, &bound)
}

#[test]
fn repeated_steps_become_one_group_each_with_shared_arguments_hoisted() {
    let tree = universe(&[("d", &["alpha", "beta", "gamma"])]);
    let plan = compressed(&tree);
    let names: Vec<&str> = plan.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names[0], "downloaded");
    assert_eq!(plan.groups.len(), 13, "{names:?}");
    let decompressed = &plan.groups[1];
    let tasks: Vec<&str> = decompressed.tasks.iter().map(|t| &**t).collect();
    assert_eq!(
        tasks,
        [
            "alpha_decompressed",
            "beta_decompressed",
            "gamma_decompressed"
        ]
    );
    assert!(decompressed
        .hoisted
        .iter()
        .any(|(name, _)| name == "compression"));
    // Paths and names differ only by the asset name: rows hold just that.
    assert!(
        decompressed.columns.is_empty(),
        "{:?}",
        decompressed.columns
    );
    assert_eq!(decompressed.keys, ["asset"]);
    assert!(decompressed.task_template.is_some());
    let rows: Vec<Vec<&Value>> = decompressed
        .rows
        .iter()
        .map(|row| row.iter().map(|v| &**v).collect())
        .collect();
    assert_eq!(
        rows,
        [[&json!("alpha")], [&json!("beta")], [&json!("gamma")]]
    );
}

#[test]
fn single_letter_names_that_recur_in_literal_text_stay_in_columns() {
    // "a" also occurs in "download": no template reproduces every row, so the values
    // stay explicit rather than be guessed.
    let tree = universe(&[("d", &["a", "b"])]);
    let plan = compressed(&tree);
    let downloaded = &plan.groups[0];
    assert!(downloaded.columns.contains(&"destination".to_string()));
    for (index, group) in plan.groups.iter().enumerate() {
        assert!(
            group.deps.iter().all(|&d| d < index),
            "{} depends forward",
            group.name
        );
    }
}

#[test]
fn colliding_asset_names_take_in_their_dataset() {
    let tree = universe(&[("d1", &["a", "b"]), ("d2", &["a"])]);
    let plan = compressed(&tree);
    let tasks: Vec<&str> = plan.groups[0].tasks.iter().map(|t| &**t).collect();
    assert_eq!(
        tasks,
        ["d1_a_downloaded", "b_downloaded", "d2_a_downloaded"]
    );
}

#[test]
fn names_stay_unique_when_paths_join_alike() {
    // "x_y" + "z" and "x" + "y_z" both join to "x_y_z_downloaded".
    let tree = universe(&[("x_y", &["z"]), ("x", &["y_z"])]);
    let plan = compressed(&tree);
    let mut all: Vec<&str> = plan
        .groups
        .iter()
        .flat_map(|g| g.tasks.iter().map(|t| &**t))
        .collect();
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), count);
}

#[test]
fn long_names_are_cut_to_63_bytes_with_a_stable_hash() {
    let long = "a".repeat(60);
    let tree = universe(&[("d", &[long.as_str(), "b"])]);
    let plan = compressed(&tree);
    let all: Vec<&str> = plan
        .groups
        .iter()
        .flat_map(|g| g.tasks.iter().map(|t| &**t))
        .collect();
    assert!(
        all.iter().all(|name| name.len() <= naming::MAX_NAME),
        "{all:?}"
    );
    let again = compressed(&tree);
    assert_eq!(plan, again);
}

/// A chain of `depth` steps of one constraint, each depending on the one before (the
/// shape derived assets will have).
fn chain(depth: usize) -> BoundPlan {
    let constraint: Arc<str> = Arc::from("Derived");
    BoundPlan {
        settings: Vec::new(),
        functions: Vec::new(),
        steps: (0..depth)
            .map(|id| aorist_recipe::BoundStep {
                id,
                constraint: constraint.clone(),
                covers: Vec::new(),
                node: 0,
                recipe: None,
                args: Vec::new(),
                deps: id.checked_sub(1).into_iter().collect(),
                publishes: None,
                retries: 0,
                timeout_minutes: 60,
            })
            .collect(),
        recipes: Vec::new(),
    }
}

#[test]
fn a_deep_chain_compresses_without_recursion() {
    // Walks are iterative: a recursive one would exhaust the test thread's stack long
    // before 20,000 levels.
    let depth = 20_000;
    let tree = universe(&[]);
    let plan = compress(&tree.nodes, &chain(depth));
    // One constraint chained on itself cannot loop as one group: one group per level.
    assert_eq!(plan.groups.len(), depth);
    for (index, group) in plan.groups.iter().enumerate() {
        let expected: Vec<usize> = index.checked_sub(1).into_iter().collect();
        assert_eq!(group.deps, expected);
    }
    let mut names: Vec<&str> = plan
        .groups
        .iter()
        .flat_map(|g| g.tasks.iter().map(|t| &**t))
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), depth, "task names stay unique");
}

fn all_tasks(plan: &CompressedPlan) -> Vec<&str> {
    plan.groups
        .iter()
        .flat_map(|g| g.tasks.iter().map(|t| &**t))
        .collect()
}

fn assert_unique_ignoring_case(names: &[&str]) {
    let mut folded: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    folded.sort();
    let count = folded.len();
    folded.dedup();
    assert_eq!(folded.len(), count, "{names:?}");
}

#[test]
fn names_apart_only_by_case_take_in_their_dataset() {
    let tree = universe(&[("x", &["Edges"]), ("y", &["edges"])]);
    let plan = compressed(&tree);
    let tasks: Vec<&str> = plan.groups[0].tasks.iter().map(|t| &**t).collect();
    assert_eq!(tasks, ["x_Edges_downloaded", "y_edges_downloaded"]);
    assert_unique_ignoring_case(&all_tasks(&plan));
}

#[test]
fn long_names_that_join_alike_are_numbered_apart() {
    // Three paths that join to one string longer than 63 bytes: each numbered name is
    // cut and hashed from its own text, so the cuts stay apart.
    let p = "p".repeat(50);
    let datasets = [format!("{p}_q_r"), format!("{p}_q"), p.clone()];
    let assets = ["s", "r_s", "q_r_s"];
    let spec: Vec<(&str, &[&str])> = datasets
        .iter()
        .zip(&assets)
        .map(|(d, a)| (d.as_str(), std::slice::from_ref(a)))
        .collect();
    let tree = universe(&spec);
    let plan = compressed(&tree);
    let all = all_tasks(&plan);
    assert!(all.iter().all(|n| n.len() <= naming::MAX_NAME), "{all:?}");
    assert_unique_ignoring_case(&all);
}

#[test]
fn numbering_skips_a_number_another_name_holds() {
    let mut names = vec!["a_x".to_string(), "A_X".to_string(), "a_x_2".to_string()];
    naming::number_duplicates(&mut names);
    assert_eq!(names, ["a_x", "A_X_3", "a_x_2"]);
}
