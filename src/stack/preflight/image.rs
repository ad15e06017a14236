//! The regional proxy's container image: it exists in its ECR repository
//! (in the image's own region and registry) and is built for the
//! architecture the task definition asks for. ECS would otherwise find out
//! minutes into the first `up`, through its deployment circuit breaker.

use aws_sdk_ecr::types::ImageIdentifier;
use serde_json::Value;

use super::Findings;
use super::fetch::Fetch;
use crate::aws::AwsError;
use crate::engine::clients::Clients;
use crate::error::Error;
use crate::profile::Profile;

/// An image in ECR: `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO(:TAG|@DIGEST)`.
#[derive(Debug, PartialEq)]
struct EcrImage {
    account: String,
    region: String,
    repository: String,
    reference: Reference,
}

#[derive(Debug, PartialEq)]
enum Reference {
    Tag(String),
    Digest(String),
}

fn parse(image: &str) -> Option<EcrImage> {
    let (registry, rest) = image.split_once('/')?;
    let mut labels = registry.split('.');
    let account = labels.next()?;
    let (dkr, ecr, region) = (labels.next()?, labels.next()?, labels.next()?);
    let suffix: Vec<&str> = labels.collect();
    let aws = suffix == ["amazonaws", "com"] || suffix == ["amazonaws", "com", "cn"];
    if account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
        || dkr != "dkr"
        || ecr != "ecr"
        || !aws
    {
        return None;
    }
    let (repository, reference) = match rest.split_once('@') {
        Some((repo, digest)) => (repo, Reference::Digest(digest.to_string())),
        None => match rest.rsplit_once(':') {
            Some((repo, tag)) => (repo, Reference::Tag(tag.to_string())),
            None => (rest, Reference::Tag("latest".into())),
        },
    };
    Some(EcrImage {
        account: account.into(),
        region: region.into(),
        repository: repository.into(),
        reference,
    })
}

/// The ARN of the ECR repository an image lives in, or `None` outside ECR
/// (the deployer policy's scope for the pre-flight's reads).
pub fn ecr_repository_arn(image: &str) -> Option<String> {
    let ecr = parse(image)?;
    let partition = match image.contains(".amazonaws.com.cn/") {
        true => "aws-cn",
        false => "aws",
    };
    Some(format!(
        "arn:{partition}:ecr:{}:{}:repository/{}",
        ecr.region, ecr.account, ecr.repository
    ))
}

/// The OCI platform name of a task definition's `cpuArchitecture`.
fn oci_architecture(profile_arch: &str) -> &str {
    match profile_arch {
        "x86_64" => "amd64",
        other => other,
    }
}

const MANIFEST_LISTS: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
];
const MANIFESTS: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
];

pub(super) async fn check(
    clients: &Clients,
    fetch: &Fetch,
    profile: &Profile,
    found: &mut Findings,
) -> Result<(), Error> {
    let Some(delivery) = &profile.delivery else {
        return Ok(());
    };
    let (image, arch) = (&delivery.proxy.image, delivery.proxy.architecture.as_str());
    let Some(ecr) = parse(image) else {
        found.notes.push(format!(
            "proxy.image = {image:?} is not in ECR: ahi-edge cannot check that it exists or is built for {arch}; \
             ECS pulls it when the service starts"
        ));
        return Ok(());
    };
    let key = format!("proxy.image = {image:?}");
    let id = match &ecr.reference {
        Reference::Tag(t) => ImageIdentifier::builder().image_tag(t).build(),
        Reference::Digest(d) => ImageIdentifier::builder().image_digest(d).build(),
    };
    let client = clients.ecr(&ecr.region);
    let described = client
        .describe_images()
        .registry_id(&ecr.account)
        .repository_name(&ecr.repository)
        .image_ids(id.clone())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeImages", e));
    match described {
        Ok(_) => {}
        Err(e) if e.is("RepositoryNotFoundException") => {
            found.problems.push(format!(
                "{key}: no repository {:?} in registry {} in {} (fix: create it and push the proxy image there \
                 (docs/regional-proxy.md), or correct the account, region or name)",
                ecr.repository, ecr.account, ecr.region
            ));
            return Ok(());
        }
        Err(e) if e.is("ImageNotFoundException") => {
            found.problems.push(format!(
                "{key}: {} was never pushed to {} (fix: push it (docs/regional-proxy.md), or name a tag that \
                 `aws ecr describe-images --region {} --repository-name {}` lists)",
                match &ecr.reference {
                    Reference::Tag(t) => format!("tag {t:?}"),
                    Reference::Digest(d) => format!("digest {d}"),
                },
                ecr.repository,
                ecr.region,
                ecr.repository
            ));
            return Ok(());
        }
        Err(e) if e.is_any(&["AccessDeniedException", "AccessDenied"]) => {
            found.notes.push(format!(
                "{key}: the deployer may not read it ({e}), so ahi-edge cannot check it; the task's execution \
                 role must be allowed to pull it"
            ));
            return Ok(());
        }
        Err(e) => return Err(Error::Aws(e)),
    }
    let got = client
        .batch_get_image()
        .registry_id(&ecr.account)
        .repository_name(&ecr.repository)
        .image_ids(id)
        .set_accepted_media_types(Some(
            MANIFEST_LISTS
                .iter()
                .chain(&MANIFESTS)
                .map(|m| m.to_string())
                .collect(),
        ))
        .send()
        .await
        .map_err(|e| Error::Aws(AwsError::from_sdk("BatchGetImage", e)))?;
    let manifest = got
        .images()
        .first()
        .and_then(|i| i.image_manifest())
        .ok_or_else(|| Error::Aws(AwsError::missing("BatchGetImage", "images[0].imageManifest")))?;
    let manifest: Value = serde_json::from_str(manifest).map_err(|e| {
        Error::Aws(AwsError {
            operation: "BatchGetImage",
            code: None,
            message: format!("the image manifest is not JSON: {e}"),
        })
    })?;
    let platforms = match manifest.get("manifests").and_then(Value::as_array) {
        // A multi-platform image: its index names each platform.
        Some(entries) => entries
            .iter()
            .filter_map(|m| m.get("platform"))
            .map(|p| platform(p.get("os"), p.get("architecture")))
            .collect(),
        None => vec![config_platform(&client, fetch, &ecr, &manifest).await?],
    };
    let wanted = format!("linux/{}", oci_architecture(arch));
    if !platforms.contains(&wanted) {
        found.problems.push(format!(
            "{key}: is built for {}, but proxy.architecture = {arch:?} needs {wanted} (fix: set proxy.architecture \
             to the image's, or push a {wanted} build under this tag, e.g. docker buildx build --platform {wanted})",
            match platforms.is_empty() {
                true => "no platform it names".to_string(),
                false => platforms.join(", "),
            }
        ));
    }
    Ok(())
}

