"""Pod validation: each rule fires with Kubernetes' field path and message, and valid pods pass."""

from __future__ import annotations

import pytest

from tests.fixtures.validation import DELETE, assert_violation, patched, violations

POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
    "spec": {
        "volumes": [{"name": "data", "emptyDir": {}},
                    {"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "a", "path": "a.conf"}]}}],
        "containers": [{
            "name": "app", "image": "nginx:1.25",
            "ports": [{"name": "http", "containerPort": 80}],
            "env": [{"name": "MODE", "value": "x"},
                    {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
            "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "cfg", "mountPath": "/etc/app"}],
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
            "readinessProbe": {"tcpSocket": {"port": 80}},
            "lifecycle": {"preStop": {"exec": {"command": ["sleep", "1"]}}},
        }],
        "initContainers": [{"name": "init", "image": "busybox", "command": ["true"]}],
        "tolerations": [{"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}],
    },
}








def test_valid_pod_has_no_violations() -> None:
    assert violations(POD) == []


C = "spec.containers.0"
CP = "spec.containers[0]"


@pytest.mark.parametrize("path, value, field, fragment", [
    # metadata
    ("metadata.name", "Web_1", "metadata.name", 'Invalid value: "Web_1": a lowercase RFC 1123 subdomain'),
    ("metadata.name", "a" * 254, "metadata.name", "must be no more than 253 characters"),
    ("metadata.name", DELETE, "metadata.name", "Required value: name or generateName is required"),
    ("metadata.generateName", "Web-", "metadata.generateName", "a lowercase RFC 1123 subdomain"),
    ("metadata.namespace", "Prod", "metadata.namespace", "a lowercase RFC 1123 label"),
    ("metadata.labels", {"bad key": "v"}, "metadata.labels", 'Invalid value: "bad key": name part must'),
    ("metadata.labels", {"a": "-v"}, "metadata.labels", 'Invalid value: "-v": a valid label must be'),
    ("metadata.labels", {"a": "v" * 64}, "metadata.labels", "must be no more than 63 characters"),
    ("metadata.labels", {"a/b/c": "v"}, "metadata.labels", "a qualified name must consist of"),
    ("metadata.annotations", {"big": "x" * (256 * 1024)}, "metadata.annotations",
     "Too long: must have at most 262144 bytes"),
    ("metadata.annotations", {"bad key!": "x"}, "metadata.annotations", "name part must consist of"),
    ("metadata.finalizers", ["bad finalizer"], "metadata.finalizers", "name part must consist of"),
    ("metadata.ownerReferences", [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs"}],
     "metadata.ownerReferences[0].uid", "must not be empty"),
    ("metadata.ownerReferences", [{"apiVersion": "", "kind": "ReplicaSet", "name": "rs", "uid": "1"}],
     "metadata.ownerReferences[0].apiVersion", "version must not be empty"),
    ("metadata.ownerReferences", [
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "a", "uid": "1", "controller": True},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "b", "uid": "2", "controller": True}],
     "metadata.ownerReferences", "Only one reference can have Controller set to true"),
    # containers
    ("spec.containers", [], "spec.containers", "Required value"),
    (f"{C}.name", "App", f"{CP}.name", "a lowercase RFC 1123 label"),
    (f"{C}.name", "", f"{CP}.name", "Required value"),
    (f"{C}.name", "init", f"{CP}.name", 'Duplicate value: "init"'),
    (f"{C}.image", "", f"{CP}.image", "Required value"),
    (f"{C}.image", " nginx", f"{CP}.image", "must not have leading or trailing whitespace"),
    (f"{C}.imagePullPolicy", "Sometimes", f"{CP}.imagePullPolicy",
     'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"'),
    (f"{C}.terminationMessagePolicy", "Stdout", f"{CP}.terminationMessagePolicy", "Unsupported value"),
    (f"{C}.restartPolicy", "Always", f"{CP}.restartPolicy", "may not be set for non-init containers"),
    # ports
    (f"{C}.ports.0.containerPort", 0, f"{CP}.ports[0].containerPort", "Required value"),
    (f"{C}.ports.0.containerPort", 70000, f"{CP}.ports[0].containerPort",
     "Invalid value: 70000: must be between 1 and 65535, inclusive"),
    (f"{C}.ports.0.containerPort", -1, f"{CP}.ports[0].containerPort", "must be between 1 and 65535"),
    (f"{C}.ports.0.hostPort", 65536, f"{CP}.ports[0].hostPort", "must be between 1 and 65535"),
    (f"{C}.ports.0.protocol", "HTTP", f"{CP}.ports[0].protocol",
     'Unsupported value: "HTTP": supported values: "TCP", "UDP", "SCTP"'),
    (f"{C}.ports.0.name", "a-very-long-port-name", f"{CP}.ports[0].name", "must be no more than 15 characters"),
    (f"{C}.ports.0.name", "http_x", f"{CP}.ports[0].name", "must contain only alpha-numeric characters"),
    (f"{C}.ports.0.name", "8080", f"{CP}.ports[0].name", "must contain at least one letter (a-z)"),
    (f"{C}.ports.0.name", "a--b", f"{CP}.ports[0].name", "must not contain consecutive hyphens"),
    (f"{C}.ports.0.name", "-ab", f"{CP}.ports[0].name", "must not begin or end with a hyphen"),
    (f"{C}.ports", [{"name": "p", "containerPort": 1}, {"name": "p", "containerPort": 2}],
     f"{CP}.ports[1].name", 'Duplicate value: "p"'),
    (f"{C}.ports", [{"containerPort": 1, "hostPort": 8080}, {"containerPort": 2, "hostPort": 8080}],
     f"{CP}.ports[1].hostPort", 'Duplicate value: "/TCP/8080"'),
    # env
    (f"{C}.env.0.name", "1MODE", f"{CP}.env[0].name", "a valid environment variable name must consist of"),
    (f"{C}.env.0.name", "", f"{CP}.env[0].name", "Required value"),
    (f"{C}.env.1.value", "x", f"{CP}.env[1].valueFrom", "may not be specified when `value` is not empty"),
    (f"{C}.env.1.valueFrom", {}, f"{CP}.env[1].valueFrom", "must specify one of: `fieldRef`"),
    (f"{C}.env.1.valueFrom.fieldRef.fieldPath", "spec.foo", f"{CP}.env[1].valueFrom.fieldRef.fieldPath",
     'Unsupported value: "spec.foo"'),
    (f"{C}.env.1.valueFrom", {"resourceFieldRef": {"resource": "limits.gpu"}},
     f"{CP}.env[1].valueFrom.resourceFieldRef.resource", 'Unsupported value: "limits.gpu"'),
    (f"{C}.env.1.valueFrom", {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "2"}},
     f"{CP}.env[1].valueFrom.resourceFieldRef.divisor", "only divisor's values 1m and 1 are supported"),
    (f"{C}.env.1.valueFrom", {"configMapKeyRef": {"name": "cm"}},
     f"{CP}.env[1].valueFrom.configMapKeyRef.key", "Required value"),
    (f"{C}.env.1.valueFrom", {"secretKeyRef": {"name": "s", "key": "bad key"}},
     f"{CP}.env[1].valueFrom.secretKeyRef.key", "a valid config key must consist of"),
    (f"{C}.env.1.valueFrom", {"secretKeyRef": {"name": "s", "key": "k"}, "configMapKeyRef": {"name": "c", "key": "k"}},
     f"{CP}.env[1].valueFrom", "may not have more than one field specified at a time"),
    (f"{C}.envFrom", [{"prefix": "P_"}], f"{CP}.envFrom[0]", "must specify one of: `configMapRef` or `secretRef`"),
    (f"{C}.envFrom", [{"configMapRef": {}}], f"{CP}.envFrom[0].configMapRef.name", "Required value"),
    # volume mounts and volumes
    (f"{C}.volumeMounts.0.name", "nope", f"{CP}.volumeMounts[0].name", 'Not found: "nope"'),
    (f"{C}.volumeMounts.0.mountPath", "", f"{CP}.volumeMounts[0].mountPath", "Required value"),
    (f"{C}.volumeMounts.1.mountPath", "/data", f"{CP}.volumeMounts[1].mountPath", "must be unique"),
    (f"{C}.volumeMounts.0.subPath", "../x", f"{CP}.volumeMounts[0].subPath", "must not contain '..'"),
    (f"{C}.volumeMounts.0.subPath", "/x", f"{CP}.volumeMounts[0].subPath", "must be a relative path"),
    (f"{C}.volumeMounts.0.mountPropagation", "Sideways", f"{CP}.volumeMounts[0].mountPropagation",
     "Unsupported value"),
    (f"{C}.volumeMounts.0.mountPropagation", "Bidirectional", f"{CP}.volumeMounts[0].mountPropagation",
     "available only to privileged containers"),
    ("spec.volumes.1.name", "data", "spec.volumes[1].name", 'Duplicate value: "data"'),
    ("spec.volumes.0.name", "Data", "spec.volumes[0].name", "a lowercase RFC 1123 label"),
    ("spec.volumes.0", {"name": "data"}, "spec.volumes[0]", "Required value: must specify a volume type"),
    ("spec.volumes.0", {"name": "data", "emptyDir": {}, "hostPath": {"path": "/x"}}, "spec.volumes[0].hostPath",
     "may not specify more than 1 volume type"),
    ("spec.volumes.0", {"name": "data", "hostPath": {"path": ""}}, "spec.volumes[0].hostPath.path",
     "Required value"),
    ("spec.volumes.0", {"name": "data", "hostPath": {"path": "/x", "type": "Dir"}},
     "spec.volumes[0].hostPath.type", 'Unsupported value: "Dir"'),
    ("spec.volumes.0", {"name": "data", "emptyDir": {"sizeLimit": "-1Gi"}}, "spec.volumes[0].emptyDir.sizeLimit",
     "must be greater than or equal to 0"),
    ("spec.volumes.1.configMap.name", "", "spec.volumes[1].configMap.name", "Required value"),
    ("spec.volumes.1.configMap.items.0.path", "/abs", "spec.volumes[1].configMap.items[0].path",
     "must be a relative path"),
    ("spec.volumes.1.configMap.items.0.path", "a/../../b", "spec.volumes[1].configMap.items[0].path",
     "must not contain '..'"),
    ("spec.volumes.1.configMap.items.0.path", "..a", "spec.volumes[1].configMap.items[0].path",
     "must not start with '..'"),
    ("spec.volumes.1.configMap.defaultMode", 0o1000, "spec.volumes[1].configMap.defaultMode",
     "must be a number between 0 and 0777 (octal), both inclusive"),
    ("spec.volumes.1", {"name": "cfg", "secret": {}}, "spec.volumes[1].secret.secretName", "Required value"),
    # probes and lifecycle
    (f"{C}.livenessProbe", {"initialDelaySeconds": 1}, f"{CP}.livenessProbe",
     "Required value: must specify a handler type"),
    (f"{C}.livenessProbe", {"exec": {"command": ["a"]}, "tcpSocket": {"port": 1}}, f"{CP}.livenessProbe.tcpSocket",
     "may not specify more than 1 handler type"),
    (f"{C}.livenessProbe", {"exec": {}}, f"{CP}.livenessProbe.exec.command", "Required value"),
    (f"{C}.livenessProbe.successThreshold", 2, f"{CP}.livenessProbe.successThreshold", "must be 1"),
    (f"{C}.startupProbe", {"exec": {"command": ["a"]}, "successThreshold": 3}, f"{CP}.startupProbe.successThreshold",
     "must be 1"),
    (f"{C}.livenessProbe.periodSeconds", -1, f"{CP}.livenessProbe.periodSeconds",
     "must be greater than or equal to 0"),
    (f"{C}.livenessProbe.failureThreshold", -2, f"{CP}.livenessProbe.failureThreshold",
     "must be greater than or equal to 0"),
    (f"{C}.livenessProbe.initialDelaySeconds", -1, f"{CP}.livenessProbe.initialDelaySeconds",
     "must be greater than or equal to 0"),
    (f"{C}.livenessProbe.httpGet.port", 0, f"{CP}.livenessProbe.httpGet.port", "must be between 1 and 65535"),
    (f"{C}.livenessProbe.httpGet.port", "Http_", f"{CP}.livenessProbe.httpGet.port",
     "must contain only alpha-numeric characters"),
    (f"{C}.livenessProbe.httpGet.scheme", "FTP", f"{CP}.livenessProbe.httpGet.scheme",
     'Unsupported value: "FTP": supported values: "HTTP", "HTTPS"'),
    (f"{C}.livenessProbe.httpGet.httpHeaders", [{"name": "Bad Header", "value": "x"}],
     f"{CP}.livenessProbe.httpGet.httpHeaders[0].name", "a valid HTTP header must consist of"),
    (f"{C}.readinessProbe.terminationGracePeriodSeconds", 5, f"{CP}.readinessProbe.terminationGracePeriodSeconds",
     "must not be set for readinessProbes"),
    (f"{C}.livenessProbe.terminationGracePeriodSeconds", 0, f"{CP}.livenessProbe.terminationGracePeriodSeconds",
     "must be greater than 0"),
    (f"{C}.lifecycle.preStop", {}, f"{CP}.lifecycle.preStop", "must specify a handler type"),
    (f"{C}.lifecycle.preStop", {"sleep": {"seconds": -1}}, f"{CP}.lifecycle.preStop.sleep.seconds",
     "must be greater than or equal to 0"),
    # init containers
    ("spec.initContainers.0.restartPolicy", "OnFailure", "spec.initContainers[0].restartPolicy",
     'Unsupported value: "OnFailure": supported values: "Always"'),
    ("spec.initContainers.0.livenessProbe", {"exec": {"command": ["a"]}}, "spec.initContainers[0].livenessProbe",
     "may not be set for init containers without restartPolicy=Always"),
    ("spec.initContainers.0.image", "", "spec.initContainers[0].image", "Required value"),
    # resources
    (f"{C}.resources.limits.cpu", "abc", f"{CP}.resources.limits[cpu]",
     "quantities must match the regular expression"),
    (f"{C}.resources.requests.memory", "-1", f"{CP}.resources.requests[memory]",
     "must be greater than or equal to 0"),
    (f"{C}.resources.requests.cpu", "2", f"{CP}.resources.requests[cpu]",
     'Invalid value: "2": must be less than or equal to cpu limit of 1'),
    (f"{C}.resources.requests.memory", "1Gi", f"{CP}.resources.requests[memory]",
     "must be less than or equal to memory limit of 128Mi"),
    (f"{C}.resources.limits.gpu", "1", f"{CP}.resources.limits[gpu]", "must be a standard resource for containers"),
    (f"{C}.resources.limits", {"example.com/gpu": "1.5"}, f"{CP}.resources.limits[example.com/gpu]",
     "must be an integer"),
    (f"{C}.resources", {"requests": {"example.com/gpu": "2"}, "limits": {"example.com/gpu": "3"}},
     f"{CP}.resources.requests[example.com/gpu]", "must be equal to example.com/gpu limit of 3"),
    # pod-level policies
    ("spec.restartPolicy", "Sometimes", "spec.restartPolicy",
     'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'),
    ("spec.dnsPolicy", "Google", "spec.dnsPolicy", 'Unsupported value: "Google"'),
    ("spec.dnsPolicy", "None", "spec.dnsConfig.nameservers", "must provide at least one DNS nameserver"),
    ("spec.dnsConfig", {"nameservers": ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"]}, "spec.dnsConfig.nameservers",
     "must not have more than 3 nameservers"),
    ("spec.dnsConfig", {"nameservers": ["dns.local"]}, "spec.dnsConfig.nameservers[0]", "must be a valid IP address"),
    ("spec.activeDeadlineSeconds", 0, "spec.activeDeadlineSeconds", "must be between 1 and 2147483647, inclusive"),
    ("spec.terminationGracePeriodSeconds", -5, "spec.terminationGracePeriodSeconds",
     "must be greater than or equal to 0"),
    ("spec.nodeSelector", {"disk": "ssd fast"}, "spec.nodeSelector", "a valid label must be"),
    ("spec.nodeName", "Node_1", "spec.nodeName", "a lowercase RFC 1123 subdomain"),
    ("spec.hostname", "a.b", "spec.hostname", "a lowercase RFC 1123 label"),
    ("spec.serviceAccountName", "SA", "spec.serviceAccountName", "a lowercase RFC 1123 subdomain"),
    ("spec.securityContext", {"runAsUser": -1}, "spec.securityContext.runAsUser",
     "must be between 0 and 2147483647, inclusive"),
    ("spec.imagePullSecrets", [{}], "spec.imagePullSecrets[0].name", "Required value"),
    ("spec.os", {"name": "plan9"}, "spec.os.name", 'Unsupported value: "plan9": supported values: "linux", "windows"'),
    ("spec.os", {}, "spec.os.name", "Required value"),
    ("spec.runtimeClassName", "Kata_1", "spec.runtimeClassName", "a lowercase RFC 1123 subdomain"),
    ("spec.readinessGates", [{"conditionType": "bad type"}], "spec.readinessGates[0].conditionType",
     "name part must consist of"),
    ("spec.readinessGates", [{}], "spec.readinessGates[0].conditionType", "Required value"),
    ("spec.hostAliases", [{"ip": "not-an-ip", "hostnames": ["a"]}], "spec.hostAliases[0].ip",
     "must be a valid IP address"),
    ("spec.hostAliases", [{"hostnames": ["a"]}], "spec.hostAliases[0].ip", "Required value"),
    ("spec.hostAliases", [{"ip": "10.0.0.1", "hostnames": ["Bad_Host"]}], "spec.hostAliases[0].hostnames[0]",
     "a lowercase RFC 1123 subdomain"),
    # tolerations
    ("spec.tolerations.0.operator", "Exists", "spec.tolerations[0].operator",
     "value must be empty when `operator` is 'Exists'"),
    ("spec.tolerations.0.key", "", "spec.tolerations[0].operator", "operator must be Exists when `key` is empty"),
    ("spec.tolerations.0.operator", "Like", "spec.tolerations[0].operator",
     'Unsupported value: "Like": supported values: "Equal", "Exists", "Lt", "Gt"'),
    ("spec.tolerations.0.effect", "NoRun", "spec.tolerations[0].effect",
     'Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'),
    ("spec.tolerations.0.tolerationSeconds", 30, "spec.tolerations[0].effect",
     "effect must be 'NoExecute' when `tolerationSeconds` is set"),
    ("spec.tolerations.0", {"key": "sla", "operator": "Gt", "value": "high"}, "spec.tolerations[0].value",
     "value must be an integer when `operator` is 'Lt' or 'Gt'"),
    ("spec.tolerations.0.key", "bad key", "spec.tolerations[0].key", "name part must consist of"),
    ("spec.tolerations.0.value", "bad value", "spec.tolerations[0].operator", "a valid label must be"),
])
def test_pod_rule_fires(path: str, value, field: str, fragment: str) -> None:
    assert_violation(patched(POD, path, value), field, fragment)


NA = "spec.affinity.nodeAffinity"
REQ = f"{NA}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]"


def _node_affinity_pod(requirement: dict, fields: bool = False) -> dict:
    term = {"matchFields" if fields else "matchExpressions": [requirement]}
    return patched(POD, "spec.affinity", {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}})


@pytest.mark.parametrize("requirement, field, fragment", [
    ({"key": "zone", "operator": "Near", "values": ["a"]}, f"{REQ}.matchExpressions[0].operator",
     'Invalid value: "Near": not a valid selector operator'),
    ({"key": "zone", "operator": "In"}, f"{REQ}.matchExpressions[0].values",
     "must be specified when `operator` is 'In' or 'NotIn'"),
    ({"key": "zone", "operator": "Exists", "values": ["a"]}, f"{REQ}.matchExpressions[0].values",
     "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
    ({"key": "cpus", "operator": "Gt", "values": ["1", "2"]}, f"{REQ}.matchExpressions[0].values",
     "must be specified single value when `operator` is 'Lt' or 'Gt'"),
    ({"key": "bad key", "operator": "Exists"}, f"{REQ}.matchExpressions[0].key", "name part must consist of"),
])
def test_node_affinity_rules(requirement: dict, field: str, fragment: str) -> None:
    assert_violation(_node_affinity_pod(requirement), field, fragment)


@pytest.mark.parametrize("op", ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"])
def test_node_affinity_operators_accepted(op: str) -> None:
    values = {"In": ["a"], "NotIn": ["a"], "Gt": ["1"], "Lt": ["9"]}.get(op, [])
    assert violations(_node_affinity_pod({"key": "zone", "operator": op, "values": values})) == []


def test_node_affinity_match_fields() -> None:
    ok = {"key": "metadata.name", "operator": "In", "values": ["n1"]}
    assert violations(_node_affinity_pod(ok, fields=True)) == []
    assert_violation(_node_affinity_pod({"key": "metadata.uid", "operator": "In", "values": ["x"]}, True),
                     f"{REQ}.matchFields[0].key", 'Unsupported value: "metadata.uid"')
    assert_violation(_node_affinity_pod({"key": "metadata.name", "operator": "In", "values": ["a", "b"]}, True),
                     f"{REQ}.matchFields[0].values", "must be only one value")


def test_affinity_terms_and_weights() -> None:
    empty = patched(POD, "spec.affinity", {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}})
    assert_violation(empty, f"{NA}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
                     "must have at least one node selector term")
    heavy = patched(POD, "spec.affinity", {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 101, "preference": {"matchExpressions": [{"key": "a", "operator": "Exists"}]}}]}})
    assert_violation(heavy, f"{NA}.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
                     "must be in the range 1-100")
    pod_affinity = patched(POD, "spec.affinity", {"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {"matchExpressions": [
            {"key": "app", "operator": "In"}]}}]}})
    p = "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
    assert_violation(pod_affinity, f"{p}.topologyKey", "Required value: can not be empty")
    assert_violation(pod_affinity, f"{p}.labelSelector.matchExpressions[0].values",
                     "must be specified when `operator` is 'In' or 'NotIn'")


