"""The pure parts of pod security on the node: CRI security contexts, seccomp and AppArmor profiles,
runAsNonRoot, node admission, /etc/hosts, downward-API and projected payloads; and their validation."""

from __future__ import annotations

import os
import stat

import pytest

from control.client.convert import from_dict
from cri.runtime.v1 import api_pb2 as cri_pb
from node import volumes
from node.downwardapi import DownwardAPIError, field_value, format_map
from node.runtime.config import SandboxConfigError, container_config, etc_hosts, sandbox_config
from node.runtime.security import (
    DEFAULT_MASKED_PATHS,
    ImageUser,
    NodeSecurity,
    admit,
    container_security_context,
    image_user,
    verify_run_as_non_root,
)
from skiff.v1 import core_pb2
from tests.fixtures.validation import assert_violation, violations

SP = cri_pb.SecurityProfile


def pod(spec: dict | None = None, container: dict | None = None, **meta):
    return from_dict({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": "web", "namespace": "prod", "uid": "u-1", **meta},
                      "spec": {"containers": [{"name": "app", "image": "busybox", **(container or {})}],
                               **(spec or {})}})


def csc(p, image: ImageUser | None = None) -> cri_pb.LinuxContainerSecurityContext:
    return container_security_context(p, p.spec.containers[0], "/var/lib/agent/seccomp", image)


# ---- security contexts ----

def test_container_fields_override_pod_fields():
    p = pod({"securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000,
                                 "supplementalGroups": [4000, 2000], "seccompProfile": {"type": "RuntimeDefault"}}},
            {"securityContext": {"runAsUser": 1001, "seccompProfile": {"type": "Localhost",
                                                                       "localhostProfile": "prof.json"}}})
    sc = csc(p)
    assert sc.run_as_user.value == 1001 and sc.run_as_group.value == 3000
    assert list(sc.supplemental_groups) == [2000, 4000]  # fsGroup first, no duplicate
    assert sc.seccomp == SP(profile_type=SP.Localhost, localhost_ref="/var/lib/agent/seccomp/prof.json")
    box = sandbox_config(p, attempt=0, log_directory="/l", dns=None, node_hostname="n", seccomp_root="/s")
    assert box.linux.security_context.seccomp.profile_type == SP.RuntimeDefault
    assert box.linux.security_context.run_as_user.value == 1000


def test_defaults_unconfined_masked_and_image_user():
    sc = csc(pod(), ImageUser(uid=None, username="app"))
    assert sc.seccomp.profile_type == SP.Unconfined and not sc.HasField("apparmor")
    assert list(sc.masked_paths) == list(DEFAULT_MASKED_PATHS) and "/proc/sys" in sc.readonly_paths
    assert not sc.HasField("run_as_user") and sc.run_as_username == "app"
    assert not sc.no_new_privs
    with_group = csc(pod({"securityContext": {"runAsGroup": 5}}), ImageUser(uid=0))
    assert with_group.run_as_user.value == 0 and with_group.run_as_group.value == 5


