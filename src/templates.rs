//! Profile templates for `init`: the shipped example profiles themselves, so
//! a template can never drift from a profile that CI validates.

use crate::cli::TemplateName;

pub struct Template {
    pub name: &'static str,
    pub text: &'static str,
    /// The stack name written in the template, replaced by `--stack-name`.
    pub stack_name: &'static str,
}

pub fn template(name: TemplateName) -> Template {
    match name {
        TemplateName::AhiDelivery => Template {
            name: "ahi-delivery",
            text: include_str!("../profiles/ahi-delivery.toml"),
            stack_name: "ahi-delivery",
        },
        TemplateName::AhiDeliveryHttps => Template {
            name: "ahi-delivery-https",
            text: include_str!("../profiles/ahi-delivery-https.toml"),
            stack_name: "ahi-delivery-https",
        },
        TemplateName::AhiDeliveryNoauth => Template {
            name: "ahi-delivery-noauth",
            text: include_str!("../profiles/ahi-delivery-noauth.toml"),
            stack_name: "ahi-delivery-noauth",
        },
        TemplateName::ReverseProxy => Template {
            name: "reverse-proxy",
            text: include_str!("../profiles/reverse-proxy.toml"),
            stack_name: "reverse-proxy",
        },
    }
}
