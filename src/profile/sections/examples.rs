//! Values only the templates hold: `init` writes a profile full of
//! examples (a data store, a user pool, a client id, an image and certificates in
//! account 123456789012, example.com names, example-* buckets). Each one
//! still in the profile is a warning with its line, so nobody deploys the
//! template by accident.

use super::super::diagnostic::{Diagnostics, Severity};

/// (what the value contains, what it stands for)
const EXAMPLES: &[(&str, &str)] = &[
    (
        "dddddddddddddddddddddddddddddddd",
        "the template's example data store",
    ),
    ("us-east-1_Ab12Cd34E", "the template's example user pool"),
    (
        "4fr9qmc1oba52s6hrfl5hntu2u",
        "the template's example app client id",
    ),
    ("123456789012", "the documentation's example account 123456789012"),
    ("example.com", "an example.com name"),
    ("\"example-", "the template's example bucket"),
];

/// A warning for each line whose value is one of the templates' examples.
pub(super) fn warn(d: &mut Diagnostics, text: &str) {
    let mut table = String::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let code = line.split('#').next().unwrap_or_default().trim();
        if let Some(header) = code.strip_prefix('[') {
            table = header.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            continue;
        }
        let Some((key, value)) = code.split_once('=') else {
            continue;
        };
        let Some((_, what)) = EXAMPLES.iter().find(|(marker, _)| value.contains(marker)) else {
            continue;
        };
        let key = key.trim();
        let path = if table.is_empty() {
            key.to_string()
        } else {
            format!("{table}.{key}")
        };
        let column = line.find(value.trim()).unwrap_or(0);
        d.push(
            Severity::Warning,
            &path,
            &((start + column)..(start + column)),
            Some(value.trim().to_string()),
            format!("is {what}, still as `ahi-edge init` wrote it"),
            "replace it with your own value before `up` (the template's values name nothing of yours)",
        );
    }
}
