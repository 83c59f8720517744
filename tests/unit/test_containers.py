"""Pod spec -> CRI configs: quantities, resources, env, DNS, sandbox and container configs."""

from __future__ import annotations

import pytest

from control.client.convert import from_dict
from cri.runtime.v1 import api_pb2 as cri_pb
from node.runtime.config import (
    HASH_ANNOTATION,
    RESTART_COUNT_ANNOTATION,
    container_config,
    container_hash,
    etc_hosts,
    sandbox_config,
)
from node.runtime.dns import ResolvConf, parse_resolv_conf, pod_dns_config
from node.runtime.env import ContainerConfigError, EnvContext, container_env, expand
from node.runtime.resources import cpu_quota, cpu_shares, linux_resources, milli_cpu, qos_class
from skiff.v1 import core_pb2


def make_pod(spec: dict, name: str = "web", namespace: str = "prod", **meta) -> object:
    return from_dict({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": name, "namespace": namespace, "uid": "u-1", **meta},
                      "spec": spec})


def one(container: dict, **spec) -> object:
    return make_pod({"containers": [{"name": "app", "image": "busybox", **container}], **spec})


def test_parse_quantity_rejects_garbage():
    with pytest.raises(ValueError, match="quantities must match"):
        milli_cpu("12 apples")


def test_cpu_shares_and_quota_follow_the_kubelet():
    assert cpu_shares(0) == 2
    assert cpu_shares(1) == 2
    assert cpu_shares(250) == 256
    assert cpu_shares(1000) == 1024
    assert cpu_quota(0) == 0
    assert cpu_quota(5) == 1000  # minimum quota
    assert cpu_quota(500) == 50_000


def test_resources_to_linux_resources():
    pod = one({"resources": {"requests": {"cpu": "250m", "memory": "64Mi"},
                             "limits": {"cpu": "500m", "memory": "128Mi"}}})
    res = linux_resources(pod, pod.spec.containers[0], memory_capacity=2**30)
    assert (res.cpu_shares, res.cpu_period, res.cpu_quota) == (256, 100_000, 50_000)
    assert res.memory_limit_in_bytes == 128 * 2**20
    assert 2 <= res.oom_score_adj <= 999


def test_limits_only_default_requests_and_make_guaranteed():
    pod = one({"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}})
    assert qos_class(pod) == "Guaranteed"
    res = linux_resources(pod, pod.spec.containers[0])
    assert res.cpu_shares == 1024 and res.oom_score_adj == -997


def test_qos_classes():
    assert qos_class(one({})) == "BestEffort"
    assert qos_class(one({"resources": {"requests": {"cpu": "100m"}}})) == "Burstable"
    res = linux_resources(one({}), one({}).spec.containers[0])
    assert res.cpu_shares == 2 and res.cpu_quota == 0 and res.memory_limit_in_bytes == 0
    assert res.oom_score_adj == 1000


@pytest.mark.parametrize("text,expected", [
    ("$(A)-$(B)", "1-$(B)"), ("$$(A)", "$(A)"), ("$A", "$A"), ("$(A", "$(A"), ("x$", "x$"), ("$$", "$"),
])
def test_expand(text, expected):
    assert expand(text, {"A": "1"}.get) == expected


def ctx(**kw) -> EnvContext:
    cm = core_pb2.ConfigMap(data={"color": "blue", "bad key": "x", "size": "L"})
    secret = core_pb2.Secret(data={"password": b"s3cret"})
    return EnvContext(config_maps={"cm": cm}, secrets={"sec": secret}, pod_ip="10.244.0.5",
                        host_ip="10.0.0.1", node_allocatable={"cpu": "2", "memory": "4Gi"}, **kw)


def test_env_sources_and_order():
    pod = one({
        "envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "CM_"}, {"secretRef": {"name": "sec"}}],
        "env": [
            {"name": "PLAIN", "value": "v-$(CM_color)"},
            {"name": "CM_size", "value": "overridden"},
            {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "color"}}},
            {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "password"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
            {"name": "TIER", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['tier']"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        ]}, nodeName="n1")
    pod.metadata.labels["tier"] = "front"
    env = container_env(pod, pod.spec.containers[0], ctx())
    assert env == [("CM_color", "blue"), ("CM_size", "overridden"), ("password", "s3cret"),
                   ("PLAIN", "v-blue"), ("FROM_CM", "blue"), ("FROM_SECRET", "s3cret"), ("POD", "web"),
                   ("NS", "prod"), ("IP", "10.244.0.5"), ("HOST", "10.0.0.1"), ("TIER", "front"),
                   ("NODE", "n1")]


def test_resource_field_refs_with_divisors_and_node_fallback():
    pod = one({"resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "250m"}},
               "env": [
                   {"name": "MEM_MI", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory",
                                                                         "divisor": "1Mi"}}},
                   {"name": "CPU_REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu"}}},
                   {"name": "CPU_REQ_M", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu",
                                                                            "divisor": "1m"}}},
                   {"name": "CPU_LIM", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
               ]})
    env = dict(container_env(pod, pod.spec.containers[0], ctx()))
    assert env == {"MEM_MI": "128", "CPU_REQ": "1", "CPU_REQ_M": "250", "CPU_LIM": "2"}


