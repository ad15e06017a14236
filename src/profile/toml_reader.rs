//! Walks a spanned TOML document key by key.
//!
//! serde stops at the first mistake; a user fixing a profile wants all of
//! them. So tables are read by hand: every getter records the key as known,
//! reports a wrong type without stopping, and `finish` reports the keys
//! nobody asked for, with a "did you mean" from the known ones.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::diagnostic::{Diagnostics, Located, Place, Severity, join};

/// A key and its value from a table of strings, each with its place.
pub type StringPair = (Located<String>, Located<String>);

pub struct Table<'t, 'i> {
    place: Place,
    entries: &'t DeTable<'i>,
    known: Vec<&'static str>,
}

impl<'t, 'i> Table<'t, 'i> {
    pub fn root(entries: &'t DeTable<'i>, span: Range<usize>) -> Self {
        Table {
            place: Place {
                key: String::new(),
                span,
            },
            entries,
            known: Vec::new(),
        }
    }

    pub fn place(&self) -> &Place {
        &self.place
    }

    /// Whether the key is written in this table (whatever its type).
    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.get_ref().as_ref() == name)
    }

    /// Marks a key as known without reading it (its section was not read
    /// because an error elsewhere already stopped it).
    pub fn skip(&mut self, name: &'static str) {
        self.known.push(name);
    }

    fn get(&mut self, name: &'static str) -> Option<(String, Range<usize>, &'t DeValue<'i>)> {
        self.known.push(name);
        self.entries
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == name)
            .map(|(_, v)| (join(&self.place.key, name), v.span(), v.get_ref()))
    }

    /// A sub-table `[prefix.name]` (or inline table); `None` when absent or not a table.
    pub fn table(&mut self, d: &mut Diagnostics, name: &'static str) -> Option<Table<'t, 'i>> {
        let (key, span, value) = self.get(name)?;
        match value {
            DeValue::Table(entries) => Some(Table {
                place: Place { key, span },
                entries,
                known: Vec::new(),
            }),
            other => {
                type_error(d, &key, &span, other, "a table", &format!("[{key}]"));
                None
            }
        }
    }

    /// `[[name]]`: an array of tables, each with its place (`name[i]`).
    pub fn table_array(&mut self, d: &mut Diagnostics, name: &'static str) -> Option<Vec<Table<'t, 'i>>> {
        let (key, span, value) = self.get(name)?;
        let DeValue::Array(items) = value else {
            type_error(d, &key, &span, value, "an array of tables", &format!("[[{key}]]"));
            return None;
        };
        let mut tables = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_key = format!("{key}[{i}]");
            match item.get_ref() {
                DeValue::Table(entries) => tables.push(Table {
                    place: Place {
                        key: item_key,
                        span: item.span(),
                    },
                    entries,
                    known: Vec::new(),
                }),
                other => type_error(
                    d,
                    &item_key,
                    &item.span(),
                    other,
                    "a table",
                    &format!("[[{key}]]"),
                ),
            }
        }
        Some(tables)
    }

    /// `[name.<any>]`: a table of tables whose keys the user chooses
    /// (`[origins.api]`), each with its name and place.
    pub fn named_tables(
        &mut self,
        d: &mut Diagnostics,
        name: &'static str,
    ) -> Option<Vec<(Located<String>, Table<'t, 'i>)>> {
        let (key, span, value) = self.get(name)?;
        let DeValue::Table(entries) = value else {
            type_error(
                d,
                &key,
                &span,
                value,
                "a table of tables",
                &format!("[{key}.NAME]"),
            );
            return None;
        };
        let mut tables = Vec::with_capacity(entries.len());
        for (k, v) in entries.iter() {
            let entry_key = join(&key, k.get_ref());
            let label = Located {
                value: k.get_ref().to_string(),
                key: entry_key.clone(),
                span: k.span(),
                raw: format!("{:?}", k.get_ref()),
            };
            match v.get_ref() {
                DeValue::Table(inner) => tables.push((
                    label,
                    Table {
                        place: Place {
                            key: entry_key,
                            span: v.span(),
                        },
                        entries: inner,
                        known: Vec::new(),
                    },
                )),
                other => type_error(
                    d,
                    &entry_key,
                    &v.span(),
                    other,
                    "a table",
                    &format!("[{entry_key}]"),
                ),
            }
        }
        Some(tables)
    }

    pub fn string(
        &mut self,
        d: &mut Diagnostics,
        name: &'static str,
        example: &str,
    ) -> Option<Located<String>> {
        let (key, span, value) = self.get(name)?;
        match value {
            DeValue::String(s) => Some(located(s.to_string(), key, span, value)),
            other => {
                type_error(d, &key, &span, other, "a string", &format!("{name} = {example}"));
                None
            }
        }
    }

    pub fn bool(&mut self, d: &mut Diagnostics, name: &'static str) -> Option<Located<bool>> {
        let (key, span, value) = self.get(name)?;
        match value {
            DeValue::Boolean(b) => Some(located(*b, key, span, value)),
            other => {
                type_error(d, &key, &span, other, "true or false", &format!("{name} = true"));
                None
            }
        }
    }

    pub fn integer(
        &mut self,
        d: &mut Diagnostics,
        name: &'static str,
        example: &str,
    ) -> Option<Located<i64>> {
        let (key, span, value) = self.get(name)?;
        let parsed = match value {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        };
        match parsed {
            Some(n) => Some(located(n, key, span, value)),
            None => {
                type_error(
                    d,
                    &key,
                    &span,
                    value,
                    "a whole number",
                    &format!("{name} = {example}"),
                );
                None
            }
        }
    }

    /// An array of strings; each element keeps its own place for messages.
    pub fn string_list(
        &mut self,
        d: &mut Diagnostics,
        name: &'static str,
        example: &str,
    ) -> Option<Located<Vec<Located<String>>>> {
        let (key, span, value) = self.get(name)?;
        let DeValue::Array(items) = value else {
            type_error(
                d,
                &key,
                &span,
                value,
                "a list of strings",
                &format!("{name} = {example}"),
            );
            return None;
        };
        let mut strings = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, item) in items.iter().enumerate() {
            let item_key = format!("{key}[{i}]");
            match item.get_ref() {
                DeValue::String(s) => {
                    strings.push(located(s.to_string(), item_key, item.span(), item.get_ref()))
                }
                other => {
                    type_error(
                        d,
                        &item_key,
                        &item.span(),
                        other,
                        "a string",
                        &format!("{name} = {example}"),
                    );
                    ok = false;
                }
            }
        }
        ok.then(|| located(strings, key, span, value))
    }

    /// A table of string values, e.g. `[stack.tags]`.
    pub fn string_map(
        &mut self,
        d: &mut Diagnostics,
        name: &'static str,
    ) -> Option<Located<Vec<StringPair>>> {
        let (key, span, value) = self.get(name)?;
        let DeValue::Table(entries) = value else {
            type_error(d, &key, &span, value, "a table of strings", &format!("[{key}]"));
            return None;
        };
        let mut pairs = Vec::with_capacity(entries.len());
        for (k, v) in entries.iter() {
            let entry_key = join(&key, k.get_ref());
            match v.get_ref() {
                DeValue::String(s) => pairs.push((
                    Located {
                        value: k.get_ref().to_string(),
                        key: entry_key.clone(),
                        span: k.span(),
                        raw: format!("{:?}", k.get_ref()),
                    },
                    located(s.to_string(), entry_key, v.span(), v.get_ref()),
                )),
                other => type_error(
                    d,
                    &entry_key,
                    &v.span(),
                    other,
                    "a string",
                    &format!("{} = \"value\"", k.get_ref()),
                ),
            }
        }
        Some(located(pairs, key, span, value))
    }

    /// Reports every key in this table that no getter asked for.
    pub fn finish(self, d: &mut Diagnostics) {
        for (k, _) in self.entries.iter() {
            let name = k.get_ref().as_ref();
            if self.known.contains(&name) {
                continue;
            }
            let key = join(&self.place.key, name);
            let fix = match suggest(name, &self.known) {
                Some(close) => format!("did you mean `{close}`? (keys here: {})", self.known.join(", ")),
                None => format!("remove it; keys here: {}", self.known.join(", ")),
            };
            d.push(Severity::Error, &key, &k.span(), None, "unknown key", fix);
        }
    }
}