def test_pod_affinity_match_and_mismatch_label_keys() -> None:
    p = "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"

    def term(**extra) -> dict:
        return patched(POD, "spec.affinity", {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"topologyKey": "zone", **extra}]}})
    selector = {"labelSelector": {"matchLabels": {"app": "web"}}}
    assert_violation(term(matchLabelKeys=["pod-template-hash"]), f"{p}.matchLabelKeys",
                     "must not be specified when labelSelector is not set")
    assert_violation(term(**selector, matchLabelKeys=["a"], mismatchLabelKeys=["a"]), f"{p}.mismatchLabelKeys[0]",
                     "exists in both matchLabelKeys and mismatchLabelKeys")
    assert_violation(term(**selector, mismatchLabelKeys=["bad key"]), f"{p}.mismatchLabelKeys[0]",
                     "name part must consist of")
    assert not violations(term(**selector, matchLabelKeys=["pod-template-hash"], mismatchLabelKeys=["tenant"]))


def test_host_network_ports() -> None:
    pod = patched(POD, "spec.hostNetwork", True)
    assert violations(pod) == []  # hostPort defaults to containerPort
    assert_violation(patched(pod, f"{C}.ports.0.hostPort", 8080), f"{CP}.ports[0].hostPort",
                     "must match `containerPort` when `hostNetwork` is true")