fn platform(os: Option<&Value>, arch: Option<&Value>) -> String {
    format!(
        "{}/{}",
        os.and_then(Value::as_str).unwrap_or("unknown"),
        arch.and_then(Value::as_str).unwrap_or("unknown")
    )
}

/// A single-platform image names its platform in its config blob, which
/// ECR serves through a download URL.
async fn config_platform(
    client: &aws_sdk_ecr::Client,
    fetch: &Fetch,
    ecr: &EcrImage,
    manifest: &Value,
) -> Result<String, Error> {
    let failed = |operation: &'static str, message: String| {
        Error::Aws(AwsError {
            operation,
            code: None,
            message,
        })
    };
    let digest = manifest
        .pointer("/config/digest")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Aws(AwsError::missing("BatchGetImage", "the manifest's config.digest")))?;
    let url = client
        .get_download_url_for_layer()
        .registry_id(&ecr.account)
        .repository_name(&ecr.repository)
        .layer_digest(digest)
        .send()
        .await
        .map_err(|e| Error::Aws(AwsError::from_sdk("GetDownloadUrlForLayer", e)))?
        .download_url()
        .map(str::to_string)
        .ok_or_else(|| Error::Aws(AwsError::missing("GetDownloadUrlForLayer", "downloadUrl")))?;
    let answer = fetch.get(&url).await.map_err(|e| {
        failed(
            "GetDownloadUrlForLayer",
            format!("reading the image config {digest}: {e}"),
        )
    })?;
    if answer.status != 200 {
        return Err(failed(
            "GetDownloadUrlForLayer",
            format!("reading the image config {digest}: HTTP {}", answer.status),
        ));
    }
    let config: Value = serde_json::from_slice(&answer.body).map_err(|e| {
        failed(
            "GetDownloadUrlForLayer",
            format!("the image config {digest} is not JSON: {e}"),
        )
    })?;
    Ok(platform(config.get("os"), config.get("architecture")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_references_are_read_and_others_are_not() {
        assert_eq!(
            parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/proxy:1.2"),
            Some(EcrImage {
                account: "123456789012".into(),
                region: "eu-west-1".into(),
                repository: "team/proxy".into(),
                reference: Reference::Tag("1.2".into()),
            })
        );
        let digest = parse("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/p@sha256:ab").unwrap();
        assert_eq!(digest.reference, Reference::Digest("sha256:ab".into()));
        assert_eq!(
            parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/p")
                .unwrap()
                .reference,
            Reference::Tag("latest".into())
        );
        assert_eq!(parse("ghcr.io/acme/proxy:1"), None);
        assert_eq!(parse("12345.dkr.ecr.us-east-1.amazonaws.com/p:1"), None);
        assert_eq!(
            parse("123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.io/p:1"),
            None
        );
        assert_eq!(oci_architecture("x86_64"), "amd64");
        assert_eq!(oci_architecture("arm64"), "arm64");
    }
}
