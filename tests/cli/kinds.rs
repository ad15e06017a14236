//! Driving resource kinds directly (the library's `Kind` surface and the
//! engine's `apply::ensure`) against the emulator, for tests of one kind's
//! behaviour; whole-stack tests run the binary instead.

use ahi_edge::engine::clients::Clients;
use ahi_edge::engine::kind::{At, Found};
use ahi_edge::engine::progress::Progress;
use ahi_edge::lockfile::{Entry, Lockfile};
use ahi_edge::profile::Profile;
use ahi_edge::stack::apply::{self, Change};
use ahi_edge::stack::instance::Sources;
use ahi_edge::stack::{Ctx, Ledger, StepError, healthimaging, registry};
use serde_json::Value;

use crate::emulator::emulator;
use crate::support::BASE_PROFILE;

/// The emulator's account (moto's default).
pub const ACCOUNT: &str = "123456789012";

/// The shipped profile under another stack name, with text replaced.
pub fn profile(stack: &str, edits: &[(&str, &str)]) -> Profile {
    let mut text = BASE_PROFILE.replace("name = \"ahi-delivery\"", &format!("name = \"{stack}\""));
    for (old, new) in edits {
        text = text.replace(old, new);
    }
    ahi_edge::profile::check(std::path::Path::new("p.toml"), &text)
        .profile
        .expect("valid profile")
}

/// A context for one stack, with a lockfile snapshot the test keeps. The
/// stack's permissions boundary exists, as an administrator creates it
/// before the first `up` (its roles carry it).
pub fn ctx(stack: &str, package: Option<Vec<u8>>) -> Ctx {
    let boundary = ahi_edge::iam_policy::boundary(&profile(stack, &[]));
    emulator().boto3(&format!(
        "iam = client('iam')\n\
         try:\n    iam.create_policy(PolicyName='{stack}-boundary', Path='/ahi-edge/', PolicyDocument={:?})\n\
         except iam.exceptions.EntityAlreadyExistsException:\n    pass\n\
         print(json.dumps(True))",
        boundary.to_string()
    ));
    Ctx::new(
        stack,
        Clients::from_config(emulator().sdk_config(), true),
        ACCOUNT.into(),
        Ledger::ReadOnly(Lockfile::new(stack)),
        Progress::silent(),
        package,
    )
}

/// Instance `id`'s spec for `profile`, its dependencies' outputs from `lock`.
pub fn spec(profile: &Profile, id: &str, lock: &Lockfile, package_sha: Option<String>) -> Value {
    let src = Sources {
        profile,
        lock,
        account: ACCOUNT,
        package_sha,
        planning: false,
        reads: Default::default(),
    };
    healthimaging::instances(profile)
        .into_iter()
        .find(|i| i.id == id)
        .unwrap_or_else(|| panic!("no instance {id}"))
        .spec(&src)
        .expect("a resource")
        .expect("its dependencies are recorded")
}

/// What `up` does for one instance, without the lockfile: find, create or
/// update. `entry` is what a lockfile would have recorded.
pub async fn ensure(
    cx: &Ctx,
    kind: &str,
    id: &str,
    spec: &Value,
    entry: Option<&Entry>,
) -> Result<(Found, Change), StepError> {
    let kind = registry::kind(kind).expect("a registered kind");
    let at = At::new(id, "us-east-1", spec, entry.map(ahi_edge::stack::recorded));
    apply::ensure(cx, kind, &at, entry.is_none()).await
}

/// A lockfile entry recording `found` as instance `id` of `kind`.
pub fn record(lock: &mut Lockfile, id: &str, kind: &str, found: &Found, spec: &Value) {
    lock.record_intent(id, kind, "us-east-1", "t", &[]);
    lock.mark_ready(
        id,
        ahi_edge::lockfile::Ready {
            physical_id: found.physical_id.clone(),
            arn: found.arn.clone(),
            fingerprint: ahi_edge::lockfile::fingerprint(spec),
            outputs: found.outputs.clone(),
            spec: spec.to_string(),
            needs: vec![],
        },
    );
}
