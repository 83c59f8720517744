"""The RBAC authorizer and RBAC's escalation check, with Kubernetes' semantics.

Contract for the apiserver (engineer "authz"):

    RBACAuthorizer(cache: WatchCache)                      # an Authorizer
    RBACAuthorizer.authorize(attrs: Attributes) -> Verdict   # ALLOW or NO_OPINION

    check_escalation(authorizer: Authorizer, user: UserInfo, obj: Message,
                     old: Message | None = None, *, cache: WatchCache) -> None

Call check_escalation before storing a Create (old=None) or an Update (old =
the stored object) of a Role, ClusterRole, RoleBinding or ClusterRoleBinding,
after defaulting and validation (an empty namespace means "default", as in the handlers).
`authorizer` is the whole chain (it answers the `escalate` and `bind` checks);
`cache` is the apiserver's watch cache (the user's own rules come from it). It
raises errors.ApiError(PERMISSION_DENIED) with Kubernetes' message, e.g.
`roles.rbac.authorization.k8s.io "x" is forbidden: user "alice" (groups=["g"])
is attempting to grant RBAC permissions not currently held:` + the rules.

What Kubernetes does, here too: ClusterRoleBindings grant everywhere;
RoleBindings grant in their own namespace, also when they refer to a
ClusterRole. A NO_OPINION verdict's reason is empty unless a binding referred
to a missing role (then `RBAC: role.rbac.authorization.k8s.io "x" not found`),
so the forbidden message stays exactly Kubernetes'. Bindings are read from the
watch cache through an index by subject that is rebuilt only when a binding
changes; roles are looked up by name per request.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from google.protobuf.message import Message

from control.apiserver import errors
from control.apiserver.auth.attributes import Attributes, Authorizer, Decision, Verdict
from control.apiserver.auth.user import SYSTEM_MASTERS, UserInfo
from control.apiserver.watchcache import WatchCache
from control.client.kinds import KINDS, RBAC_GROUP, kind_of
from skiff.v1 import rbac_pb2

ALL = "*"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
ROLE, CLUSTER_ROLE = KINDS["Role"], KINDS["ClusterRole"]
ROLE_BINDING, CLUSTER_ROLE_BINDING = KINDS["RoleBinding"], KINDS["ClusterRoleBinding"]


# --- Rules: does one PolicyRule allow a request --------------------------------------------------

def verb_matches(rule: rbac_pb2.PolicyRule, verb: str) -> bool:
    return any(v == ALL or v == verb for v in rule.verbs)


def api_group_matches(rule: rbac_pb2.PolicyRule, group: str) -> bool:
    return any(g == ALL or g == group for g in rule.api_groups)


def resource_matches(rule: rbac_pb2.PolicyRule, resource: str, subresource: str = "") -> bool:
    """`*`, the exact `resource` or `resource/subresource`, or `*/subresource`."""
    combined = f"{resource}/{subresource}" if subresource else resource
    for r in rule.resources:
        if r == ALL or r == combined:
            return True
        if subresource and r == f"*/{subresource}":
            return True
    return False


def resource_name_matches(rule: rbac_pb2.PolicyRule, name: str) -> bool:
    """No resourceNames: every name. Otherwise only those, so never a nameless list or create."""
    return not rule.resource_names or name in rule.resource_names


def non_resource_url_matches(rule: rbac_pb2.PolicyRule, path: str) -> bool:
    for url in rule.non_resource_urls:
        if url == ALL or url == path:
            return True
        if url.endswith("*") and path.startswith(url.rstrip("*")):
            return True
    return False


def rule_allows(attrs: Attributes, rule: rbac_pb2.PolicyRule) -> bool:
    if attrs.path:
        return verb_matches(rule, attrs.verb) and non_resource_url_matches(rule, attrs.path)
    return (verb_matches(rule, attrs.verb) and api_group_matches(rule, attrs.api_group)
            and resource_matches(rule, attrs.resource, attrs.subresource)
            and resource_name_matches(rule, attrs.name))


# --- Subjects ------------------------------------------------------------------------------------

def service_account_username(namespace: str, name: str) -> str:
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def subject_applies(user: UserInfo, subject: rbac_pb2.Subject, binding_namespace: str = "") -> bool:
    """A ServiceAccount subject without a namespace means the binding's own namespace."""
    if subject.kind == "User":
        return user.name == subject.name
    if subject.kind == "Group":
        return subject.name in user.groups
    if subject.kind == "ServiceAccount":
        namespace = subject.namespace or binding_namespace
        return bool(namespace) and user.name == service_account_username(namespace, subject.name)
    return False