def test_sidecar_init_container_may_have_probes() -> None:
    pod = patched(POD, "spec.initContainers.0.restartPolicy", "Always")
    pod = patched(pod, "spec.initContainers.0.readinessProbe", {"exec": {"command": ["true"]}})
    assert violations(pod) == []


def test_generate_name_prefix_may_end_with_dash() -> None:
    pod = patched(patched(POD, "metadata.name", DELETE), "metadata.generateName", "web-")
    assert violations(pod) == []


def test_quantities_in_kubernetes_spellings_are_accepted() -> None:
    pod = patched(POD, f"{C}.resources", {"requests": {"cpu": "0.1", "memory": "1e3"},
                                          "limits": {"cpu": "500m", "memory": "1.5Gi", "ephemeral-storage": "1G"}})
    assert violations(pod) == []


# --- updates ------------------------------------------------------------------------------------

def test_pod_update_allows_image_tolerations_and_labels() -> None:
    new = patched(POD, f"{C}.image", "nginx:1.26")
    new = patched(new, "spec.initContainers.0.image", "busybox:latest")  # same default pull policy
    new = patched(new, "metadata.labels", {"app": "web", "extra": "yes"})
    new["spec"]["tolerations"].append({"key": "b", "operator": "Exists", "effect": "NoExecute",
                                       "tolerationSeconds": 10})
    assert violations(new, old=POD) == []


