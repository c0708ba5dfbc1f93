//! Task names: `<concept path suffix>_<constraint in snake case>`, as short as stays unique.

use std::collections::{HashMap, HashSet};

use aorist_concept::Node;
use aorist_recipe::BoundPlan;

/// `TemporaryTableDropped` -> `temporary_table_dropped`; `ConvertedToCSV` -> `converted_to_csv`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_uppercase();
            if i > 0 && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else if c.is_alphanumeric() {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}

/// One unique name per bound step. Each starts from its innermost concept name (none for
/// the universe) and takes in more of its path while it collides with another.
///
/// Names are unique ignoring ASCII case too: a task name may become a file name (a log
/// file, a notebook cell's output) on a file system that folds case, so `Edges_x` and
/// `edges_x` count as a collision.
///
/// A plan can hold a million steps: collisions are found by sorting names, not by a map
/// from every name to its steps.
pub fn task_names(nodes: &[Node], plan: &BoundPlan) -> Vec<String> {
    let paths: Vec<&[String]> = plan
        .steps
        .iter()
        .map(|step| {
            nodes
                .get(step.node)
                .map_or(&[][..], |node| &node.names[1..])
        })
        .collect();
    let mut snake: HashMap<&str, String> = HashMap::new();
    for step in &plan.steps {
        let label = plan.label(step);
        snake.entry(label).or_insert_with(|| snake_case(label));
    }
    let suffixes: Vec<&str> = plan
        .steps
        .iter()
        .map(|s| snake.get(plan.label(s)).map_or("", String::as_str))
        .collect();
    let mut depth: Vec<usize> = paths.iter().map(|p| p.len().min(1)).collect();
    let render = |i: usize, depth: usize| {
        let path = paths[i];
        let mut parts: Vec<&str> = path[path.len() - depth..]
            .iter()
            .map(String::as_str)
            .collect();
        parts.push(suffixes[i]);
        parts.join("_")
    };
    let mut order: Vec<usize> = (0..plan.steps.len()).collect();
    let names = loop {
        let names: Vec<String> = (0..plan.steps.len()).map(|i| render(i, depth[i])).collect();
        order.sort_by(|&a, &b| folded_cmp(&names[a], &names[b]));
        let mut collided = false;
        let mut progressed = false;
        for run in order.chunk_by(|&a, &b| names[a].eq_ignore_ascii_case(&names[b])) {
            if run.len() > 1 {
                collided = true;
                for &i in run {
                    if depth[i] < paths[i].len() {
                        depth[i] += 1;
                        progressed = true;
                    }
                }
            }
        }
        if !collided || !progressed {
            break names;
        }
    };
    // Distinct paths can still join to one string ("a_b" + "c" vs "a" + "b_c"): number
    // the later ones, in plan order, so names stay unique and deterministic.
    let mut names: Vec<String> = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| fit(name, || render(i, paths[i].len())))
        .collect();
    order.sort_by(|&a, &b| folded_cmp(&names[a], &names[b]));
    if order
        .windows(2)
        .any(|w| names[w[0]].eq_ignore_ascii_case(&names[w[1]]))
    {
        number_duplicates(&mut names);
    }
    names
}

/// Compare names ignoring ASCII case, without allocating.
fn folded_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// Number the later of names equal ignoring case (`x`, `x_2`, ...), in plan order,
/// skipping numbers another name holds already.
pub(crate) fn number_duplicates(names: &mut [String]) {
    let mut taken: HashSet<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for name in names.iter_mut() {
        let count = seen.entry(name.to_ascii_lowercase()).or_insert(0);
        *count += 1;
        if *count == 1 {
            continue;
        }
        loop {
            let numbered = format!("{name}_{count}");
            // The hash is of the numbered name: two numbered names cut to one prefix
            // must not share a hash too.
            let numbered = fit(numbered.clone(), || numbered);
            if taken.insert(numbered.to_ascii_lowercase()) {
                *name = numbered;
                break;
            }
            *count += 1;
        }
    }
}

/// The longest name every target accepts: PostgreSQL truncates identifiers at 63 bytes
/// (Airflow allows 250 characters, Python and R any length).
pub const MAX_NAME: usize = 63;

/// `name` if it fits; else its first bytes and a hash of the full descriptive name, so
/// that names stay unique and stable (the hash is FNV-1a: no per-process seed).
fn fit(name: String, descriptive: impl FnOnce() -> String) -> String {
    if name.len() <= MAX_NAME {
        return name;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in descriptive().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let suffix = format!("_{:08x}", hash & 0xffff_ffff);
    let mut cut = MAX_NAME - suffix.len();
    // Names are ASCII identifiers, but never cut inside a character.
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &name[..cut])
}
