//! The names an asset's replication derives (its lake table, staging view, lake
//! directory and file, staging directory and file, temporary files), recorded as each
//! asset is resolved and checked once all are. Two assets deriving one name would
//! overwrite each other's data while the generated program exits 0, so a shared name
//! is a `DuplicateName` error naming both assets. Names are compared ignoring ASCII case: DuckDB identifiers
//! ignore case, and so do the default file systems of macOS and Windows.
//!
//! Each name is streamed into a hash as it is written (nothing is allocated per
//! asset); names are written out as text only when two hashes meet. Checking a
//! universe is a sort of its names' hashes: O(n log n) for n assets.
//!
//! Files need no check against directories: every lake directory is two names deep
//! (`<location>/<asset>`, `_staging/<dataset>`) and every lake file three, so a file
//! lies in another asset's directory only if the two directories are the same.

use std::fmt::{self, Write};

use aorist_error::{AoristError, ErrorKind, Result};

use crate::lake::{lake_asset, LakeAsset, STAGING_SCHEMA};
use crate::ConceptTree;

/// A kind of derived name, in the order they are checked: a table two assets share is
/// reported before the files that follow from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Derived {
    Table,
    StagingView,
    LakeDir,
    LakeFile,
    StagingDir,
    StagingFile,
    TemporaryFiles,
}

/// Where names can meet: objects of the lake database, paths under the lake, and
/// temporary files (relative to where the program runs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Space {
    Database,
    Lake,
    Temporary,
}

impl Derived {
    const ALL: [Derived; 7] = [
        Derived::Table,
        Derived::StagingView,
        Derived::LakeDir,
        Derived::LakeFile,
        Derived::StagingDir,
        Derived::StagingFile,
        Derived::TemporaryFiles,
    ];

    fn space(self) -> Space {
        match self {
            Derived::Table | Derived::StagingView => Space::Database,
            Derived::LakeDir | Derived::LakeFile | Derived::StagingDir | Derived::StagingFile => {
                Space::Lake
            }
            Derived::TemporaryFiles => Space::Temporary,
        }
    }

    /// Write the name: an object of the database as the SQL that names it
    /// (`"d"."a"`), a path as it is.
    fn write(self, view: &LakeAsset, out: &mut impl Write) -> fmt::Result {
        match self {
            Derived::Table => {
                let [dataset, asset] = view.target_table();
                quoted(out, |name| name.write_str(dataset))?;
                out.write_char('.')?;
                quoted(out, |name| name.write_str(asset))
            }
            Derived::StagingView => {
                quoted(out, |name| name.write_str(STAGING_SCHEMA))?;
                out.write_char('.')?;
                quoted(out, |name| view.write_staging_view_name(name))
            }
            Derived::LakeDir => out.write_str(&view.target_dir),
            Derived::LakeFile => view.write_target_file(out),
            Derived::StagingDir => view.write_staging_dir(out),
            Derived::StagingFile => view.write_staging_file(out),
            Derived::TemporaryFiles => {
                view.write_temporary_prefix(out)?;
                out.write_char('*')
            }
        }
    }

    fn text(self, view: &LakeAsset) -> String {
        let mut text = String::new();
        let _ = self.write(view, &mut text);
        match self.space() {
            Space::Database => text,
            Space::Lake | Space::Temporary => format!("'{text}'"),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Derived::Table => "lake table",
            Derived::StagingView => "staging view",
            Derived::LakeDir => "lake directory",
            Derived::LakeFile => "lake file",
            Derived::StagingDir => "staging directory",
            Derived::StagingFile => "staging file",
            Derived::TemporaryFiles => "temporary files",
        }
    }

    /// The concept a name belongs to: a dataset's assets share its staging directory.
    fn owner(self, tree: &ConceptTree, node: usize) -> usize {
        match self {
            Derived::StagingDir => tree.nodes.get(node).and_then(|n| n.parent).unwrap_or(node),
            _ => node,
        }
    }
}

/// Writes what it is given as the inside of a double-quoted SQL identifier.
struct Quoted<'a, W>(&'a mut W);

impl<W: Write> Write for Quoted<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for (index, piece) in text.split('"').enumerate() {
            if index > 0 {
                self.0.write_str("\"\"")?;
            }
            self.0.write_str(piece)?;
        }
        Ok(())
    }
}

