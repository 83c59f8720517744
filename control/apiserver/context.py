"""What every request handler shares: storage, the watch cache, per-kind hooks, node agents."""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf.message import Message

from control.apiserver.admission import AdmissionOptions
from control.apiserver.quotaadmission import QuotaAdmission
from control.apiserver.storage import Claims, Storage
from control.apiserver.watchcache import WatchCache


class KindHooks:
    """Side effects of writes for one kind (e.g. allocating a Service's ClusterIP). What an object
    holds is claimed in etcd by the write itself: the hooks return the Claims to take and release."""

    async def start(self, objects: list[Message]) -> None:
        """Once at start, with the kind's stored objects."""

    async def before_create(self, obj: Message, dry_run: bool) -> Claims | None: ...

    async def after_failed_create(self, obj: Message) -> None: ...

    async def before_update(self, new: Message, old: Message, dry_run: bool) -> Claims | None: ...

    async def after_failed_update(self, new: Message, old: Message) -> None: ...

    async def claim_taken(self, key: str) -> None:
        """A write failed because another object holds this claim."""

    def claims_for_delete(self, obj: Message) -> Claims | None: ...

    async def after_delete(self, obj: Message) -> None: ...


@dataclass
class ApiContext:
    storage: Storage
    cache: WatchCache
    hooks: dict[str, KindHooks] = field(default_factory=dict)
    bookmark_interval: float = 10.0
    agents: object = None  # pods.AgentProxy, set once the context exists
    admission: AdmissionOptions = field(default_factory=AdmissionOptions)
    # Security, set by main from its flags. None means off, which only --insecure-dev allows:
    # authenticator: auth.authn.Authenticator (authenticate(grpc context) -> UserInfo, raises ApiError
    # UNAUTHENTICATED); authorizer: auth.attributes.Authorizer; audit: auth.audit.AuditLog.
    authenticator: object = None
    authorizer: object = None
    audit: object = None
    service_account_tokens: object = None  # auth.serviceaccount.ServiceAccountTokens with the token flags
    resource_metrics: object = None  # resourcemetrics.MetricsStore when --metric-resolution is on
    quota: QuotaAdmission = field(init=False)  # ResourceQuota admission, charging the namespace's quotas

    def __post_init__(self) -> None:
        self.quota = QuotaAdmission(self)
