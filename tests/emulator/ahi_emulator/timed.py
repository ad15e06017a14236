"""Timed state on top of moto's own models: ECS services reach steady state
after a modelled delay and drain before they are INACTIVE; load balancers
stay `provisioning` for a modelled time. Done by wrapping moto's model
methods with the emulator's clock (moto flips both at once otherwise)."""

import functools

_INSTALLED = []


def install(emulator):
    if _INSTALLED:
        _INSTALLED[0] = emulator
        return
    _INSTALLED.append(emulator)
    _patch_ecs()
    _patch_elbv2()


def emu():
    return _INSTALLED[0]


def _patch_ecs():
    from moto.ecs.exceptions import InvalidParameterException
    from moto.ecs.models import EC2ContainerServiceBackend as Backend

    create, update, delete, describe = (
        Backend.create_service, Backend.update_service, Backend.delete_service, Backend.describe_services,
    )

    @functools.wraps(create)
    def create_service(self, cluster_str, service_name, *args, **kwargs):
        cluster_name = cluster_str.split("/")[-1]
        old = self.services.get(f"{cluster_name}:{service_name}")
        if old is not None and _draining(old):
            raise InvalidParameterException("Unable to Start a service that is still Draining.")
        service = create(self, cluster_str, service_name, *args, **kwargs)
        service._ahi_rollout = (emu().now(), "ecs_service_create")
        service._ahi_deleted_at = None
        return service

    @functools.wraps(update)
    def update_service(self, service_properties):
        service = update(self, service_properties)
        service._ahi_rollout = (emu().now(), "ecs_service_update")
        return service

    @functools.wraps(delete)
    def delete_service(self, cluster_name, service_name, force):
        service = delete(self, cluster_name, service_name, force)
        service._ahi_deleted_at = emu().now()
        tasks = getattr(emu(), "tasks", None)
        if tasks is not None:
            tasks.stop_service(service)
        return service

    @functools.wraps(describe)
    def describe_services(self, cluster_str, names):
        services, failures = describe(self, cluster_str, names)
        for service in services:
            _refresh(service)
        return services, failures

    Backend.create_service = create_service
    Backend.update_service = update_service
    Backend.delete_service = delete_service
    Backend.describe_services = describe_services


def _draining(service):
    deleted = getattr(service, "_ahi_deleted_at", None)
    return deleted is not None and emu().now() < deleted + emu().config.delay("ecs_service_drain")


def _definition(service):
    """The service's task definition and its account (None, None if gone)."""
    from moto.ecs.models import ecs_backends

    for account, per_account in ecs_backends.items():
        for backend in per_account.values():
            try:
                return backend.describe_task_definition(service.task_definition), account
            except Exception:
                continue
    return None, None


def _image(service):
    """The image of the service's task definition's first container."""
    td, _ = _definition(service)
    containers = (td.container_definitions or []) if td is not None else []
    return containers[0].get("image") if containers else None


def _tasks(service):
    """What the emulator's real tasks say of the rollout (ecs_tasks.py):
    'none' when no runner serves the image."""
    tasks = getattr(emu(), "tasks", None)
    td, account = _definition(service)
    if tasks is None or td is None:
        return "none"
    return tasks.rollout(service, td, account)


def _refresh(service):
    """Brings a service's counts and rollout state to what the clock says."""
    if getattr(service, "_ahi_deleted_at", None) is not None:
        service.status = "DRAINING" if _draining(service) else "INACTIVE"
        service.running_count = 0
        service.pending_count = 0
        return
    primary = service.deployments[0] if service.deployments else None
    started, delay = getattr(service, "_ahi_rollout", (0, "ecs_service_create"))
    tasks = _tasks(service)
    failed_tasks = tasks[1] if isinstance(tasks, tuple) else None
    if failed_tasks or _image(service) in emu().config.switches.get("failing_images", []):
        # Tasks that never start: without the deployment circuit breaker the
        # rollout stays IN_PROGRESS for ever; with it, FAILED after a while.
        service.running_count = 0
        service.pending_count = service.desired_count
        breaker = (getattr(service, "deployment_configuration", None) or {}).get("deploymentCircuitBreaker") or {}
        failed = breaker.get("enable") and emu().now() >= started + emu().config.delay("ecs_circuit_breaker")
        if primary:
            primary.update(
                rolloutState="FAILED" if failed else "IN_PROGRESS", runningCount=0,
                pendingCount=service.desired_count, desiredCount=service.desired_count,
                rolloutStateReason=(
                    "ECS deployment circuit breaker: tasks failed to start." if failed
                    else f"ECS deployment {primary['id']} in progress."
                ) + (f" {failed_tasks}" if failed_tasks else ""),
            )
        return
    if emu().now() < started + emu().config.delay(delay) or tasks == "starting":
        if not getattr(service, "_ahi_steady_once", False):
            service.running_count = 0
        service.pending_count = service.desired_count
        if primary:
            primary.update(rolloutState="IN_PROGRESS", runningCount=0, pendingCount=service.desired_count,
                           desiredCount=service.desired_count,
                           rolloutStateReason=f"ECS deployment {primary['id']} in progress.")
        return
    service._ahi_steady_once = True
    service.running_count = service.desired_count
    service.pending_count = 0
    if primary:
        primary.update(rolloutState="COMPLETED", runningCount=service.desired_count, pendingCount=0,
                       desiredCount=service.desired_count, taskDefinition=service.task_definition,
                       rolloutStateReason=f"ECS deployment {primary['id']} completed.")
        del service.deployments[1:]


def _patch_elbv2():
    from moto.elbv2.models import FakeLoadBalancer

    init = FakeLoadBalancer.__init__

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self._ahi_created = emu().now()

    def activate(self):
        created = getattr(self, "_ahi_created", 0)
        if self.state == "provisioning" and emu().now() >= created + emu().config.delay("alb_provisioning"):
            self.state = "active"

    FakeLoadBalancer.__init__ = __init__
    FakeLoadBalancer.activate = activate