def describe_subject(subject: rbac_pb2.Subject, binding_namespace: str = "") -> str:
    if subject.kind == "ServiceAccount":
        return f'{subject.kind} "{subject.name}/{subject.namespace or binding_namespace}"'
    return f'{subject.kind} "{subject.name}"'


def _subject_key(subject: rbac_pb2.Subject, binding_namespace: str) -> tuple[str, str] | None:
    """Where a subject is filed in the index: by user name or by group name."""
    if subject.kind == "User":
        return ("User", subject.name)
    if subject.kind == "Group":
        return ("Group", subject.name)
    if subject.kind == "ServiceAccount":
        namespace = subject.namespace or binding_namespace
        return ("User", service_account_username(namespace, subject.name)) if namespace else None
    return None


def _user_keys(user: UserInfo) -> list[tuple[str, str]]:
    return [("User", user.name), *(("Group", g) for g in user.groups)]


# --- The index of bindings by subject ------------------------------------------------------------

@dataclass(frozen=True)
class Grant:
    """One binding reaching a user through one of its subjects."""

    binding: Message  # RoleBinding or ClusterRoleBinding
    subject_index: int

    @property
    def subject(self) -> rbac_pb2.Subject:
        return self.binding.subjects[self.subject_index]

    def describe(self) -> str:
        b, ref = self.binding, self.binding.role_ref
        if isinstance(b, rbac_pb2.RoleBinding):
            name, ns = f"{b.metadata.name}/{b.metadata.namespace}", b.metadata.namespace
            return f'RoleBinding "{name}" of {ref.kind} "{ref.name}" to {describe_subject(self.subject, ns)}'
        return f'ClusterRoleBinding "{b.metadata.name}" of {ref.kind} "{ref.name}" to {describe_subject(self.subject)}'


@dataclass
class _Index:
    version: tuple
    # (namespace or "" for ClusterRoleBindings, ("User"|"Group", name)) -> grants
    grants: dict[tuple[str, tuple[str, str]], list[Grant]] = field(default_factory=dict)

    def add(self, binding: Message) -> None:
        ns = binding.metadata.namespace
        for i, subject in enumerate(binding.subjects):
            key = _subject_key(subject, ns)
            if key is not None:
                self.grants.setdefault((ns, key), []).append(Grant(binding, i))

    def lookup(self, user: UserInfo, namespace: str) -> list[Grant]:
        """The grants reaching `user` in `namespace` ("" = cluster scope only), one per binding,
        through the binding's first subject that applies, ordered by binding name."""
        best: dict[int, Grant] = {}
        for key in _user_keys(user):
            for grant in self.grants.get((namespace, key), ()):
                seen = best.get(id(grant.binding))
                if seen is None or grant.subject_index < seen.subject_index:
                    best[id(grant.binding)] = grant
        return sorted(best.values(), key=lambda g: g.binding.metadata.name)


def _cache_version(cache: WatchCache) -> tuple:
    out = []
    for kind in (ROLE_BINDING, CLUSTER_ROLE_BINDING):
        c = cache[kind]
        out.append((c.revision, id(c.events[-1]) if c.events else 0, len(c.objects)))
    return tuple(out)


_INDEXES: weakref.WeakKeyDictionary[WatchCache, _Index] = weakref.WeakKeyDictionary()


def _index(cache: WatchCache) -> _Index:
    version = _cache_version(cache)
    index = _INDEXES.get(cache)
    if index is None or index.version != version:
        index = _Index(version)
        for kind in (CLUSTER_ROLE_BINDING, ROLE_BINDING):
            for binding in cache[kind].snapshot()[0]:
                index.add(binding)
        _INDEXES[cache] = index
    return index


# --- Rule resolution -----------------------------------------------------------------------------

class RuleResolver:
    """Kubernetes' DefaultRuleResolver over the watch cache."""

    def __init__(self, cache: WatchCache) -> None:
        self.cache = cache

    def role_rules(self, ref: rbac_pb2.RoleRef, namespace: str) -> tuple[list[rbac_pb2.PolicyRule], str]:
        """The rules a roleRef names, or an error text when the role does not exist."""
        if ref.kind == "ClusterRole":
            role = self.cache[CLUSTER_ROLE].get("", ref.name)
            missing = f'clusterrole.{RBAC_GROUP} "{ref.name}" not found'
        elif ref.kind == "Role":
            role = self.cache[ROLE].get(namespace, ref.name)
            missing = f'role.{RBAC_GROUP} "{ref.name}" not found'
        else:
            return [], f"unsupported role reference kind: {ref.kind!r}"
        return (list(role.rules), "") if role is not None else ([], missing)

    def grants(self, user: UserInfo, namespace: str) -> Iterator[Grant]:
        """ClusterRoleBindings first, then the RoleBindings of `namespace`, as Kubernetes visits them."""
        index = _index(self.cache)
        yield from index.lookup(user, "")
        if namespace:
            yield from index.lookup(user, namespace)

    def rules_for(self, user: UserInfo, namespace: str) -> tuple[list[rbac_pb2.PolicyRule], list[str]]:
        rules: list[rbac_pb2.PolicyRule] = []
        problems: list[str] = []
        for grant in self.grants(user, namespace):
            found, problem = self.role_rules(grant.binding.role_ref, grant.binding.metadata.namespace)
            rules += found
            if problem:
                problems.append(problem)
        return rules, problems