@pytest.mark.parametrize("path, value, field, fragment", [
    (f"{C}.command", ["sh"], "spec", "pod updates may not change fields other than"),
    ("spec.restartPolicy", "Never", "spec", "changed: spec.restartPolicy"),
    ("spec.nodeName", "other", "spec", "changed: spec.nodeName"),
    ("spec.tolerations", [], "spec.tolerations", "existing toleration can not be modified"),
    ("metadata.name", "other", "metadata.name", 'Invalid value: "other": field is immutable'),
    ("metadata.namespace", "other", "metadata.namespace", "field is immutable"),
])
def test_pod_update_rejects(path: str, value, field: str, fragment: str) -> None:
    assert_violation(patched(POD, path, value), field, fragment, old=POD)


def test_active_deadline_may_only_shrink() -> None:
    old = patched(POD, "spec.activeDeadlineSeconds", 100)
    assert violations(patched(POD, "spec.activeDeadlineSeconds", 50), old=old) == []
    assert violations(patched(POD, "spec.activeDeadlineSeconds", 50), old=POD) == []
    assert_violation(patched(POD, "spec.activeDeadlineSeconds", 200), "spec.activeDeadlineSeconds",
                     "must be less than or equal to previous value", old=old)
    assert_violation(POD, "spec.activeDeadlineSeconds", "must not update from a positive integer to nil value",
                     old=old)


