"""Pod and container security contexts: ids, seccomp and AppArmor profiles, sysctls, procMount and
the group policies (Kubernetes' validatePodSecurityContext / ValidateSecurityContext)."""

from __future__ import annotations

import re

from control.apiserver.validation.errors import Errors, duplicate, forbidden, invalid, not_supported, required
from skiff.v1 import pod_pb2

MAX_ID = 2147483647
PROFILE_TYPES = ("Localhost", "RuntimeDefault", "Unconfined")
PROC_MOUNT_TYPES = ("Default", "Unmasked")
SUPPLEMENTAL_GROUPS_POLICIES = ("Merge", "Strict")
FS_GROUP_CHANGE_POLICIES = ("OnRootMismatch", "Always")
SYSCTL_MAX_LENGTH = 253
SYSCTL_SEGMENT = r"[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
SYSCTL_FMT = rf"({SYSCTL_SEGMENT}[\./])*{SYSCTL_SEGMENT}"
_SYSCTL = re.compile(f"^{SYSCTL_FMT}$")
_IPC_SYSCTLS = ("kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.msgmax",
                "kernel.msgmnb", "kernel.msgmni", "kernel.shm_rmid_forced")


def validate_id_range(value: int, path: str) -> Errors:
    if 0 <= value <= MAX_ID:
        return []
    return [invalid(path, value, f"must be between 0 and {MAX_ID}, inclusive")]


def _validate_ids(sc, fields, path: str) -> Errors:
    errs: Errors = []
    for field, json in fields:
        if sc.HasField(field):
            errs += validate_id_range(getattr(sc, field), f"{path}.{json}")
    return errs


def _validate_profile(profile, path: str, what: str) -> Errors:
    """seccompProfile and appArmorProfile share a shape: a type, and a localhostProfile for Localhost."""
    if not profile.type:
        return [required(f"{path}.type")]
    if profile.type not in PROFILE_TYPES:
        return [not_supported(f"{path}.type", profile.type, PROFILE_TYPES)]
    if profile.type == "Localhost" and not profile.localhost_profile:
        return [required(f"{path}.localhostProfile", f"must be set when {what} type is Localhost")]
    if profile.type != "Localhost" and profile.HasField("localhost_profile"):
        return [invalid(f"{path}.localhostProfile", profile.localhost_profile,
                        f"can only be set when {what} type is Localhost")]
    return []


def _validate_profiles(sc, path: str) -> Errors:
    errs: Errors = []
    if sc.HasField("seccomp_profile"):
        errs += _validate_profile(sc.seccomp_profile, f"{path}.seccompProfile", "seccomp")
    if sc.HasField("app_armor_profile"):
        errs += _validate_profile(sc.app_armor_profile, f"{path}.appArmorProfile", "AppArmor")
    return errs


def _dotted(name: str) -> str:
    if "/" not in name:
        return name
    return "".join("." if ch == "/" else "/" if ch == "." else ch for ch in name)


def _validate_sysctls(spec: pod_pb2.PodSpec, path: str) -> Errors:
    errs: Errors = []
    seen: set[str] = set()
    for i, s in enumerate(spec.security_context.sysctls):
        p = f"{path}[{i}].name"
        if not s.name:
            errs.append(required(p))
            continue
        if len(s.name) > SYSCTL_MAX_LENGTH or not _SYSCTL.match(s.name):
            errs.append(invalid(p, s.name, f"must have at most {SYSCTL_MAX_LENGTH} characters and match "
                                           f"regex {SYSCTL_FMT}"))
            continue
        name = _dotted(s.name)
        if name in seen:
            errs.append(duplicate(p, s.name))
        seen.add(name)
        if spec.host_network and name.startswith("net."):
            errs.append(invalid(p, s.name, "may not be specified when 'hostNetwork' is true"))
        if spec.host_ipc and (name in _IPC_SYSCTLS or name.startswith("fs.mqueue.")):
            errs.append(invalid(p, s.name, "may not be specified when 'hostIPC' is true"))
    return errs


def validate_pod_security_context(spec: pod_pb2.PodSpec, path: str) -> Errors:
    sc, p = spec.security_context, f"{path}.securityContext"
    errs = _validate_ids(sc, (("run_as_user", "runAsUser"), ("run_as_group", "runAsGroup"),
                              ("fs_group", "fsGroup")), p)
    for i, gid in enumerate(sc.supplemental_groups):
        errs += validate_id_range(gid, f"{p}.supplementalGroups[{i}]")
    if spec.share_process_namespace and spec.host_pid:
        errs.append(invalid(f"{path}.shareProcessNamespace", True,
                            "ShareProcessNamespace and HostPID cannot both be enabled"))
    if sc.HasField("supplemental_groups_policy") and sc.supplemental_groups_policy not in SUPPLEMENTAL_GROUPS_POLICIES:
        errs.append(not_supported(f"{p}.supplementalGroupsPolicy", sc.supplemental_groups_policy,
                                  SUPPLEMENTAL_GROUPS_POLICIES))
    if sc.HasField("fs_group_change_policy") and sc.fs_group_change_policy not in FS_GROUP_CHANGE_POLICIES:
        errs.append(not_supported(f"{p}.fsGroupChangePolicy", sc.fs_group_change_policy,
                                  FS_GROUP_CHANGE_POLICIES))
    return errs + _validate_profiles(sc, p) + _validate_sysctls(spec, f"{p}.sysctls")


def validate_container_security_context(sc: pod_pb2.SecurityContext, path: str, host_users: bool) -> Errors:
    errs = _validate_ids(sc, (("run_as_user", "runAsUser"), ("run_as_group", "runAsGroup")), path)
    if sc.HasField("allow_privilege_escalation") and not sc.allow_privilege_escalation and sc.privileged:
        errs.append(invalid(path, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
    if sc.HasField("proc_mount"):
        if sc.proc_mount not in PROC_MOUNT_TYPES:
            errs.append(not_supported(f"{path}.procMount", sc.proc_mount, PROC_MOUNT_TYPES))
        elif sc.proc_mount == "Unmasked" and host_users:
            errs.append(forbidden(f"{path}.procMount", "`hostUsers` must be false to use `Unmasked`"))
    return errs + _validate_profiles(sc, path)
