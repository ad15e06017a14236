//! Once the state cannot be written safely (another run changed the S3
//! state object, or this run's lock was broken), nothing more may change in
//! AWS: what this run would do next could not be recorded. The stop is
//! process-wide and enforced where every AWS call passes, an SDK
//! interceptor on every client `Clients` builds, so no walk, kind or future
//! code path can send one more write. Reads still go (the run's waits end
//! on their own; `status` needs no state write).

use std::sync::OnceLock;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::ConfigBag;

static STOPPED: OnceLock<String> = OnceLock::new();

/// Stops every further AWS write of this process; the first reason stays.
pub fn stop(reason: String) {
    let _ = STOPPED.set(reason);
}

/// Why writes were stopped, if they were.
pub fn stopped() -> Option<&'static str> {
    STOPPED.get().map(String::as_str)
}

/// Whether an operation changes something, by AWS's naming.
pub fn mutating(operation: &str) -> bool {
    !["Get", "Describe", "List", "Head"]
        .iter()
        .any(|p| operation.starts_with(p))
}

/// The refusal for `operation` once writes are stopped.
fn refusal(stopped: Option<&str>, operation: &str) -> Option<String> {
    let reason = stopped?;
    mutating(operation)
        .then(|| format!("not sent: no AWS write may follow a state that could not be saved ({reason})"))
}

/// Carried by every stack client (`stack::clients`). The state store's own
/// client does not carry it: it must still release its lock.
#[derive(Debug, Clone, Copy)]
pub struct WriteGuard;

impl Intercept for WriteGuard {
    fn name(&self) -> &'static str {
        "ahi-edge state write guard"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_default();
        match refusal(stopped(), &operation) {
            Some(why) => Err(why.into()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_stopped_only_reads_go() {
        assert_eq!(refusal(None, "CreateDistributionWithTags"), None);
        let stopped = Some("s3://b/k changed");
        for read in ["GetDistribution", "DescribeVpcs", "ListTags", "HeadBucket"] {
            assert_eq!(refusal(stopped, read), None, "{read}");
        }
        for write in [
            "CreateDistributionWithTags",
            "PutBucketPolicy",
            "DeleteFunction",
            "TagResource",
        ] {
            let why = refusal(stopped, write).unwrap();
            assert!(why.contains("s3://b/k changed"), "{why}");
        }
    }
}
