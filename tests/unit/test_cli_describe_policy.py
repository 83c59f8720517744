"""`describe` of PodDisruptionBudgets and PriorityClasses, laid out as kubectl's."""

from __future__ import annotations

import asyncio

from control.cli.describe_kinds import describer_for
from control.cli.describe_policy import pod_disruption_budget, priority_class
from control.cli.describe_text import render_section
from control.client.convert import from_dict
from control.client.kinds import KINDS


def test_pod_disruption_budget():
    pdb = from_dict({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                     "metadata": {"name": "zk-pdb", "namespace": "default"},
                     "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "zookeeper"}}},
                     "status": {"disruptionsAllowed": 1, "currentHealthy": 3, "desiredHealthy": 2, "expectedPods": 3}})
    assert render_section(asyncio.run(pod_disruption_budget(None, pdb))) == (
        "Name:            zk-pdb\n"
        "Namespace:       default\n"
        "Max unavailable: 1\n"
        "Selector:        app=zookeeper\n"
        "Status:\n"
        "    Allowed disruptions: 1\n"
        "    Current:             3\n"
        "    Desired:             2\n"
        "    Total:               3\n")
    pdb.spec.ClearField("max_unavailable")
    pdb.spec.min_available.string_value = "50%"
    assert "Min available: 50%\n" in render_section(asyncio.run(pod_disruption_budget(None, pdb)))
    assert describer_for(KINDS["PodDisruptionBudget"])[0] is pod_disruption_budget


def test_priority_class():
    pc = from_dict({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high"},
                    "value": 1000000, "preemptionPolicy": "Never", "description": "urgent work"})
    assert render_section(asyncio.run(priority_class(None, pc))) == (
        "Name:             high\n"
        "Value:            1000000\n"
        "GlobalDefault:    false\n"
        "PreemptionPolicy: Never\n"
        "Description:      urgent work\n"
        "Annotations:      <none>\n")
    assert describer_for(KINDS["PriorityClass"])[0] is priority_class