def _aggregate(problems: list[str]) -> str:
    return problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"


class RBACAuthorizer:
    """Allows what some binding of the user's grants; otherwise no opinion."""

    def __init__(self, cache: WatchCache) -> None:
        self.resolver = RuleResolver(cache)

    def authorize(self, attrs: Attributes) -> Verdict:
        problems: list[str] = []
        for grant in self.resolver.grants(attrs.user, attrs.namespace):
            rules, problem = self.resolver.role_rules(grant.binding.role_ref, grant.binding.metadata.namespace)
            if problem:
                problems.append(problem)
            if any(rule_allows(attrs, rule) for rule in rules):
                return Verdict(Decision.ALLOW, f"RBAC: allowed by {grant.describe()}")
        return Verdict(Decision.NO_OPINION, f"RBAC: {_aggregate(problems)}" if problems else "")


# --- Escalation ----------------------------------------------------------------------------------

def breakdown_rule(rule: rbac_pb2.PolicyRule) -> list[rbac_pb2.PolicyRule]:
    """One rule per group x resource x verb (x name), and per URL x verb."""
    out = []
    names = list(rule.resource_names) or [None]
    for group in rule.api_groups:
        for resource in rule.resources:
            for verb in rule.verbs:
                for name in names:
                    out.append(rbac_pb2.PolicyRule(api_groups=[group], resources=[resource], verbs=[verb],
                                                   resource_names=[name] if name is not None else []))
    for url in rule.non_resource_urls:
        for verb in rule.verbs:
            out.append(rbac_pb2.PolicyRule(non_resource_urls=[url], verbs=[verb]))
    return out


def _has_all(owner: Iterable[str], wanted: Iterable[str]) -> bool:
    owner = set(owner)
    return all(w in owner for w in wanted)


def _resources_cover(owner: list[str], wanted: list[str]) -> bool:
    if ALL in owner or _has_all(owner, wanted):
        return True
    for path in wanted:
        if path in owner:
            continue
        if "/" not in path or "*/" + path.split("/", 1)[1] not in owner:
            return False
    return True


def _url_covers(owner: str, path: str) -> bool:
    return owner == path or (owner.endswith("*") and path.startswith(owner.rstrip("*")))


def _urls_cover(owner: list[str], wanted: list[str]) -> bool:
    return all(any(_url_covers(o, w) for o in owner) for w in wanted)


def rule_covers(owner: rbac_pb2.PolicyRule, sub: rbac_pb2.PolicyRule) -> bool:
    """Whether holding `owner` means holding everything `sub` grants (Kubernetes' ruleCovers)."""
    verbs = ALL in owner.verbs or _has_all(owner.verbs, sub.verbs)
    groups = ALL in owner.api_groups or _has_all(owner.api_groups, sub.api_groups)
    resources = _resources_cover(list(owner.resources), list(sub.resources))
    urls = _urls_cover(list(owner.non_resource_urls), list(sub.non_resource_urls))
    if sub.resource_names:
        names = not owner.resource_names or _has_all(owner.resource_names, sub.resource_names)
    else:
        names = not owner.resource_names
    return verbs and groups and resources and urls and names


def uncovered_rules(owner_rules: list[rbac_pb2.PolicyRule],
                    wanted: list[rbac_pb2.PolicyRule]) -> list[rbac_pb2.PolicyRule]:
    """The broken-down pieces of `wanted` no owner rule covers (empty: owner holds it all)."""
    return [piece for rule in wanted for piece in breakdown_rule(rule)
            if not any(rule_covers(o, piece) for o in owner_rules)]


def compact_rules(rules: list[rbac_pb2.PolicyRule]) -> list[rbac_pb2.PolicyRule]:
    """Rules of one group, one resource and at most one name merged by verb (Kubernetes' CompactRules)."""
    merged: dict[tuple[str, str, tuple[str, ...]], rbac_pb2.PolicyRule] = {}
    out: list[rbac_pb2.PolicyRule] = []
    for rule in rules:
        simple = (len(rule.api_groups) == 1 and len(rule.resources) == 1 and len(rule.resource_names) <= 1
                  and not rule.non_resource_urls)
        if not simple:
            out.append(rule)
            continue
        key = (rule.api_groups[0], rule.resources[0], tuple(rule.resource_names))
        if key in merged:
            merged[key].verbs.extend(v for v in rule.verbs if v not in merged[key].verbs)
        else:
            merged[key] = rbac_pb2.PolicyRule()
            merged[key].CopyFrom(rule)
            out.append(merged[key])
    return out