def test_privileged_capabilities_proc_mount_and_apparmor():
    sc = csc(pod(container={"securityContext": {"privileged": True, "allowPrivilegeEscalation": True,
                                                "capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}}}))
    assert sc.privileged and not sc.no_new_privs and not sc.masked_paths
    assert list(sc.capabilities.add_capabilities) == ["NET_ADMIN"] and list(sc.capabilities.drop_capabilities) == [
        "ALL"]
    unmasked = csc(pod(container={"securityContext": {"procMount": "Unmasked",
                                                      "appArmorProfile": {"type": "Unconfined"}}}))
    assert not unmasked.masked_paths and unmasked.apparmor.profile_type == SP.Unconfined
    ro = csc(pod(container={"securityContext": {"readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False}}))
    assert ro.readonly_rootfs and ro.no_new_privs


def test_namespaces_and_sysctls_reach_the_sandbox():
    p = pod({"hostPID": True, "hostIPC": True, "securityContext": {
        "sysctls": [{"name": "kernel/shm_rmid_forced", "value": "1"}]}})
    box = sandbox_config(p, attempt=0, log_directory="/l", dns=None, node_hostname="n")
    ns = box.linux.security_context.namespace_options
    assert (ns.pid, ns.ipc, ns.network) == (cri_pb.NODE, cri_pb.NODE, cri_pb.POD)
    assert dict(box.linux.sysctls) == {"kernel.shm_rmid_forced": "1"}
    shared = csc(pod({"shareProcessNamespace": True}))
    assert shared.namespace_options.pid == cri_pb.POD


# ---- runAsNonRoot ----

@pytest.mark.parametrize("spec, image, message", [
    ({}, ImageUser(uid=0), 'container has runAsNonRoot and image will run as root (pod: "web_prod(u-1)", '
                           'container: app)'),
    ({"runAsUser": 0}, ImageUser(uid=5), "container's runAsUser breaks non-root policy (pod: \"web_prod(u-1)\", "
                                         "container: app)"),
    ({}, ImageUser(uid=None, username="app"), "container has runAsNonRoot and image has non-numeric user (app), "
                                              "cannot verify user is non-root"),
    ({"runAsUser": 1000}, ImageUser(uid=0), None),
    ({}, ImageUser(uid=1000), None),
])
def test_run_as_non_root(spec, image, message):
    p = pod({"securityContext": {"runAsNonRoot": True, **spec}})
    got = verify_run_as_non_root(p, p.spec.containers[0], image)
    assert (got is None) if message is None else got.startswith(message)
    assert verify_run_as_non_root(pod(), pod().spec.containers[0], ImageUser(uid=0)) is None


def test_image_user_from_image_status():
    assert image_user(None) == ImageUser(uid=0)
    assert image_user(cri_pb.Image(uid=cri_pb.Int64Value(value=7))) == ImageUser(uid=7)
    assert image_user(cri_pb.Image(username="www")) == ImageUser(uid=None, username="www")


# ---- node admission ----

@pytest.mark.parametrize("spec, reason, message", [
    ({"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}}, "SysctlForbidden",
     'forbidden sysctl: "kernel.msgmax" not allowlisted'),
    ({"hostNetwork": True, "securityContext": {"sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]}},
     "SysctlForbidden", 'forbidden sysctl: "net.ipv4.tcp_syncookies" not allowed with host net enabled'),
    ({"hostIPC": True, "securityContext": {"sysctls": [{"name": "kernel.shm_rmid_forced", "value": "1"}]}},
     "SysctlForbidden", 'forbidden sysctl: "kernel.shm_rmid_forced" not allowed with host ipc enabled'),
    ({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}, "AppArmor",
     "Cannot enforce AppArmor: AppArmor is not enabled on the host"),
    ({"securityContext": {"supplementalGroupsPolicy": "Strict"}}, "SupplementalGroupsPolicyNotSupported",
     "SupplementalGroupsPolicy=Strict is not supported in this node"),
    ({"os": {"name": "windows"}}, "PodOSNotSupported", "Failed to admit pod as the OS field doesn't match node OS"),
    ({"nodeSelector": {"kubernetes.io/os": "windows"}}, "PodOSSelectorNodeLabelDoesNotMatch",
     "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label"),
])
def test_node_refuses_what_it_cannot_honour(spec, reason, message):
    assert admit(pod(spec), NodeSecurity()) == (reason, message)


def test_node_admits_safe_and_allowed_sysctls():
    safe = pod({"securityContext": {"sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 2048"},
                                                {"name": "kernel.msgmax", "value": "1"}],
                                    "appArmorProfile": {"type": "Unconfined"}}})
    assert admit(safe, NodeSecurity(allowed_unsafe_sysctls=["kernel.msg*"])) is None
    assert admit(pod({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}),
                 NodeSecurity(apparmor_enabled=True)) is None


# ---- /etc/hosts ----

def test_host_aliases_in_etc_hosts():
    p = pod({"hostAliases": [{"ip": "10.1.2.3", "hostnames": ["foo.local", "bar.local"]}]})
    text = etc_hosts(p, "10.0.0.5", "cluster.local")
    assert text.endswith("10.0.0.5\tweb\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n")
    host = pod({"hostNetwork": True, "hostAliases": [{"ip": "10.9.9.9", "hostnames": ["x"]}]})
    text = etc_hosts(host, "", "cluster.local", "127.0.0.1 localhost node-a\n")
    assert text == ("# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost node-a\n"
                    "\n# Entries added by HostAliases.\n10.9.9.9\tx\n")


def test_set_hostname_as_fqdn():
    p = pod({"subdomain": "db", "setHostnameAsFQDN": True})
    box = sandbox_config(p, attempt=0, log_directory="/l", dns=None, node_hostname="n", cluster_domain="cluster.local")
    assert box.hostname == "web.db.prod.svc.cluster.local"
    assert etc_hosts(p, "10.0.0.5", "cluster.local").endswith("10.0.0.5\tweb.db.prod.svc.cluster.local\tweb\n")
    long = pod({"subdomain": "d" * 40, "setHostnameAsFQDN": True})
    with pytest.raises(SandboxConfigError, match="is too long \\(64 characters is the max, 67 characters requested"):
        sandbox_config(long, attempt=0, log_directory="/l", dns=None, node_hostname="n", cluster_domain="cluster.local")


def test_container_config_carries_the_security_context():
    p = pod({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}})
    cfg = container_config(p, p.spec.containers[0], attempt=0, image="i", env=[], mounts=[], seccomp_root="/s",
                           image_user=ImageUser(uid=0))
    assert cfg.linux.security_context.seccomp.profile_type == SP.RuntimeDefault
    assert cfg.linux.security_context.run_as_user.value == 0


# ---- downward API and projected payloads ----

def test_downward_api_fields_and_resources():
    p = pod(container={"resources": {"limits": {"cpu": "500m", "memory": "64Mi"}}},
            labels={"b": "2", "a": 'say "hi"'}, annotations={"note": "x"})
    assert field_value(p, "metadata.labels") == 'a="say \\"hi\\""\nb="2"'
    assert field_value(p, "metadata.annotations['note']") == "x" and field_value(p, "metadata.uid") == "u-1"
    assert format_map({}) == ""
    with pytest.raises(DownwardAPIError):
        field_value(p, "spec.nodeName")
    source = from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"volumes": [
        {"name": "v", "projected": {"defaultMode": 0o600, "sources": [
            {"configMap": {"name": "cm", "items": [{"key": "k", "path": "cfg/k"}]}},
            {"secret": {"name": "missing", "optional": True}},
            {"downwardAPI": {"items": [
                {"path": "cpu", "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu",
                                                     "divisor": "1m"}},
                {"path": "name", "mode": 0o400, "fieldRef": {"fieldPath": "metadata.name"}}]}}]}}]}}).spec.volumes[0]
    cm = core_pb2.ConfigMap(data={"k": "v"})
    payload = volumes.projected_payload(p, source.projected, {"cm": cm}, {}, {})
    assert payload == {"cfg/k": (b"v", 0o600), "cpu": (b"500", 0o600), "name": (b"web", 0o400)}


def test_unserved_sources_fail_the_mount_and_token_projections_take_the_fetched_token(tmp_path):
    iscsi = pod({"volumes": [{"name": "share", "iscsi": {"targetPortal": "10.0.0.1:3260", "iqn": "iqn.2001-04.x:y",
                                                          "lun": 0}}]})
    with pytest.raises(volumes.VolumeError, match='volume "share": no volume plugin matched: iscsi'):
        volumes.setup_volumes_sync(str(tmp_path), iscsi, {}, {})
    token = pod({"volumes": [{"name": "tok", "projected": {"sources": [
        {"serviceAccountToken": {"path": "token", "audience": "vault", "expirationSeconds": 600}}]}}]})
    projected = token.spec.volumes[0].projected
    payload = volumes.projected_payload(token, projected, {}, {}, {}, {("vault", 600): "jwt"})
    assert payload == {"token": (b"jwt", 0o644)}
    with pytest.raises(volumes.VolumeError, match="no token for service account"):
        volumes.projected_payload(token, projected, {}, {}, {}, {})
    bundle = pod({"volumes": [{"name": "b", "projected": {"sources": [{"clusterTrustBundle": {"path": "x"}}]}}]})
    with pytest.raises(volumes.VolumeError, match="clusterTrustBundle projections are not supported"):
        volumes.projected_payload(bundle, bundle.spec.volumes[0].projected, {}, {}, {})


def test_sub_path_expr_expands_env_and_refuses_missing_values(tmp_path):
    p = pod(container={"volumeMounts": [{"name": "d", "mountPath": "/d", "subPathExpr": "logs/$(POD)"}]},
            spec={"volumes": [{"name": "d", "emptyDir": {}}]})
    os.chmod(tmp_path, 0o777)
    mounts = volumes.container_mounts(p, p.spec.containers[0], {"d": str(tmp_path)}, {"POD": "web"})
    assert mounts[0].host_path == str(tmp_path / "logs" / "web")
    assert stat.S_IMODE(os.stat(mounts[0].host_path).st_mode) == 0o777
    with pytest.raises(volumes.VolumeError, match="missing value for POD"):
        volumes.container_mounts(p, p.spec.containers[0], {"d": str(tmp_path)}, {})


def test_fs_group_change_policy_on_root_mismatch(tmp_path):
    root = tmp_path / "vol"
    root.mkdir()
    (root / "f").write_text("x")
    assert not volumes.root_matches(str(root), 2000, read_only=False)
    volumes.apply_fs_group(str(root), 2000, read_only=False)
    assert volumes.root_matches(str(root), 2000, read_only=False)
    assert os.stat(root / "f").st_gid == 2000


# ---- validation ----

def vpod(spec: dict | None = None, container: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "busybox", **(container or {})}], **(spec or {})}}


@pytest.mark.parametrize("spec, container, field, fragment", [
    ({"securityContext": {"seccompProfile": {"type": "Localhost"}}}, {},
     "spec.securityContext.seccompProfile.localhostProfile", "must be set when seccomp type is Localhost"),
    ({}, {"securityContext": {"seccompProfile": {"type": "RuntimeDefault", "localhostProfile": "x"}}},
     "spec.containers[0].securityContext.seccompProfile.localhostProfile",
     "can only be set when seccomp type is Localhost"),
    ({}, {"securityContext": {"appArmorProfile": {"type": "Bogus"}}},
     "spec.containers[0].securityContext.appArmorProfile.type", 'Unsupported value: "Bogus"'),
    ({"securityContext": {"sysctls": [{"name": "Bad..name", "value": "1"}]}}, {},
     "spec.securityContext.sysctls[0].name", "must have at most 253 characters and match regex"),
    ({"securityContext": {"sysctls": [{"name": "a.b", "value": "1"}, {"name": "a/b", "value": "2"}]}}, {},
     "spec.securityContext.sysctls[1].name", "Duplicate value"),
    ({"hostNetwork": True, "securityContext": {"sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}]}},
     {}, "spec.securityContext.sysctls[0].name", "may not be specified when 'hostNetwork' is true"),
    ({}, {"securityContext": {"procMount": "Unmasked"}}, "spec.containers[0].securityContext.procMount",
     "`hostUsers` must be false to use `Unmasked`"),
    ({"securityContext": {"supplementalGroupsPolicy": "Loose"}}, {},
     "spec.securityContext.supplementalGroupsPolicy", 'Unsupported value: "Loose"'),
    ({"securityContext": {"fsGroupChangePolicy": "Never"}}, {}, "spec.securityContext.fsGroupChangePolicy",
     'supported values: "OnRootMismatch", "Always"'),
    ({"volumes": [{"name": "v", "emptyDir": {}, "nfs": {"server": "s", "path": "/"}}]}, {},
     "spec.volumes[0].nfs", "may not specify more than 1 volume type"),
    ({"volumes": [{"name": "v", "downwardAPI": {"items": [{"path": "x", "fieldRef": {
        "fieldPath": "spec.nodeName"}}]}}]}, {}, "spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath",
     'Unsupported value: "spec.nodeName"'),
    ({"volumes": [{"name": "v", "downwardAPI": {"items": [{"path": "x", "resourceFieldRef": {
        "resource": "limits.cpu"}}]}}]}, {}, "spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName",
     "Required value"),
    ({"volumes": [{"name": "v", "projected": {"sources": [
        {"configMap": {"name": "a", "items": [{"key": "k", "path": "f"}]}},
        {"secret": {"name": "b", "items": [{"key": "k", "path": "f"}]}}]}}]}, {},
     "spec.volumes[0].projected.sources[1]", "conflicting duplicate paths"),
    ({"volumes": [{"name": "v", "projected": {"sources": [{"serviceAccountToken": {
        "path": "t", "expirationSeconds": 60}}]}}]}, {},
     "spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds", "less than 10 minutes"),
    ({"volumes": [{"name": "v", "nfs": {"server": "s", "path": "x"}}]}, {}, "spec.volumes[0].nfs.path",
     "must be an absolute path"),
    ({"volumes": [{"name": "v", "persistentVolumeClaim": {"readOnly": True}}]}, {},
     "spec.volumes[0].persistentVolumeClaim.claimName", "Required value"),
    ({"volumes": [{"name": "v", "ephemeral": {}}]}, {}, "spec.volumes[0].ephemeral.volumeClaimTemplate",
     "Required value"),
    ({"volumes": [{"name": "v", "emptyDir": {}}]},
     {"volumeMounts": [{"name": "v", "mountPath": "/v", "subPath": "a", "subPathExpr": "$(X)"}]},
     "spec.containers[0].volumeMounts[0].subPathExpr", "subPathExpr and subPath are mutually exclusive"),
])
def test_validation(spec, container, field, fragment):
    assert_violation(vpod(spec, container), field, fragment)


def test_valid_security_and_volume_fields_pass():
    spec = {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "Localhost",
                                                                        "localhostProfile": "p.json"},
                                "sysctls": [{"name": "kernel.shm_rmid_forced", "value": "1"}],
                                "fsGroupChangePolicy": "OnRootMismatch", "supplementalGroupsPolicy": "Merge",
                                "windowsOptions": {"runAsUserName": "ignored"}},
            "volumes": [{"name": "d", "downwardAPI": {"items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
                {"name": "p", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
                {"name": "n", "nfs": {"server": "s", "path": "/"}}]}
    container = {"securityContext": {"procMount": "Default", "capabilities": {"drop": ["ALL"]}}}
    assert violations(vpod(spec, container)) == []
