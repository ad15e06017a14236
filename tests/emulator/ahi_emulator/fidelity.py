"""Where moto's answers differ from AWS's in fields ahi-edge compares, made
to answer as AWS does (each has a test in tests/test_fidelity.py):

- ECS CreateService keeps `healthCheckGracePeriodSeconds` and
  `deploymentConfiguration` (moto drops both; UpdateService already keeps
  them) and DescribeServices returns them.
- ELBv2 gives an HTTP listener no `SslPolicy` (moto fills in
  ELBSecurityPolicy-2016-08 for every protocol; AWS only for HTTPS/TLS).
- S3 GetBucketVersioning answers with the root element
  `VersioningConfiguration`, as AWS documents it (API_GetBucketVersioning);
  moto's `GetBucketVersioningResponse` root is refused by strict SDKs
  (the AWS SDK for Rust).
- S3 DeleteBucket drops the bucket's tags: a bucket created again under
  the name has none (GetBucketTagging: NoSuchTagSet), as on AWS; moto kept
  the deleted bucket's tags in its tagger, keyed by the bucket's ARN, so a
  stranger's new bucket would carry a deleted stack's ownership tag.
- Secrets Manager GetSecretValue without VersionId or VersionStage answers
  the version labelled AWSCURRENT after UpdateSecretVersionStage moved the
  label (moto kept answering the version the secret was created with).
"""

import functools

_DONE = []


def install():
    if _DONE:
        return
    _DONE.append(True)
    _ecs_grace_period()
    _http_listeners_have_no_ssl_policy()
    _versioning_configuration_root()
    _current_follows_its_label()
    _deleted_bucket_drops_its_tags()


def _ecs_grace_period():
    from moto.ecs.responses import EC2ContainerServiceResponse as Responses

    create = Responses.create_service

    @functools.wraps(create)
    def create_service(self):
        result = create(self)
        cluster = self._get_param("cluster", "default").split("/")[-1]
        service = self.ecs_backend.services.get(f"{cluster}:{self._get_param('serviceName')}")
        grace = self._get_param("healthCheckGracePeriodSeconds")
        if service is not None and grace is not None:
            service.health_check_grace_period_seconds = int(grace)
        deployment = self._get_param("deploymentConfiguration")
        if service is not None and deployment is not None:
            service.deployment_configuration = deployment
        return result

    Responses.create_service = create_service


def _http_listeners_have_no_ssl_policy():
    from moto.elbv2.models import FakeListener

    init = FakeListener.__init__

    @functools.wraps(init)
    def __init__(self, load_balancer_arn, arn, protocol, port, ssl_policy, *args, **kwargs):
        if (protocol or "").upper() not in ("HTTPS", "TLS"):
            ssl_policy = None
        init(self, load_balancer_arn, arn, protocol, port, ssl_policy, *args, **kwargs)

    FakeListener.__init__ = __init__


def _versioning_configuration_root():
    from moto.s3.responses import S3Response

    get = S3Response.get_bucket_versioning

    @functools.wraps(get)
    def get_bucket_versioning(self):
        status, headers, body = get(self)
        if isinstance(body, bytes):
            body = body.decode("utf-8")
        return status, headers, body.replace("GetBucketVersioningResponse", "VersioningConfiguration")

    S3Response.get_bucket_versioning = get_bucket_versioning


def _current_follows_its_label():
    from moto.secretsmanager.models import SecretsManagerBackend

    update = SecretsManagerBackend.update_secret_version_stage

    @functools.wraps(update)
    def update_secret_version_stage(self, secret_id, version_stage, remove_from_version_id, move_to_version_id):
        result = update(self, secret_id, version_stage, remove_from_version_id, move_to_version_id)
        if version_stage == "AWSCURRENT" and move_to_version_id:
            self.secrets[secret_id].default_version_id = move_to_version_id
        return result

    SecretsManagerBackend.update_secret_version_stage = update_secret_version_stage


def _deleted_bucket_drops_its_tags():
    from moto.s3.models import S3Backend

    delete = S3Backend.delete_bucket

    @functools.wraps(delete)
    def delete_bucket(self, bucket_name):
        deleted = delete(self, bucket_name)
        if deleted is not None:
            self.tagger.delete_all_tags_for_resource(deleted.arn)
        return deleted

    S3Backend.delete_bucket = delete_bucket
