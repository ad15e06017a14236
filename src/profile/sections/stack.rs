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
    let region = require(
        d,
        &t,
        "region",
        region,
        "add region = \"us-east-1\" (where your HealthImaging data store is)",
    );
    t.finish(d);
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
    Some(HealthImaging { region: region.value })
}