@pytest.mark.parametrize("var,message", [
    ({"configMapKeyRef": {"name": "missing", "key": "k"}}, 'configmap "missing" not found'),
    ({"configMapKeyRef": {"name": "cm", "key": "nope"}}, "couldn't find key nope in ConfigMap prod/cm"),
    ({"secretKeyRef": {"name": "gone", "key": "k"}}, 'secret "gone" not found'),
])
def test_missing_references_are_config_errors(var, message):
    pod = one({"env": [{"name": "X", "valueFrom": var}]})
    with pytest.raises(ContainerConfigError, match=message):
        container_env(pod, pod.spec.containers[0], ctx())


def test_optional_references_are_skipped():
    pod = one({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "missing", "key": "k",
                                                                       "optional": True}}}],
               "envFrom": [{"secretRef": {"name": "absent", "optional": True}}]})
    assert container_env(pod, pod.spec.containers[0], ctx()) == []


def test_container_config():
    pod = one({"command": ["/bin/sh", "-c"], "args": ["echo $(GREETING) $$(HOME)"],
               "env": [{"name": "GREETING", "value": "hi"}], "workingDir": "/tmp", "tty": True,
               "securityContext": {"runAsUser": 1000, "capabilities": {"add": ["NET_ADMIN"]},
                                   "allowPrivilegeEscalation": False}})
    mount = cri_pb.Mount(container_path="/data", host_path="/var/x")
    cfg = container_config(pod, pod.spec.containers[0], attempt=3, image="sha256:abc",
                             env=[("GREETING", "hi")], mounts=[mount])
    assert cfg.metadata.name == "app" and cfg.metadata.attempt == 3
    assert list(cfg.args) == ["echo hi $(HOME)"]
    assert cfg.image.image == "sha256:abc" and cfg.working_dir == "/tmp" and cfg.tty
    assert cfg.labels == {"io.kubernetes.pod.uid": "u-1", "io.kubernetes.pod.name": "web",
                          "io.kubernetes.pod.namespace": "prod", "io.kubernetes.container.name": "app"}
    assert cfg.annotations[RESTART_COUNT_ANNOTATION] == "3"
    assert cfg.log_path == "app/3.log"
    assert [(e.key, e.value) for e in cfg.envs] == [("GREETING", b"hi")]
    sc = cfg.linux.security_context
    assert sc.run_as_user.value == 1000 and list(sc.capabilities.add_capabilities) == ["NET_ADMIN"]
    assert sc.no_new_privs and sc.namespace_options.pid == cri_pb.CONTAINER
    assert list(cfg.mounts) == [mount]


def test_sandbox_config():
    pod = make_pod({"containers": [{"name": "a", "image": "i", "ports": [{"containerPort": 80,
                                                                            "hostPort": 8080}]}],
                    "hostname": "h1", "shareProcessNamespace": True}, labels={"app": "web"})
    cfg = sandbox_config(pod, attempt=1, log_directory="/logs/x", dns=cri_pb.DNSConfig(servers=["1.2.3.4"]),
                           node_hostname="node-a")
    assert cfg.metadata.uid == "u-1" and cfg.metadata.attempt == 1 and cfg.hostname == "h1"
    assert cfg.labels["app"] == "web" and cfg.labels["io.kubernetes.pod.uid"] == "u-1"
    assert [(p.container_port, p.host_port) for p in cfg.port_mappings] == [(80, 8080)]
    assert cfg.linux.security_context.namespace_options.pid == cri_pb.POD
    assert list(cfg.dns_config.servers) == ["1.2.3.4"]
    host = one({}, hostNetwork=True)
    cfg = sandbox_config(host, attempt=0, log_directory="/l", dns=None, node_hostname="node-a")
    assert cfg.hostname == "" and cfg.linux.security_context.namespace_options.network == cri_pb.NODE


