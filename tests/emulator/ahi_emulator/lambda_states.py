"""Lambda function states, as AWS has them since 2023 (aws-behaviour.md):
a new function, and a newly published version, is `State=Pending` for a few
seconds (`lambda_create`, `lambda_publish`); after UpdateFunctionCode or
UpdateFunctionConfiguration, `LastUpdateStatus=InProgress` (`lambda_update`).
Meanwhile UpdateFunctionCode, UpdateFunctionConfiguration and
PublishVersion fail with ResourceConflictException (409) "The operation
cannot be performed at this time. An update is in progress for resource:
<arn>", and CloudFront refuses a Pending version (edge.check_function).

Done by wrapping moto's model methods with the emulator's clock, like
timed.py. moto itself reports every function Active at once."""

import functools

from moto.awslambda.exceptions import LambdaClientError

_DONE = []


class ResourceConflict(LambdaClientError):
    code = 409

    def __init__(self, arn):
        super().__init__(
            "ResourceConflictException",
            f"The operation cannot be performed at this time. An update is in progress for resource: {arn}",
        )


def install(emulator):
    _DONE[:] = [emulator]
    if getattr(install, "patched", False):
        return
    install.patched = True
    _patch()


def _now():
    return _DONE[0].now()


def _until(name):
    return _now() + _DONE[0].config.delay(name)


def pending(fn):
    """Whether a function or version is still `Pending`."""
    return _now() < getattr(fn, "_ahi_pending_until", 0)


def updating(fn):
    return _now() < getattr(fn, "_ahi_updating_until", 0)


def _patch():
    from moto.awslambda.models import LambdaBackend, LambdaFunction

    get_configuration = LambdaFunction.get_configuration

    @functools.wraps(get_configuration)
    def configuration(self, on_create=False):
        config = get_configuration(self, on_create)
        config["State"] = "Pending" if pending(self) else "Active"
        if pending(self):
            config["StateReason"] = "The function is being created."
            config["StateReasonCode"] = "Creating"
        if "LastUpdateStatus" in config or updating(self):
            config["LastUpdateStatus"] = "InProgress" if updating(self) else "Successful"
        return config

    LambdaFunction.get_configuration = configuration

    def latest(backend, name):
        return backend.get_function(name, None)

    def refuse_while_busy(backend, name):
        fn = latest(backend, name)
        if pending(fn) or updating(fn):
            raise ResourceConflict(fn.function_arn)

    create = LambdaBackend.create_function

    @functools.wraps(create)
    def create_function(self, spec):
        fn = create(self, spec)
        stored = latest(self, spec["FunctionName"])
        stored._ahi_pending_until = _until("lambda_create")
        fn._ahi_pending_until = stored._ahi_pending_until
        if spec.get("Publish"):
            version = self.get_function(spec["FunctionName"], str(fn.version))
            version._ahi_pending_until = _until("lambda_publish")
        return fn

    def updater(original):
        @functools.wraps(original)
        def update(self, function_name, qualifier, body):
            refuse_while_busy(self, function_name)
            answer = original(self, function_name, qualifier, body)
            latest(self, function_name)._ahi_updating_until = _until("lambda_update")
            return answer

        return update

    publish = LambdaBackend.publish_version

    @functools.wraps(publish)
    def publish_version(self, function_name, description=""):
        refuse_while_busy(self, function_name)
        before = len(list(self.list_versions_by_function(function_name)))
        version = publish(self, function_name, description)
        if version is not None and len(list(self.list_versions_by_function(function_name))) > before:
            version._ahi_pending_until = _until("lambda_publish")
            version._ahi_updating_until = 0
        return version

    LambdaBackend.create_function = create_function
    LambdaBackend.update_function_code = updater(LambdaBackend.update_function_code)
    LambdaBackend.update_function_configuration = updater(LambdaBackend.update_function_configuration)
    LambdaBackend.publish_version = publish_version
