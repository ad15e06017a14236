//! `[stack]` and `[healthimaging]`.

use std::collections::BTreeMap;

use super::super::diagnostic::{Diagnostics, Located};
use super::super::formats::{self as f};
use super::super::toml_reader::Table;
use super::super::*;
use super::*;
use crate::names::{self, StackNames};

/// The stack, where its name was written, and `[stack] region` if given.
pub(super) type StackRead = (Stack, Located<String>, Option<Located<String>>);

pub(super) fn read_stack(d: &mut Diagnostics, root: &mut Table) -> Option<StackRead> {
    let mut t = required_table(d, root, "stack", "[stack] with name = \"ahi-prod\"")?;
    let name = t.string(d, "name", "\"ahi-prod\"");
    let tags = t.string_map(d, "tags");
    let region = t.string(d, "region", "\"us-east-1\"");
    let name = require(
        d,
        &t,
        "name",
        name,
        "add name = \"ahi-prod\" (it prefixes every resource name)",
    );
    t.finish(d);

    let mut ok = true;
    if let Some(name) = &name
        && let Err(reason) = names::check_stack_name_chars(&name.value)
    {
        d.error(name, reason, "rename the stack, e.g. \"ahi-prod\"");
        ok = false;
    }
    let mut tag_map = BTreeMap::new();
    if let Some(tags) = &tags {
        if tags.value.len() > MAX_USER_TAGS {
            d.error(
                tags,
                format!(
                    "has {} tags; at most {MAX_USER_TAGS} fit beside ahi-edge's own",
                    tags.value.len()
                ),
                "remove some tags",
            );
            ok = false;
        }
        for (key, value) in &tags.value {
            if let Err(reason) = f::check_tag(&key.value, &value.value) {
                d.error(value, reason, "change or remove this tag");
                ok = false;
            }
            tag_map.insert(key.value.clone(), value.value.clone());
        }
    }
    if let Some(r) = &region
        && !f::is_region(&r.value)
    {
        d.error(
            r,
            "is not an AWS region",
            f::region_fix(
                &r.value,
                f::AWS_REGIONS,
                "use a region name such as \"us-east-1\"",
            ),
        );
        ok = false;
    }
    let name = name?;
    ok.then(|| {
        (
            Stack {
                name: name.value.clone(),
                tags: tag_map,
            },
            name,
            region,
        )
    })
}

/// The stack name must leave room for every derived name's AWS limit, and
/// give no name AWS reserves.
pub(super) fn check_derived_names(d: &mut Diagnostics, name_at: &Located<String>, stack: &str, region: &str) {
    let names = StackNames { stack };
    if let Some((name, rule)) = names.reserved(region).first() {
        d.error(
            name_at,
            format!("gives the {} {:?}, which AWS refuses: {rule}", name.what, name.name),
            "choose a stack name that does not begin with \"sg-\", \"internal-\", \"sthree-\" or \"amzn-s3-demo-\"",
        );
    }
    let over = names.too_long(region);
    if let Some(first) = over.first() {
        d.error(
            name_at,
            format!(
                "is too long: the {} {:?} would be {} characters (limit {})",
                first.what,
                first.name,
                first.name.len(),
                first.limit
            ),
            format!(
                "use a stack name of at most {} characters",
                names::max_stack_name_len(region)
            ),
        );
    }
}