def test_uid_may_not_change() -> None:
    old = patched(POD, "metadata.uid", "u-1")
    assert_violation(patched(POD, "metadata.uid", "u-2"), "metadata.uid", "field is immutable", old=old)
    assert violations(old, old=old) == []


def test_finalizers_cannot_be_added_while_deleting() -> None:
    old = patched(POD, "metadata.deletionTimestamp", "2026-01-01T00:00:00Z")
    new = patched(old, "metadata.finalizers", ["example.com/hold"])
    assert_violation(new, "metadata.finalizers", "no new finalizers can be added if the object is being deleted",
                     old=old)


TSC = "spec.topologySpreadConstraints"
ZONE_SPREAD = {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
               "labelSelector": {"matchLabels": {"app": "web"}}}


def _spread(*constraints: dict) -> dict:
    return patched(POD, "spec.topologySpreadConstraints", list(constraints))


def test_valid_topology_spread_constraints_pass() -> None:
    soft = {**ZONE_SPREAD, "whenUnsatisfiable": "ScheduleAnyway", "matchLabelKeys": ["pod-template-hash"],
            "nodeAffinityPolicy": "Ignore", "nodeTaintsPolicy": "Honor"}
    assert violations(_spread({**ZONE_SPREAD, "minDomains": 2}, soft)) == []