fn quoted<W: Write>(
    out: &mut W,
    name: impl FnOnce(&mut Quoted<'_, W>) -> fmt::Result,
) -> fmt::Result {
    out.write_char('"')?;
    name(&mut Quoted(out))?;
    out.write_char('"')
}

/// FNV-1a over the ASCII-lowercased text written to it, after its space.
struct Folded(u64);

impl Folded {
    fn new(space: Space) -> Folded {
        let mut hash = Folded(0xcbf2_9ce4_8422_2325);
        hash.byte(space as u8);
        hash
    }

    fn byte(&mut self, byte: u8) {
        self.0 ^= u64::from(byte);
        self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

impl Write for Folded {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        for byte in text.bytes() {
            self.byte(byte.to_ascii_lowercase());
        }
        Ok(())
    }
}

/// The names the resolved assets derive, checked all at once by [`DerivedNames::check`].
#[derive(Debug, Default)]
pub struct DerivedNames {
    /// (the folded hash of a name, the asset (concept node) deriving it, which name).
    names: Vec<(u64, usize, Derived)>,
    /// The dataset whose staging directory was recorded last. The assets of a dataset
    /// share it and mostly arrive one after the other: it is recorded once per run of
    /// them (more often is harmless, one owner never collides with itself).
    staged: Option<usize>,
}

/// A name as an error shows it: the asset deriving it, which name, its text.
type Named = (usize, Derived, String);

impl DerivedNames {
    /// Room for the names of every asset of `tree`.
    pub fn for_tree(tree: &ConceptTree) -> DerivedNames {
        let assets = tree
            .nodes
            .iter()
            .filter(|node| node.kind == crate::NodeKind::Asset)
            .count();
        DerivedNames {
            names: Vec::with_capacity(assets * Derived::ALL.len()),
            staged: None,
        }
    }

    /// Record the names `view`, the replication of the asset at `node`, derives.
    pub fn add(&mut self, tree: &ConceptTree, node: usize, view: &LakeAsset) {
        for derived in Derived::ALL {
            if derived == Derived::StagingDir {
                let dataset = derived.owner(tree, node);
                if self.staged.replace(dataset) == Some(dataset) {
                    continue;
                }
            }
            let mut hash = Folded::new(derived.space());
            let _ = derived.write(view, &mut hash);
            self.names.push((hash.0, node, derived));
        }
    }

    /// A name two assets derive is a `DuplicateName` error naming both. Of several, the
    /// one reported is the first a walk in declaration order would meet.
    ///
    /// Sorting brings equal hashes together (a hash table of a million names would
    /// spend its time on cache misses); their names are written out and compared only
    /// then, so a mere hash collision is no error.
    pub fn check(mut self, tree: &ConceptTree) -> Result<()> {
        self.names.sort_unstable();
        let mut first: Option<(Named, Named)> = None;
        for run in self.names.chunk_by(|a, b| a.0 == b.0) {
            let owner = |(_, node, derived): &(u64, usize, Derived)| derived.owner(tree, *node);
            if run.iter().all(|entry| owner(entry) == owner(&run[0])) {
                continue;
            }
            if let Some(found) = first_in_run(tree, run)? {
                let key = |(_, now): &(Named, Named)| (now.0, now.1);
                if first.as_ref().is_none_or(|seen| key(&found) < key(seen)) {
                    first = Some(found);
                }
            }
        }
        match first {
            Some((earlier, now)) => Err(collision(tree, earlier, now)),
            None => Ok(()),
        }
    }
}

/// In names with one hash, sorted by asset: the first pair of different owners whose
/// names are equal ignoring case, as (earlier, later).
fn first_in_run(
    tree: &ConceptTree,
    run: &[(u64, usize, Derived)],
) -> Result<Option<(Named, Named)>> {
    let mut texts: Vec<Option<String>> = vec![None; run.len()];
    for later in 1..run.len() {
        let (_, node, derived) = run[later];
        for earlier in 0..later {
            let (_, other, other_derived) = run[earlier];
            if other_derived.space() != derived.space()
                || other_derived.owner(tree, other) == derived.owner(tree, node)
            {
                continue;
            }
            let (Some(now), Some(then)) = (
                text_of(tree, run[later], &mut texts[later])?,
                text_of(tree, run[earlier], &mut texts[earlier])?,
            ) else {
                continue;
            };
            if now.eq_ignore_ascii_case(&then) {
                return Ok(Some(((other, other_derived, then), (node, derived, now))));
            }
        }
    }
    Ok(None)
}

/// The text of a recorded name (its asset resolved again), kept in `cache`.
fn text_of(
    tree: &ConceptTree,
    (_, node, derived): (u64, usize, Derived),
    cache: &mut Option<String>,
) -> Result<Option<String>> {
    if cache.is_none() {
        *cache = lake_asset(tree, node)?.map(|view| derived.text(&view));
    }
    Ok(cache.clone())
}

/// The error for `now`'s name, which `earlier` derives too.
fn collision(tree: &ConceptTree, earlier: Named, now: Named) -> AoristError {
    let (earlier_node, earlier_kind, earlier_text) = earlier;
    let (node, kind, text) = now;
    let owner = earlier_kind.owner(tree, earlier_node);
    let same_dataset = tree.nodes.get(earlier_node).and_then(|n| n.dataset)
        == tree.nodes.get(node).and_then(|n| n.dataset);
    let case = if earlier_text == text {
        String::new()
    } else {
        format!(
            " (written {earlier_text} there: names that differ only in case are one name \
             to DuckDB and to case-insensitive file systems)"
        )
    };
    let staging = [kind, earlier_kind].contains(&Derived::StagingDir);
    let fix = if staging {
        format!(
            "name no lake directory '{STAGING_SCHEMA}' (neither a MinioLocation nor a dataset \
             whose assets have no lake target): the lake stages files under \
             '{STAGING_SCHEMA}/<dataset>'"
        )
    } else if matches!(kind, Derived::LakeDir | Derived::LakeFile) {
        "give the datasets distinct MinioLocation names (an asset without a lake target lives \
         in the directory named after its dataset), or rename one of the assets"
            .to_string()
    } else if same_dataset {
        "rename one of the two assets so that their names differ in more than case".to_string()
    } else {
        "rename one of the datasets or assets so that their names differ in more than case"
            .to_string()
    };
    let harm = if staging {
        "the table's files would lie among the dataset's staged files"
    } else {
        "one asset would overwrite the other's data"
    };
    let whose = format!(
        "the {} of {}",
        earlier_kind.describe(),
        tree.display_path(owner)
    );
    let what = if kind == Derived::StagingDir {
        format!("its dataset's {} {text}", kind.describe())
    } else {
        format!("its {} {text}", kind.describe())
    };
    AoristError::new(
        ErrorKind::DuplicateName,
        tree.display_path(node),
        format!("{what} is also {whose}{case}, so {harm}"),
        fix,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A universe of gzip TSV assets replicated to ORC: (dataset, location, assets).
    fn universe(datasets: &[(&str, &str, &[&str])]) -> ConceptTree {
        crate::fixtures::universe_at(datasets)
    }

    fn recorded(tree: &ConceptTree) -> DerivedNames {
        let mut names = DerivedNames::for_tree(tree);
        for node in 0..tree.nodes.len() {
            if let Some(view) = lake_asset(tree, node).unwrap() {
                names.add(tree, node, &view);
            }
        }
        names
    }

    fn check(tree: &ConceptTree) -> Result<()> {
        recorded(tree).check(tree)
    }

    #[test]
    fn distinct_assets_pass_even_where_joined_names_once_met() {
        // `a` + `b__c` and `a__b` + `c` once shared the staging view `a__b__c`.
        let tree = universe(&[("a", "a", &["b__c"]), ("a__b", "a__b", &["c"])]);
        check(&tree).unwrap();
        let views: Vec<String> = (0..tree.nodes.len())
            .filter_map(|node| lake_asset(&tree, node).unwrap())
            .map(|view| view.staging_view().join("/"))
            .collect();
        assert_eq!(views, ["_staging/a.b__c", "_staging/a__b.c"]);
    }

    #[test]
    fn a_shared_location_and_asset_name_names_both_assets_and_the_fix() {
        let tree = universe(&[("a", "lake", &["e", "f"]), ("b", "lake", &["e"])]);
        let error = check(&tree).unwrap_err();
        assert_eq!(error.kind, ErrorKind::DuplicateName);
        assert_eq!(error.path, "universe 'u' / dataset 'b' / asset 'e'");
        assert_eq!(
            error.cause,
            "its lake directory 'lake/e' is also the lake directory of universe 'u' / \
             dataset 'a' / asset 'e', so one asset would overwrite the other's data"
        );
        assert!(
            error.fix.contains("distinct MinioLocation names"),
            "{error}"
        );
    }

    #[test]
    fn names_that_differ_only_in_case_meet() {
        let tree = universe(&[("a", "Lake", &["edges"]), ("b", "lake", &["EDGES"])]);
        let error = check(&tree).unwrap_err();
        assert_eq!(error.kind, ErrorKind::DuplicateName);
        assert!(
            error.cause.contains("its lake directory 'lake/EDGES'"),
            "{error}"
        );
        assert!(
            error.cause.contains("written 'Lake/edges' there"),
            "{error}"
        );
        assert!(
            error.cause.contains("dataset 'a' / asset 'edges'"),
            "{error}"
        );

        // Datasets apart only by case (the declaration refuses them; the core does not
        // rely on it): the table is reported first.
        let tree = universe(&[("g", "one", &["x"]), ("G", "two", &["x"])]);
        let error = check(&tree).unwrap_err();
        assert!(
            error
                .cause
                .starts_with("its lake table \"G\".\"x\" is also the lake table of"),
            "{error}"
        );
        assert!(error.fix.contains("differ in more than case"), "{error}");
    }

    #[test]
    fn a_location_over_the_staging_area_is_refused() {
        // `_staging/d` would hold both asset `d`'s ORC file and dataset `d`'s staged files.
        let tree = universe(&[("d", "one", &["x"]), ("e", "_staging", &["d"])]);
        let error = check(&tree).unwrap_err();
        assert_eq!(error.path, "universe 'u' / dataset 'e' / asset 'd'");
        assert!(
            error.cause.starts_with(
                "its lake directory '_staging/d' is also the staging directory of \
                 universe 'u' / dataset 'd'"
            ),
            "{error}"
        );
        assert!(error.fix.contains("'_staging'"), "{error}");
        // Elsewhere under `_staging` nothing meets.
        check(&universe(&[
            ("d", "one", &["x"]),
            ("e", "_staging", &["y"]),
        ]))
        .unwrap();
    }

    #[test]
    fn assets_of_one_dataset_share_its_staging_directory_and_temporary_directory() {
        let tree = universe(&[("d", "d", &["a", "b", "c"]), ("e", "e", &["a"])]);
        check(&tree).unwrap();
    }

    #[test]
    fn a_hash_collision_is_not_a_name_collision() {
        // Pretend the lake directories of `a.x` (node 2), `b.y` (node 4) and `c.Y`
        // (node 6) share one hash: only the two that are one name ignoring case meet.
        let tree = universe(&[("a", "a", &["x"]), ("b", "b", &["y"]), ("c", "b", &["Y"])]);
        let forge = |names: &mut DerivedNames, nodes: &[usize]| {
            for entry in &mut names.names {
                if entry.2 == Derived::LakeDir && nodes.contains(&entry.1) {
                    entry.0 = 42;
                }
            }
        };
        let mut names = recorded(&tree);
        forge(&mut names, &[2, 4]);
        let mut apart = DerivedNames::for_tree(&tree);
        apart.names = names
            .names
            .iter()
            .filter(|entry| entry.1 != 6)
            .copied()
            .collect();
        apart.check(&tree).unwrap();
        let mut names = recorded(&tree);
        forge(&mut names, &[2, 4, 6]);
        let error = names.check(&tree).unwrap_err();
        assert!(error.cause.starts_with("its lake directory 'b/Y' is also the lake directory of universe 'u' / dataset 'b' / asset 'y'"), "{error}");
    }

    #[test]
    fn of_several_collisions_the_first_in_declaration_order_is_reported() {
        let tree = universe(&[
            ("a", "lake", &["p", "q"]),
            ("b", "lake", &["q"]),
            ("c", "lake", &["p"]),
        ]);
        let error = check(&tree).unwrap_err();
        assert_eq!(error.path, "universe 'u' / dataset 'b' / asset 'q'");
        assert!(error.cause.contains("dataset 'a' / asset 'q'"), "{error}");
    }
}
