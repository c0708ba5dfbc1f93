//! Templates: a value that differs by row only where a row's concept names appear
//! (`tmp/snap/snap.ca_astroph.download` for asset `ca_astroph`) is hoisted out of the
//! parameter table as a template over those names, so a row holds only what is
//! genuinely its own.

use serde::Serialize;
use serde_json::Value;

/// A piece of a templated string: literal text, or the value of a row key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "part", rename_all = "lowercase")]
pub enum Part {
    Text { value: String },
    Key { name: String },
}

/// A value whose strings may be templates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "template", rename_all = "lowercase")]
pub enum Templated {
    /// A value the same in every row.
    Value {
        value: Value,
    },
    /// A string built from text and row keys.
    Text {
        parts: Vec<Part>,
    },
    List {
        items: Vec<Templated>,
    },
}

/// Split `text` at occurrences of the keys' values (longest value first at each point).
fn split(text: &str, keys: &[(&str, &str)]) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for (name, value) in keys {
            if !value.is_empty() && rest.starts_with(value) {
                if !literal.is_empty() {
                    parts.push(Part::Text {
                        value: std::mem::take(&mut literal),
                    });
                }
                parts.push(Part::Key {
                    name: (*name).to_string(),
                });
                rest = &rest[value.len()..];
                continue 'scan;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            literal.push(c);
        }
        rest = chars.as_str();
    }
    if !literal.is_empty() {
        parts.push(Part::Text { value: literal });
    }
    parts
}

/// `value` with every occurrence of the keys' values replaced by the keys.
pub fn templatize(value: &Value, keys: &[(&str, &str)]) -> Templated {
    match value {
        Value::String(text) => {
            let parts = split(text, keys);
            if parts.iter().any(|p| matches!(p, Part::Key { .. })) {
                Templated::Text { parts }
            } else {
                Templated::Value {
                    value: value.clone(),
                }
            }
        }
        Value::Array(items) => {
            let items: Vec<Templated> = items.iter().map(|i| templatize(i, keys)).collect();
            if items.iter().all(|i| matches!(i, Templated::Value { .. })) {
                Templated::Value {
                    value: value.clone(),
                }
            } else {
                Templated::List { items }
            }
        }
        _ => Templated::Value {
            value: value.clone(),
        },
    }
}

/// The template's value for one row's keys.
pub fn render(template: &Templated, keys: &[(&str, &str)]) -> Value {
    match template {
        Templated::Value { value } => value.clone(),
        Templated::Text { parts } => Value::String(
            parts
                .iter()
                .map(|part| match part {
                    Part::Text { value } => value.as_str(),
                    Part::Key { name } => keys
                        .iter()
                        .find(|(key, _)| key == name)
                        .map_or("", |(_, value)| value),
                })
                .collect(),
        ),
        Templated::List { items } => Value::Array(items.iter().map(|i| render(i, keys)).collect()),
    }
}

/// Keys a template uses.
pub fn keys_used(template: &Templated, used: &mut Vec<String>) {
    match template {
        Templated::Value { .. } => {}
        Templated::Text { parts } => {
            for part in parts {
                if let Part::Key { name } = part {
                    if !used.contains(name) {
                        used.push(name.clone());
                    }
                }
            }
        }
        Templated::List { items } => items.iter().for_each(|i| keys_used(i, used)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_round_trip_and_prefer_longer_keys() {
        let keys = [("asset", "snap_x"), ("dataset", "snap")];
        let value = json!(["tmp/snap/snap.snap_x.csv", 4]);
        let template = templatize(&value, &keys);
        assert_eq!(render(&template, &keys), value);
        let Templated::List { items } = &template else {
            panic!("{template:?}");
        };
        assert_eq!(
            items[0],
            Templated::Text {
                parts: vec![
                    Part::Text {
                        value: "tmp/".into()
                    },
                    Part::Key {
                        name: "dataset".into()
                    },
                    Part::Text { value: "/".into() },
                    Part::Key {
                        name: "dataset".into()
                    },
                    Part::Text { value: ".".into() },
                    Part::Key {
                        name: "asset".into()
                    },
                    Part::Text {
                        value: ".csv".into()
                    },
                ]
            }
        );
    }
}