HOST = parse_resolv_conf("# comment\nnameserver 192.0.2.53\nsearch corp.example\noptions edns0\n")


def test_resolv_conf_parsing():
    assert HOST == ResolvConf(["192.0.2.53"], ["corp.example"], ["edns0"])


def test_dns_cluster_first():
    dns = pod_dns_config(one({}), ["10.96.0.10"], "cluster.local", HOST)
    assert list(dns.servers) == ["10.96.0.10"]
    assert list(dns.searches) == ["prod.svc.cluster.local", "svc.cluster.local", "cluster.local",
                                  "corp.example"]
    assert list(dns.options) == ["ndots:5"]


def test_dns_default_and_host_network_and_none():
    for pod in (one({}, dnsPolicy="Default"), one({}, hostNetwork=True)):
        dns = pod_dns_config(pod, ["10.96.0.10"], "cluster.local", HOST)
        assert list(dns.servers) == ["192.0.2.53"] and list(dns.searches) == ["corp.example"]
    options = [{"name": "ndots", "value": "2"}, {"name": "rotate"}]
    none = one({}, dnsPolicy="None", dnsConfig={"nameservers": ["1.1.1.1"], "searches": ["a.b"],
                                                "options": options})
    dns = pod_dns_config(none, ["10.96.0.10"], "cluster.local", HOST)
    assert (list(dns.servers), list(dns.searches)) == (["1.1.1.1"], ["a.b"])
    assert list(dns.options) == ["ndots:2", "rotate"]


def test_dns_config_merges_into_cluster_first():
    pod = one({}, dnsConfig={"options": [{"name": "ndots", "value": "1"}], "searches": ["extra.example"]})
    dns = pod_dns_config(pod, ["10.96.0.10"], "cluster.local", ResolvConf())
    assert list(dns.options) == ["ndots:1"]
    assert list(dns.searches)[-1] == "extra.example"


def test_etc_hosts():
    text = etc_hosts(one({}, hostname="h", subdomain="sub"), "10.244.0.7", "cluster.local")
    assert text.startswith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n")
    assert text.endswith("10.244.0.7\th.sub.prod.svc.cluster.local\th\n")
    assert etc_hosts(one({}), "10.244.0.8", "cluster.local").endswith("10.244.0.8\tweb\n")


def test_service_links():
    svc = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "redis-main", "namespace": "prod"},
                     "spec": {"clusterIP": "10.96.0.11", "ports": [{"name": "db", "port": 6379},
                                                                   {"port": 53, "protocol": "UDP"}]}})
    headless = from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hl", "namespace": "prod"},
                          "spec": {"clusterIP": "None", "ports": [{"port": 80}]}})
    pod = one({"env": [{"name": "URL", "value": "redis://$(REDIS_MAIN_SERVICE_HOST)"},
                       {"name": "REDIS_MAIN_SERVICE_PORT", "value": "mine"}]})
    env = dict(container_env(pod, pod.spec.containers[0], EnvContext(services=[svc, headless])))
    assert env["URL"] == "redis://10.96.0.11" and env["REDIS_MAIN_SERVICE_PORT"] == "mine"
    assert env["REDIS_MAIN_SERVICE_HOST"] == "10.96.0.11" and env["REDIS_MAIN_SERVICE_PORT_DB"] == "6379"
    assert env["REDIS_MAIN_PORT"] == "tcp://10.96.0.11:6379"
    assert env["REDIS_MAIN_PORT_53_UDP"] == "udp://10.96.0.11:53" and env["REDIS_MAIN_PORT_53_UDP_PROTO"] == "udp"
    assert env["REDIS_MAIN_PORT_6379_TCP_ADDR"] == "10.96.0.11"
    assert not any(k.startswith("HL_") for k in env)


def test_container_hash_follows_the_definition():
    pod = one({"image": "a:1"})
    first = container_hash(pod.spec.containers[0])
    assert first == container_hash(one({"image": "a:1"}).spec.containers[0])
    pod.spec.containers[0].image = "a:2"
    assert container_hash(pod.spec.containers[0]) != first
    cfg = container_config(pod, pod.spec.containers[0], attempt=0, image="x", env=[], mounts=[])
    assert cfg.annotations[HASH_ANNOTATION] == container_hash(pod.spec.containers[0])
