//! `-v`: one line on stderr per AWS call (service, operation, region, HTTP
//! status or error, duration, attempts), from an SDK interceptor every
//! client carries; `-vv` adds the SDK's own debug log through `tracing`.
//! Nothing of a request or response body is printed, so no secret can leak
//! this way (the origin secret travels only in bodies).

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// 0 quiet or normal, 1 `-v`, 2 `-vv`: set once from the flags.
static LEVEL: AtomicU8 = AtomicU8::new(0);

/// Turns the call log on for `-v` and the SDK's debug log on for `-vv`.
pub fn init(verbose: u8) {
    LEVEL.store(verbose.min(2), Ordering::Relaxed);
    if verbose >= 2 {
        // The SDK's own events (endpoint resolution, signing, retries).
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(std::io::stderr)
            .with_target(true)
            .try_init();
    }
}

#[derive(Debug)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

/// The interceptor every SDK client gets (`stack::clients`).
#[derive(Debug, Clone, Copy)]
pub struct CallLog;

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "ahi-edge call log"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if LEVEL.load(Ordering::Relaxed) >= 1 {
            cfg.interceptor_state().store_put(Started(Instant::now()));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if LEVEL.load(Ordering::Relaxed) < 1 {
            return Ok(());
        }
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_string(), m.name().to_string()))
            .unwrap_or_else(|| ("?".into(), "?".into()));
        let region = cfg
            .load::<aws_types::region::Region>()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "-".into());
        let outcome = match (context.response(), context.output_or_error()) {
            (Some(response), _) => response.status().as_u16().to_string(),
            (None, Some(Err(_))) => "no answer (connection or timeout)".into(),
            (None, _) => "-".into(),
        };
        let millis = cfg
            .load::<Started>()
            .map(|s| s.0.elapsed().as_millis())
            .unwrap_or_default();
        let attempts = cfg.load::<RequestAttempts>().map(|a| a.attempts()).unwrap_or(1);
        eprintln!(
            "aws: {service} {operation} {region} -> {outcome} in {millis} ms ({attempts} attempt{})",
            if attempts == 1 { "" } else { "s" }
        );
        Ok(())
    }
}
