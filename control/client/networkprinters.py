"""Printer columns of the networking kinds (Ingress, IngressClass, NetworkPolicy), as kubectl prints
them; the kind table (control/client/kinds.py) declares them."""

from __future__ import annotations

from control.client.humanize import age
from control.client.printers import NONE, Columns, label_selector_text

_AGE = "AGE"


def _ingress_row(ing, now):
    hosts = [r.host for r in ing.spec.rules if r.host]
    addresses = [i.ip or i.hostname for i in ing.status.load_balancer.ingress]
    return [ing.metadata.name, ing.spec.ingress_class_name or NONE, ",".join(hosts) or "*",
            ",".join(addresses), "80, 443" if ing.spec.tls else "80", age(ing.metadata.creation_timestamp, now)]


def _ingress_class_row(ic, now):
    params = ic.spec.parameters
    shown = f"{params.api_group + '/' if params.api_group else ''}{params.kind}/{params.name}" \
        if ic.spec.HasField("parameters") else NONE
    return [ic.metadata.name, ic.spec.controller, shown, age(ic.metadata.creation_timestamp, now)]


def _network_policy_row(np, now):
    return [np.metadata.name, label_selector_text(np.spec.pod_selector), age(np.metadata.creation_timestamp, now)]


INGRESS = Columns(("NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", _AGE), (), _ingress_row)
INGRESSCLASS = Columns(("NAME", "CONTROLLER", "PARAMETERS", _AGE), (), _ingress_class_row)
NETWORKPOLICY = Columns(("NAME", "POD-SELECTOR", _AGE), (), _network_policy_row)