def _go_quote(values: Iterable[str]) -> str:
    """Go's %q of a []string: ["a" "b"]."""
    return "[" + " ".join(_go_string(v) for v in values) + "]"


def _go_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def compact_string(rule: rbac_pb2.PolicyRule) -> str:
    parts = [f"{label}:{_go_quote(values)}" for label, values in (
        ("APIGroups", rule.api_groups), ("Resources", rule.resources),
        ("NonResourceURLs", rule.non_resource_urls), ("ResourceNames", rule.resource_names),
        ("Verbs", rule.verbs)) if values]
    return "{" + ", ".join(parts) + "}"


def confirm_no_escalation(resolver: RuleResolver, user: UserInfo, namespace: str,
                          rules: list[rbac_pb2.PolicyRule]) -> str:
    """An error text when `rules` grant what `user` does not hold in `namespace`, else ""."""
    owner_rules, problems = resolver.rules_for(user, namespace)
    missing = uncovered_rules(owner_rules, rules)
    if not missing:
        return ""
    lines = sorted({compact_string(r) for r in compact_rules(missing)})
    msg = (f"user {_go_string(user.name)} (groups={_go_quote(user.groups)}) is attempting to grant "
           "RBAC permissions not currently held:\n" + "\n".join(lines))
    if problems:
        msg += f"; resolution errors: [{', '.join(problems)}]"
    return msg


def _allowed(authorizer: Authorizer, user: UserInfo, verb: str, resource: str, namespace: str,
             name: str) -> bool:
    attrs = Attributes(user, verb, RBAC_GROUP, resource, "", namespace, name)
    return authorizer.authorize(attrs).decision == Decision.ALLOW


def _forbidden(obj: Message, problem: str) -> errors.ApiError:
    resource = f"{kind_of(obj).plural}.{RBAC_GROUP}"
    name = obj.metadata.name
    subject = f'{resource} "{name}"' if name else resource
    return errors.forbidden(f"{subject} is forbidden: {problem}")


def _check_role(authorizer: Authorizer, resolver: RuleResolver, user: UserInfo, obj: Message,
                old: Message | None, resource: str) -> None:
    if old is not None and list(old.rules) == list(obj.rules):
        return
    namespace = (obj.metadata.namespace or "default") if isinstance(obj, rbac_pb2.Role) else ""
    # Kubernetes asks about the request's name, which a create (to the collection) does not have.
    name = obj.metadata.name if old is not None else ""
    if _allowed(authorizer, user, "escalate", resource, namespace, name):
        return
    problem = confirm_no_escalation(resolver, user, namespace, list(obj.rules))
    if problem:
        raise _forbidden(obj, problem)


def _check_binding(authorizer: Authorizer, resolver: RuleResolver, user: UserInfo, obj: Message,
                   old: Message | None) -> None:
    if old is not None and old.role_ref == obj.role_ref and list(old.subjects) == list(obj.subjects):
        return
    ref = obj.role_ref
    namespace = (obj.metadata.namespace or "default") if isinstance(obj, rbac_pb2.RoleBinding) else ""
    resource = {"ClusterRole": "clusterroles", "Role": "roles"}.get(ref.kind)
    if resource and _allowed(authorizer, user, "bind", resource, namespace, ref.name):
        return
    rules, problem = resolver.role_rules(ref, namespace)
    if problem:
        raise _forbidden(obj, problem)
    problem = confirm_no_escalation(resolver, user, namespace, rules)
    if problem:
        raise _forbidden(obj, problem)


def check_escalation(authorizer: Authorizer, user: UserInfo, obj: Message, old: Message | None = None,
                     *, cache: WatchCache) -> None:
    """Refuses a Role/ClusterRole or binding that would grant more than `user` holds.

    Passes for system:masters, for a role when the user may `escalate` it, for
    a binding when the user may `bind` its role, and for updates that change
    neither rules (roles) nor roleRef and subjects (bindings).
    """
    if SYSTEM_MASTERS in user.groups:
        return
    resolver = RuleResolver(cache)
    if isinstance(obj, rbac_pb2.Role | rbac_pb2.ClusterRole):
        _check_role(authorizer, resolver, user, obj, old, kind_of(obj).plural)
    elif isinstance(obj, rbac_pb2.RoleBinding | rbac_pb2.ClusterRoleBinding):
        _check_binding(authorizer, resolver, user, obj, old)