fn located<T>(value: T, key: String, span: Range<usize>, raw: &DeValue) -> Located<T> {
    Located {
        value,
        key,
        span,
        raw: render(raw),
    }
}

fn type_error(
    d: &mut Diagnostics,
    key: &str,
    span: &Range<usize>,
    found: &DeValue,
    expected: &str,
    example: &str,
) {
    d.push(
        Severity::Error,
        key,
        span,
        Some(render(found)),
        format!("expected {expected}, found {}", found.type_str()),
        format!("write it as {}", with_users_value(example, found, expected)),
    );
}

/// The example rewritten with the user's own value where it converts
/// (`desired_count = "2"` -> `desired_count = 2`), else the example.
fn with_users_value(example: &str, found: &DeValue, expected: &str) -> String {
    let Some((name, _)) = example.split_once(" = ") else {
        return example.to_string();
    };
    let value = match (expected, found) {
        ("a whole number", DeValue::String(s)) => s.trim().parse::<i64>().ok().map(|n| n.to_string()),
        ("true or false", DeValue::String(s)) => match s.trim() {
            "true" | "false" => Some(s.trim().to_string()),
            _ => None,
        },
        ("a string", DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_))
            if example.split_once(" = ").is_some_and(|(_, v)| v.starts_with('"')) =>
        {
            Some(format!("\"{}\"", render(found)))
        }
        ("a list of strings", DeValue::String(s)) => Some(format!("[{s:?}]")),
        _ => None,
    };
    match value {
        Some(v) => format!("{name} = {v}"),
        None => example.to_string(),
    }
}

/// The closest known key, if it is close enough to be a likely typo.
fn suggest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// A value as TOML text, shortened for one-line messages.
pub fn render(value: &DeValue) -> String {
    let text = match value {
        DeValue::String(s) => format!("{s:?}"),
        DeValue::Integer(i) => i.to_string(),
        DeValue::Float(f) => f.as_str().to_string(),
        DeValue::Boolean(b) => b.to_string(),
        DeValue::Datetime(dt) => dt.to_string(),
        DeValue::Array(items) => {
            let inner: Vec<String> = items.iter().map(|v| render(v.get_ref())).collect();
            format!("[{}]", inner.join(", "))
        }
        DeValue::Table(_) => "{ ... }".to_string(),
    };
    if text.chars().count() > 100 {
        let cut: String = text.chars().take(97).collect();
        format!("{cut}...")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let known = ["user_pool_id", "client_ids", "token_use"];
        assert_eq!(suggest("user_pool", &known), Some("user_pool_id"));
        assert_eq!(suggest("client_id", &known), Some("client_ids"));
        assert_eq!(suggest("flavour", &known), None);
    }
}
