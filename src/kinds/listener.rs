//! The ALB's listener (`elbv2-listener`): HTTP 80, or HTTPS 443 with the
//! certificate and a TLS 1.2 policy; its default answer is a fixed 403, so
//! only the forwarding rule lets anything through. Owned through its load
//! balancer (whose tags are checked).

use aws_sdk_elasticloadbalancingv2::types::{Certificate, Listener, ProtocolEnum};
use serde::{Deserialize, Serialize};

use crate::aws::{AwsError, sdk, unless};
use crate::engine::kind::Options;
use crate::engine::kind::{At, Found, Gone, Resource};
use crate::engine::step::{Cx, Step};
use crate::resources::load_balancer::denied;

pub struct ListenerKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub load_balancer: String,
    pub port: i32,
    pub protocol: String,
    pub certificate: Option<String>,
    pub ssl_policy: Option<String>,
    /// `fixed-response 403 Access denied`: nothing passes but by the rule.
    pub default_action: String,
}

pub const DENY_ALL: &str = "fixed-response 403 Access denied";

fn view(l: &Listener) -> Spec {
    let action = l.default_actions().first();
    let default_action = match action.and_then(|a| a.fixed_response_config()) {
        Some(f) => format!(
            "fixed-response {} {}",
            f.status_code().unwrap_or_default(),
            f.message_body().unwrap_or_default()
        ),
        None => action
            .map(|a| a.r#type().map(|t| t.as_str().to_string()).unwrap_or_default())
            .unwrap_or_default(),
    };
    Spec {
        load_balancer: l.load_balancer_arn().unwrap_or_default().to_string(),
        port: l.port().unwrap_or_default(),
        protocol: l.protocol().map(|p| p.as_str().to_string()).unwrap_or_default(),
        certificate: l
            .certificates()
            .first()
            .and_then(|c| c.certificate_arn())
            .map(str::to_string),
        ssl_policy: l.ssl_policy().map(str::to_string),
        default_action,
    }
}

impl Resource for ListenerKind {
    type Spec = Spec;

    const NAME: &'static str = "elbv2-listener";

    const REPLACE: &'static [&'static str] = &["load_balancer"];

    async fn find(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Option<Found>> {
        let elb = cx.clients.elb(at.region);
        let call = elb.describe_listeners();
        let spec = at.spec().ok();
        let call = match (at.recorded_arn(), &spec) {
            (Some(arn), _) => call.listener_arns(arn),
            (None, Some(s)) => call.load_balancer_arn(&s.load_balancer),
            (None, None) => return Ok(None),
        };
        let out = unless(
            &["ListenerNotFound", "LoadBalancerNotFound"],
            call.send().await.map_err(sdk("DescribeListeners")),
        )?;
        let Some(listener) = out.and_then(|o| {
            o.listeners()
                .iter()
                .find(|l| {
                    at.recorded_arn().is_some() || spec.as_ref().is_some_and(|s| l.port() == Some(s.port))
                })
                .cloned()
        }) else {
            return Ok(None);
        };
        let arn = listener
            .listener_arn()
            .ok_or_else(|| AwsError::missing("DescribeListeners", "ListenerArn"))?;
        Ok(Some(Found::new(arn, view(&listener), true).arn(arn)))
    }

    async fn create(&self, cx: &Cx, at: &At<'_, Spec>) -> Step<Found> {
        let spec = at.spec()?;
        let out = cx
            .clients
            .elb(at.region)
            .create_listener()
            .load_balancer_arn(&spec.load_balancer)
            .protocol(ProtocolEnum::from(spec.protocol.as_str()))
            .port(spec.port)
            .set_certificates(
                spec.certificate
                    .as_ref()
                    .map(|c| vec![Certificate::builder().certificate_arn(c).build()]),
            )
            .set_ssl_policy(spec.ssl_policy.clone())
            .default_actions(denied())
            .send()
            .await
            .map_err(sdk("CreateListener"))?;
        let arn = out
            .listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .ok_or_else(|| AwsError::missing("CreateListener", "Listeners.ListenerArn"))?;
        Ok(Found::new(arn, spec, true).arn(arn))
    }

    async fn update(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _fields: &[String]) -> Step<Found> {
        let spec = at.spec()?;
        cx.clients
            .elb(at.region)
            .modify_listener()
            .listener_arn(&live.physical_id)
            .protocol(ProtocolEnum::from(spec.protocol.as_str()))
            .port(spec.port)
            .set_certificates(
                spec.certificate
                    .as_ref()
                    .map(|c| vec![Certificate::builder().certificate_arn(c).build()]),
            )
            .set_ssl_policy(spec.ssl_policy.clone())
            .default_actions(denied())
            .send()
            .await
            .map_err(sdk("ModifyListener"))?;
        Ok(live.applied(spec))
    }

    async fn delete(&self, cx: &Cx, at: &At<'_, Spec>, live: &Found, _opts: &Options) -> Step<Gone> {
        unless(
            &["ListenerNotFound"],
            cx.clients
                .elb(at.region)
                .delete_listener()
                .listener_arn(&live.physical_id)
                .send()
                .await
                .map_err(sdk("DeleteListener")),
        )?;
        Ok(Gone::Deleted)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_action_text_matches_what_denied_sends() {
        assert_eq!(
            super::DENY_ALL,
            format!(
                "fixed-response 403 {}",
                crate::resources::load_balancer::DENIED_BODY
            )
        );
    }
}