pub(super) fn read_healthimaging(d: &mut Diagnostics, root: &mut Table) -> Option<HealthImaging> {
    let mut t = required_table(
        d,
        root,
        "healthimaging",
        "[healthimaging] with region = \"us-east-1\"",
    )?;
    let region = t.string(d, "region", "\"us-east-1\"");
    let datastores = t.string_list(d, "datastores", DATASTORES_EXAMPLE);
    let operations = t.string_list(d, "operations", OPERATIONS_EXAMPLE);
    let region = require(
        d,
        &t,
        "region",
        region,
        "add region = \"us-east-1\" (where your HealthImaging data store is)",
    );
    let datastores = require(
        d,
        &t,
        "datastores",
        datastores,
        &format!(
            "add datastores = {DATASTORES_EXAMPLE}: the ids of the data stores viewers may read (HealthImaging console, or `aws medical-imaging list-datastores`)"
        ),
    );
    t.finish(d);
    let datastores = datastores.and_then(|list| read_datastores(d, list));
    let operations = match operations {
        None => Some(Operation::DEFAULT.to_vec()),
        Some(list) => read_operations(d, list),
    };
    let region = region?;
    if !f::HEALTHIMAGING_REGIONS.contains(&region.value.as_str()) {
        d.error(
            &region,
            "is not a region where AWS HealthImaging is offered",
            // A real region elsewhere is no typo: list where HealthImaging runs.
            f::region_fix(
                if f::is_region(&region.value) {
                    ""
                } else {
                    &region.value
                },
                f::HEALTHIMAGING_REGIONS,
                &format!(
                    "use the region of your data store, one of: {}",
                    f::HEALTHIMAGING_REGIONS.join(", ")
                ),
            ),
        );
        return None;
    }
    Some(HealthImaging {
        region: region.value,
        datastores: datastores?,
        operations: operations?,
    })
}

const DATASTORES_EXAMPLE: &str = "[\"0123456789abcdef0123456789abcdef\"]";
const OPERATIONS_EXAMPLE: &str = "[\"GetImageFrame\", \"GetImageSetMetadata\", \"GetImageSet\"]";

/// At least one id, each 32 lower-case letters or digits, none twice.
fn read_datastores(d: &mut Diagnostics, list: Located<Vec<Located<String>>>) -> Option<Vec<String>> {
    if list.value.is_empty() {
        d.error(
            &list,
            "is empty: the stack would serve no data store",
            format!("list at least one data store id, e.g. datastores = {DATASTORES_EXAMPLE}"),
        );
        return None;
    }
    let mut ok = true;
    let mut ids: Vec<String> = Vec::new();
    for id in &list.value {
        if !f::is_healthimaging_id(&id.value) {
            d.error(
                id,
                "is not a HealthImaging data store id (32 lower-case letters or digits)",
                "copy the data store id from the HealthImaging console",
            );
            ok = false;
        } else if ids.contains(&id.value) {
            d.error(id, "is listed twice", "remove the duplicate");
            ok = false;
        } else {
            ids.push(id.value.clone());
        }
    }
    ok.then_some(ids)
}

/// Known read operations only, none twice; a mutation is named as one.
fn read_operations(d: &mut Diagnostics, list: Located<Vec<Located<String>>>) -> Option<Vec<Operation>> {
    let names: Vec<&str> = Operation::ALL.iter().map(|o| o.name()).collect();
    if list.value.is_empty() {
        d.error(
            &list,
            "is empty: the stack would serve nothing",
            format!(
                "remove operations (default {OPERATIONS_EXAMPLE}) or list some of: {}",
                names.join(", ")
            ),
        );
        return None;
    }
    let mut ok = true;
    let mut ops = Vec::new();
    for at in &list.value {
        match Operation::from_name(&at.value) {
            Some(op) if ops.contains(&op) => {
                d.error(at, "is listed twice", "remove the duplicate");
                ok = false;
            }
            Some(op) => ops.push(op),
            None => {
                let mutation = [
                    "Create", "Update", "Delete", "Copy", "Start", "Tag", "Untag", "Put",
                ]
                .iter()
                .any(|verb| at.value.starts_with(verb));
                let message = match mutation {
                    true => "changes data: ahi-edge never passes a mutation to HealthImaging",
                    false => "is not a HealthImaging read ahi-edge can serve",
                };
                let close = names
                    .iter()
                    .find(|n| n.eq_ignore_ascii_case(&at.value) || strsim::jaro_winkler(n, &at.value) > 0.9);
                let fix = match close {
                    Some(n) if !mutation => format!("did you mean \"{n}\"? (one of: {})", names.join(", ")),
                    _ => format!("remove it; use only: {}", names.join(", ")),
                };
                d.error(at, message, fix);
                ok = false;
            }
        }
    }
    ok.then_some(ops)
}
