//! `validate` on the HealthImaging scope keys (issue 23): every mistake in
//! `datastores`, `operations` and `datastore_claim` is an error naming the
//! file, key, value and fix, and the behaviour's methods follow `operations`.

use crate::support::{edited, validate};

const DATASTORES: &str = "datastores = [\"dddddddddddddddddddddddddddddddd\"]";
const OPERATIONS: &str = "operations = [\"GetImageFrame\", \"GetImageSetMetadata\", \"GetImageSet\"]";
const A: &str = "0123456789abcdef0123456789abcdef";

#[test]
fn datastores_are_required_well_formed_and_unique() {
    validate(&edited(&[(DATASTORES, "")])).exit(2).has_error(
        "healthimaging.datastores",
        "missing required key",
        "add datastores = [",
    );
    validate(&edited(&[(DATASTORES, "datastores = []")]))
        .exit(2)
        .has_error(
            "healthimaging.datastores = []",
            "is empty: the stack would serve no data store",
            "list at least one data store id",
        );
    validate(&edited(&[(
        DATASTORES,
        &format!(
            "datastores = [\"{}\", \"{A}\", \"{A}\", \"{A}x\"]",
            A.to_uppercase()
        ),
    )]))
    .exit(2)
    .has_error(
        &format!("healthimaging.datastores[0] = \"{}\"", A.to_uppercase()),
        "is not a HealthImaging data store id (32 lower-case letters or digits)",
        "copy the data store id from the HealthImaging console",
    )
    .has_error(
        &format!("healthimaging.datastores[2] = \"{A}\""),
        "is listed twice",
        "remove the duplicate",
    )
    .has_error(
        &format!("healthimaging.datastores[3] = \"{A}x\""),
        "is not a HealthImaging data store id",
        "copy the data store id",
    );
}

#[test]
fn operations_are_reads_by_name_and_mutations_are_named_as_such() {
    validate(&edited(&[(
        OPERATIONS,
        "operations = [\"GetImageFrame\", \"DeleteImageSet\", \"getimageset\", \"GetImageFrame\", \"Bogus\"]",
    )]))
    .exit(2)
    .has_error(
        "healthimaging.operations[1] = \"DeleteImageSet\"",
        "changes data: ahi-edge never passes a mutation to HealthImaging",
        "remove it; use only: GetImageFrame, GetImageSetMetadata, GetImageSet, ListImageSetVersions, SearchImageSets",
    )
    .has_error(
        "healthimaging.operations[2] = \"getimageset\"",
        "is not a HealthImaging read ahi-edge can serve",
        "did you mean \"GetImageSet\"?",
    )
    .has_error(
        "healthimaging.operations[3] = \"GetImageFrame\"",
        "is listed twice",
        "remove the duplicate",
    )
    .has_error(
        "healthimaging.operations[4] = \"Bogus\"",
        "is not a HealthImaging read ahi-edge can serve",
        "remove it; use only:",
    );
    validate(&edited(&[(OPERATIONS, "operations = []")]))
        .exit(2)
        .has_error("healthimaging.operations = []", "is empty", "remove operations");
}

#[test]
fn methods_all_on_the_healthimaging_route_needs_search() {
    let routes = "\n[[routes]]\npath = \"*\"\norigin = \"healthimaging\"\nmethods = \"all\"\n";
    validate(&(edited(&[]) + routes)).exit(2).has_error(
        "routes[0].methods = \"all\"",
        "allows POST, PUT, PATCH and DELETE to HealthImaging, and no enabled operation needs them",
        "enable \"SearchImageSets\"",
    );
    let searching = edited(&[(
        OPERATIONS,
        "operations = [\"GetImageFrame\", \"SearchImageSets\"]",
    )]) + routes;
    validate(&searching).exit(0);
}

#[test]
fn a_datastore_claim_needs_an_authorizer_and_a_claim_name() {
    let claim = "query_token = false\ndatastore_claim = \"cognito:groups\"\ndatastore_claim_prefix = \"ahi-datastore-\"";
    validate(&edited(&[("query_token = false", claim)])).exit(0);
    validate(&edited(&[(
        "query_token = false",
        "query_token = false\ndatastore_claim_prefix = \"ahi-datastore-\"",
    )]))
    .exit(2)
    .has_error(
        "auth.datastore_claim_prefix = \"ahi-datastore-\"",
        "has no datastore_claim to apply to",
        "add datastore_claim = \"cognito:groups\"",
    );
    validate(&edited(&[(
        "query_token = false",
        "datastore_claim = \"cognito groups\"",
    )]))
    .exit(2)
    .has_error(
        "auth.datastore_claim = \"cognito groups\"",
        "is not a claim name",
        "e.g. \"cognito:groups\"",
    );
    let open = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/ahi-delivery-noauth.toml"),
    )
    .unwrap()
    .replace(
        "public = true",
        "public = true\ndatastore_claim = \"cognito:groups\"",
    );
    validate(&open).exit(2).has_error(
        "auth.datastore_claim = \"cognito:groups\"",
        "needs an authorizer to read a verified token, but auth.mode = \"none\"",
        "remove datastore_claim",
    );
}
