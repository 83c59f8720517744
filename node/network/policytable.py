"""The node's NetworkPolicy table (`table inet skiff-netpol`): the desired state and its nft text.

Layout:

- `forward` (filter hook, priority filter): replies of allowed connections pass (`ct state
  established,related`), so does a pod reaching itself (`self`); a new connection from a pod in
  the `egress-isolated` map goes through the `eg-<namespace>` chain the map gives for it, one to a
  pod in `ingress-isolated` through `in-<namespace>` (both, when both ends are isolated pods of
  this node). Service DNAT happened before (prerouting), so the addresses are the pods'.
- `in-<namespace>` / `eg-<namespace>` jump to the chain of every policy of that namespace and
  direction (a policy selects pods of its own namespace only), then drop what no policy marked as
  allowed. The node's own traffic to its pods does not cross `forward` (it leaves through
  output) and `in-` chains let local sources through besides.
- `pol-<ns>/<name>-in|eg`: returns at once for packets of pods the policy does not select
  (`@t-<hash>`); then one rule per peer match x port match marks the packet allowed.
- Sets keyed by pod address, shared by all rules selecting the same pods: targets (`t-`), pod
  peers (`p-`), named ports (`n-`, `address . protocol . port`); the isolated pods. A pod is only
  set elements.

`PolicyState` keeps the desired chains and sets up to date incrementally (one policy, pod or
namespace at a time) and records what changed, so a change becomes one small `nft -f` transaction
(`take_diff`); `take_full` replaces the whole table in one transaction, at start. Both record
what was sent, so changes made while nft runs stay pending for the next transaction.
`render` is the whole computation as one pure function.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from node.network.policyrules import (
    EGRESS,
    EGRESS_ISOLATED,
    FORWARD,
    GLOBAL_SETS,
    INGRESS,
    INGRESS_ISOLATED,
    SELF,
    PodView,
    Policy,
    Selection,
    Tables,
    check_chain,
    check_chain_name,
    isolation_element,
    policy_tables,
)

TABLE = "inet skiff-netpol"
Contribution = dict[str, list[str]]  # set name -> elements


class PolicyState:
    """The desired table for one node, kept current one object at a time."""

    def __init__(self, node_name: str) -> None:
        self.node_name = node_name
        self.policies: dict[str, Policy] = {}
        self._policies_by_ns: dict[str, set[str]] = {}
        self.pods: dict[str, PodView] = {}
        self.namespaces: dict[str, Mapping[str, str]] = {}
        self._pods_by_ns: dict[str, set[str]] = {}
        self._tables: dict[str, Tables] = {}
        # Selections by set name (cheaper to hash than the selection itself).
        self._refs: Counter[str] = Counter()  # policies using each selection
        self._selections: dict[str, Selection] = {}
        self._by_ns: dict[str | None, dict[str, Selection]] = {}  # namespace (None: any) -> selections
        self._isolating: dict[str, Counter[str]] = {INGRESS: Counter(), EGRESS: Counter()}  # targets -> policies
        self._members: dict[str, set[str]] = {}  # set name -> keys of the pods with elements in it
        self._contrib: dict[str, Contribution] = {}  # pod key -> set name -> its elements
        self.chains: dict[str, tuple[str, ...]] = {"forward": FORWARD}
        self.sets: dict[str, str] = dict(GLOBAL_SETS)
        self.elements: dict[str, Counter[str]] = {name: Counter() for name in GLOBAL_SETS}
        self.touched_chains: set[str] = set()
        self.touched_sets: set[str] = set()
        self._checks_stale: set[str] = set()  # namespaces whose check chains are rebuilt before a transaction

    # -- changes -----------------------------------------------------------------------------------
    def set_policy(self, key: str, policy: Policy | None) -> None:
        old = self._tables.pop(key, None)
        self.policies.pop(key, None)
        namespace = key.split("/", 1)[0]
        self._policies_by_ns.setdefault(namespace, set()).discard(key)
        new = policy_tables(policy) if policy is not None else Tables()
        if policy is not None:
            self.policies[key] = policy
            self._policies_by_ns[namespace].add(key)
            self._tables[key] = new
        for sel in new.selections.values():  # the new ones first, so shared sets stay in place
            self._ref(sel)
        flipped = self._isolate(new, +1) | (self._isolate(old, -1) if old is not None else set())
        affected = {k for name in flipped for k in self._members.get(name, ())}
        if old is not None:
            for sel in old.selections.values():
                self._unref(sel)
            for chain in old.chains.keys() - new.chains.keys():
                self.chains.pop(chain, None)
                self.touched_chains.add(chain)
        for chain, rules in new.chains.items():
            if self.chains.get(chain) != rules:
                self.chains[chain] = rules
                self.touched_chains.add(chain)
        for pod_key in affected:
            self._refresh_isolation(pod_key)
        if old is None or policy is None or old.isolates.keys() != new.isolates.keys():
            self._checks_stale.add(namespace)

    def set_pod(self, key: str, pod: PodView | None) -> None:
        for name, elems in self._contrib.pop(key, {}).items():
            self._members.get(name, set()).discard(key)
            self._remove(name, elems)
        old = self.pods.pop(key, None)
        if old is not None:
            self._pods_by_ns.get(old.namespace, set()).discard(key)
        if pod is None:
            return
        self.pods[key] = pod
        self._pods_by_ns.setdefault(pod.namespace, set()).add(key)
        if pod.node == self.node_name:
            self._add(key, SELF, [f"{pod.ip} . {pod.ip}"])
        ns = self.namespaces.get(pod.namespace, {})
        for sel in [*self._by_ns.get(pod.namespace, {}).values(), *self._by_ns.get(None, {}).values()]:
            self._add(key, sel.name, sel.elements(pod, ns, self.node_name))
        self._refresh_isolation(key)

    def set_namespace(self, name: str, labels: Mapping[str, str] | None) -> None:
        labels = dict(labels or {})
        if self.namespaces.get(name) == labels:
            return
        self.namespaces[name] = labels
        for key in list(self._pods_by_ns.get(name, ())):
            self.set_pod(key, self.pods[key])

    # -- bookkeeping -------------------------------------------------------------------------------
    def _ref(self, sel: Selection) -> None:
        name, scope = sel.name, sel.namespace
        self._refs[name] += 1
        if self._refs[name] > 1:
            return
        self._selections[name] = sel
        self._by_ns.setdefault(scope, {})[name] = sel
        self.sets[name], self.elements[name] = sel.element_type, Counter()
        self.touched_sets.add(name)
        for namespace in [scope] if scope is not None else list(self._pods_by_ns):
            labels = self.namespaces.get(namespace, {})
            if not sel.may_include(namespace, labels):
                continue
            for key in self._pods_by_ns.get(namespace, ()):
                self._add(key, name, sel.elements(self.pods[key], labels, self.node_name))

    def _unref(self, sel: Selection) -> None:
        name = sel.name
        self._refs[name] -= 1
        if self._refs[name] > 0:
            return
        del self._refs[name]
        del self._by_ns[sel.namespace][name]
        del self._selections[name], self.sets[name], self.elements[name]
        for key in self._members.pop(name, set()):
            self._contrib[key].pop(name, None)
        self.touched_sets.add(name)

    def _isolate(self, tables: Tables, delta: int) -> set[str]:
        """Counts the policies isolating each targets set; returns those that started or stopped."""
        flipped = set()
        for direction, name in tables.isolates.items():
            counter = self._isolating[direction]
            before = counter[name] > 0
            counter[name] += delta
            if counter[name] <= 0:
                del counter[name]
            if before != (counter[name] > 0):
                flipped.add(name)
        return flipped

    def _refresh_isolation(self, key: str) -> None:
        pod, contrib = self.pods[key], self._contrib.get(key, {})
        for direction, set_name in ((INGRESS, INGRESS_ISOLATED), (EGRESS, EGRESS_ISOLATED)):
            isolated = any(self._isolating[direction][n] > 0 for n in contrib if n.startswith("t-"))
            if isolated == (set_name in contrib):
                continue
            if isolated:
                self._add(key, set_name, [isolation_element(direction, pod)])
            else:
                self._remove(set_name, contrib.pop(set_name))

    def _add(self, key: str, name: str, elems: list[str]) -> None:
        if not elems:
            return
        self._contrib.setdefault(key, {})[name] = elems
        if name in self._selections:
            self._members.setdefault(name, set()).add(key)
        self.elements[name].update(elems)
        self.touched_sets.add(name)

    def _remove(self, name: str, elems: list[str]) -> None:
        counter = self.elements.get(name)
        if counter is None:
            return
        counter.subtract(elems)
        for e in elems:
            if counter[e] <= 0:
                del counter[e]
        self.touched_sets.add(name)

    def refresh_checks(self) -> None:
        """The check chain of each namespace and direction lists that namespace's policies."""
        for namespace in self._checks_stale:
            keys = self._policies_by_ns.get(namespace, set())
            for direction in (INGRESS, EGRESS):
                chain = check_chain_name(direction, namespace)
                mine = [k for k in keys if self.policies[k].rules(direction) is not None]
                rules = check_chain(direction, mine) if mine else None
                if self.chains.get(chain) != rules:
                    if rules is None:
                        del self.chains[chain]
                    else:
                        self.chains[chain] = rules
                    self.touched_chains.add(chain)
        self._checks_stale.clear()

    def live(self, name: str) -> set[str]:
        elements = self.elements.get(name, ())
        if " : " not in self.sets.get(name, ""):
            return set(elements)
        # A map holds one value per key: two pods briefly sharing an address (one going, one coming,
        # in another namespace) get one of them, the same one every time.
        by_key: dict[str, str] = {}
        for e in sorted(elements):
            by_key.setdefault(e.split(" : ", 1)[0], e)
        return set(by_key.values())