@pytest.mark.parametrize(("change", "field", "fragment"), [
    ({"maxSkew": 0}, f"{TSC}[0].maxSkew", "must be greater than zero"),
    ({"topologyKey": ""}, f"{TSC}[0].topologyKey", "can not be empty"),
    ({"whenUnsatisfiable": "Sometimes"}, f"{TSC}[0].whenUnsatisfiable", "Unsupported value"),
    ({"minDomains": 0}, f"{TSC}[0].minDomains", "must be greater than zero"),
    ({"whenUnsatisfiable": "ScheduleAnyway", "minDomains": 2}, f"{TSC}[0].minDomains",
     "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway"),
    ({"nodeAffinityPolicy": "Maybe"}, f"{TSC}[0].nodeAffinityPolicy", "Unsupported value"),
    ({"matchLabelKeys": ["app"]}, f"{TSC}[0].matchLabelKeys[0]", "exists in both matchLabelKeys and labelSelector"),
])
def test_topology_spread_constraint_rules(change: dict, field: str, fragment: str) -> None:
    assert_violation(_spread({**ZONE_SPREAD, **change}), field, fragment)


def test_topology_spread_constraints_are_unique_by_key_and_action() -> None:
    assert_violation(_spread(ZONE_SPREAD, {**ZONE_SPREAD, "maxSkew": 2}),
                     f"{TSC}[1].{{topologyKey, whenUnsatisfiable}}", "Duplicate value")