class Applied:
    """What the kernel's table holds, as far as this process knows."""

    def __init__(self) -> None:
        self.chains: dict[str, tuple[str, ...]] = {}
        self.sets: dict[str, str] = {}
        self.elements: dict[str, set[str]] = {}


def _set_block(name: str, kind: str, elements: Iterable[str]) -> str:
    body = ", ".join(sorted(elements))
    return (f"{'map' if ' : ' in kind else 'set'} {name} {{ type {kind};"
            + (f" elements = {{ {body} }};" if body else "") + " }")


def full_transaction(state: PolicyState) -> str:
    """The whole table, replacing whatever is there, in one transaction."""
    state.refresh_checks()
    lines = [f"add table {TABLE}", f"delete table {TABLE}", f"table {TABLE} {{"]
    lines += [_set_block(n, kind, state.live(n)) for n, kind in sorted(state.sets.items())]
    for chain, rules in state.chains.items():
        lines.append(f"chain {chain} {{")
        lines.extend(rules)
        lines.append("}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def diff_transaction(state: PolicyState, applied: Applied) -> str:
    """What changed since `applied`, ordered so that every reference exists when it is made."""
    q = f"{TABLE} "
    new_sets = sorted(n for n in state.touched_sets if n in state.sets and n not in applied.sets)
    gone_sets = sorted(n for n in state.touched_sets if n not in state.sets and n in applied.sets)
    new_chains = [c for c in state.touched_chains if c in state.chains and c not in applied.chains]
    gone_chains = [c for c in state.touched_chains if c not in state.chains and c in applied.chains]
    lines = [f"add {_set_block(n, state.sets[n], state.live(n)).replace(' ', ' ' + q, 1)}" for n in new_sets]
    lines += [f"add chain {q}{c}" for c in new_chains]
    for name in sorted(state.touched_sets):
        if name in state.sets and name in applied.sets:
            lines += _element_changes(name, applied.elements.get(name, set()), state.live(name))
    for chain in sorted(state.touched_chains):
        rules = state.chains.get(chain)
        if rules is None or applied.chains.get(chain) == rules:
            continue
        if chain in applied.chains:
            lines.append(f"flush chain {q}{chain}")
        lines += [f"add rule {q}{chain} {r}" for r in rules]
    lines += [f"flush chain {q}{c}" for c in gone_chains]
    lines += [f"delete chain {q}{c}" for c in gone_chains]
    lines += [f"delete set {q}{n}" for n in gone_sets]
    return "\n".join(lines) + "\n" if lines else ""


def _element_changes(name: str, old: set[str], new: set[str]) -> list[str]:
    lines = []
    if old - new:  # a map's element is deleted by its key alone
        keys = sorted(e.split(" : ", 1)[0] for e in old - new)
        lines.append(f"delete element {TABLE} {name} {{ {', '.join(keys)} }}")
    if new - old:
        lines.append(f"add element {TABLE} {name} {{ {', '.join(sorted(new - old))} }}")
    return lines


def take_full(state: PolicyState, applied: Applied) -> tuple[str, Callable[[], None]]:
    """The full transaction and what to record once nft committed it; later changes stay pending."""
    state.refresh_checks()
    text = full_transaction(state)
    chains, sets = dict(state.chains), dict(state.sets)
    elements = {n: state.live(n) for n in sets}
    state.touched_chains.clear()
    state.touched_sets.clear()

    def commit() -> None:
        applied.chains, applied.sets, applied.elements = chains, sets, elements
    return text, commit


def take_diff(state: PolicyState, applied: Applied) -> tuple[str, Callable[[], None]]:
    """The incremental transaction and what to record once nft committed it."""
    state.refresh_checks()
    text = diff_transaction(state, applied)
    chains = {c: state.chains.get(c) for c in state.touched_chains}
    sets = {n: (state.sets[n], state.live(n)) if n in state.sets else None for n in state.touched_sets}
    state.touched_chains.clear()
    state.touched_sets.clear()

    def commit() -> None:
        for chain, rules in chains.items():
            if rules is None:
                applied.chains.pop(chain, None)
            else:
                applied.chains[chain] = rules
        for name, value in sets.items():
            if value is None:
                applied.sets.pop(name, None)
                applied.elements.pop(name, None)
            else:
                applied.sets[name], applied.elements[name] = value
    return text, commit


def build(policies: Iterable[Policy], pods: Iterable[PodView], namespaces: Mapping[str, Mapping[str, str]],
          node_name: str) -> PolicyState:
    state = PolicyState(node_name)
    for name, labels in namespaces.items():
        state.set_namespace(name, labels)
    for pod in pods:
        state.set_pod(pod.key, pod)
    for policy in policies:
        state.set_policy(policy.key, policy)
    state.refresh_checks()
    return state


def render(policies: Iterable[Policy], pods: Iterable[PodView], namespaces: Mapping[str, Mapping[str, str]],
           node_name: str) -> str:
    """Policies + pods + namespaces -> the whole table as one `nft -f` transaction."""
    return full_transaction(build(policies, pods, namespaces, node_name))
