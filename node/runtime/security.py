"""A pod's security settings on a Linux node (the kubelet's security context, seccomp, AppArmor and
sysctl handling): pure functions from the pod spec (and what the image says about its user) to CRI
security contexts, and the node's admission checks that refuse a pod it cannot honour.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from cri.runtime.v1 import api_pb2 as cri_pb
from skiff.v1 import pod_pb2

# The kubelet's securitycontext.DefaultMaskedPaths / DefaultReadonlyPaths (procMount Default).
DEFAULT_MASKED_PATHS = ("/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
                        "/sys/firmware", "/sys/devices/virtual/powercap")
DEFAULT_READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

# The kubelet's safe sysctls: namespaced and isolated from other pods (kernel >= 4.5 for the last two).
SAFE_SYSCTLS = ("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time")
# Which namespace a sysctl lives in (the kubelet's utilsysctl.NamespacedBy): ipc or net, else none.
_IPC_SYSCTLS = ("kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.msgmax",
                "kernel.msgmnb", "kernel.msgmni", "kernel.shm_rmid_forced")
_IPC_PREFIXES = ("fs.mqueue.",)
_NET_PREFIXES = ("net.",)

SYSCTL_FORBIDDEN = "SysctlForbidden"
APPARMOR_REASON = "AppArmor"
SUPPLEMENTAL_GROUPS_REASON = "SupplementalGroupsPolicyNotSupported"
POD_OS_NOT_SUPPORTED = "PodOSNotSupported"
POD_OS_SELECTOR_MISMATCH = "PodOSSelectorNodeLabelDoesNotMatch"
OS_LABEL = "kubernetes.io/os"
SECCOMP_DIR = "seccomp"  # under the agent's root dir, as the kubelet's <root-dir>/seccomp


@dataclass
class NodeSecurity:
    """What this node can enforce."""

    seccomp_root: str = "/var/lib/skiff-agent/seccomp"
    apparmor_enabled: bool = False
    allowed_unsafe_sysctls: Sequence[str] = field(default_factory=tuple)
    strict_supplemental_groups: bool = False  # the runtime honours SupplementalGroupsPolicy Strict


def host_apparmor_enabled() -> bool:
    """The kernel's AppArmor switch, as the kubelet checks it."""
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            return f.read().startswith("Y") and os.path.isdir("/sys/kernel/security/apparmor")
    except OSError:
        return False


# ---- effective settings: the container's own field, else the pod's ----

def _effective(pod: pod_pb2.Pod, container: pod_pb2.Container, name: str):
    sc, psc = container.security_context, pod.spec.security_context
    if sc.HasField(name):
        return getattr(sc, name)
    if psc.HasField(name):
        return getattr(psc, name)
    return None


def run_as_user(pod: pod_pb2.Pod, container: pod_pb2.Container) -> int | None:
    return _effective(pod, container, "run_as_user")


def run_as_group(pod: pod_pb2.Pod, container: pod_pb2.Container) -> int | None:
    return _effective(pod, container, "run_as_group")


def supplemental_groups(pod: pod_pb2.Pod) -> list[int]:
    """fsGroup first, then supplementalGroups (the kubelet's order)."""
    psc = pod.spec.security_context
    groups = [psc.fs_group] if psc.HasField("fs_group") else []
    return groups + [g for g in psc.supplemental_groups if g not in groups]


def seccomp_profile(profile: pod_pb2.SeccompProfile | None, root: str) -> cri_pb.SecurityProfile:
    """RuntimeDefault, Localhost (a file under <root-dir>/seccomp) or, when unset, Unconfined (the
    kubelet's default without --seccomp-default)."""
    if profile is None or profile.type == "Unconfined" or not profile.type:
        return cri_pb.SecurityProfile(profile_type=cri_pb.SecurityProfile.Unconfined)
    if profile.type == "Localhost":
        return cri_pb.SecurityProfile(profile_type=cri_pb.SecurityProfile.Localhost,
                                      localhost_ref=os.path.join(root, profile.localhost_profile))
    return cri_pb.SecurityProfile(profile_type=cri_pb.SecurityProfile.RuntimeDefault)


def apparmor_profile(profile: pod_pb2.AppArmorProfile | None) -> cri_pb.SecurityProfile | None:
    """None leaves the runtime's default (containerd applies its own profile where AppArmor is on)."""
    if profile is None or not profile.type:
        return None
    if profile.type == "Localhost":
        return cri_pb.SecurityProfile(profile_type=cri_pb.SecurityProfile.Localhost,
                                      localhost_ref=profile.localhost_profile)
    kind = cri_pb.SecurityProfile.Unconfined if profile.type == "Unconfined" else cri_pb.SecurityProfile.RuntimeDefault
    return cri_pb.SecurityProfile(profile_type=kind)


def cap_names(names: Sequence[str]) -> list[str]:
    """As the kubelet: unchanged, since the runtime adds the CAP_ prefix itself (CAP_X would become CAP_CAP_X)."""
    return list(names)


def namespace_options(pod: pod_pb2.Pod) -> cri_pb.NamespaceOption:
    spec = pod.spec
    if spec.host_pid:
        pid = cri_pb.NODE
    elif spec.HasField("share_process_namespace") and spec.share_process_namespace:
        pid = cri_pb.POD
    else:
        pid = cri_pb.CONTAINER
    return cri_pb.NamespaceOption(network=cri_pb.NODE if spec.host_network else cri_pb.POD, pid=pid,
                                  ipc=cri_pb.NODE if spec.host_ipc else cri_pb.POD)


@dataclass
class ImageUser:
    """The user an image runs as when the pod does not say (CRI ImageStatus): uid, else a name."""

    uid: int | None = 0
    username: str = ""


def container_security_context(pod: pod_pb2.Pod, container: pod_pb2.Container, seccomp_root: str,
                               image_user: ImageUser | None = None) -> cri_pb.LinuxContainerSecurityContext:
    sc = container.security_context
    out = cri_pb.LinuxContainerSecurityContext(
        privileged=sc.privileged, readonly_rootfs=sc.read_only_root_filesystem,
        no_new_privs=not sc.privileged and sc.HasField("allow_privilege_escalation")
        and not sc.allow_privilege_escalation,
        namespace_options=namespace_options(pod), supplemental_groups=supplemental_groups(pod))
    user, group = run_as_user(pod, container), run_as_group(pod, container)
    if user is not None:
        out.run_as_user.value = user
    elif image_user is not None:
        # As the kubelet: the image's user made explicit, so a runAsGroup has a user to go with.
        if image_user.uid is not None:
            out.run_as_user.value = image_user.uid
        out.run_as_username = image_user.username
    if group is not None:
        out.run_as_group.value = group
    selinux = _effective(pod, container, "se_linux_options")
    if selinux is not None:
        out.selinux_options.CopyFrom(_selinux(selinux))
    out.capabilities.add_capabilities.extend(cap_names(sc.capabilities.add))
    out.capabilities.drop_capabilities.extend(cap_names(sc.capabilities.drop))
    out.seccomp.CopyFrom(seccomp_profile(_effective(pod, container, "seccomp_profile"), seccomp_root))
    apparmor = apparmor_profile(_effective(pod, container, "app_armor_profile"))
    if apparmor is not None:
        out.apparmor.CopyFrom(apparmor)
    if not sc.privileged and sc.proc_mount != "Unmasked":
        out.masked_paths.extend(DEFAULT_MASKED_PATHS)
        out.readonly_paths.extend(DEFAULT_READONLY_PATHS)
    return out


def sandbox_security_context(pod: pod_pb2.Pod, seccomp_root: str) -> cri_pb.LinuxSandboxSecurityContext:
    psc = pod.spec.security_context
    privileged = any(c.security_context.privileged for c in [*pod.spec.init_containers, *pod.spec.containers])
    out = cri_pb.LinuxSandboxSecurityContext(namespace_options=namespace_options(pod), privileged=privileged,
                                             supplemental_groups=supplemental_groups(pod))
    if psc.HasField("run_as_user"):
        out.run_as_user.value = psc.run_as_user
    if psc.HasField("run_as_group"):
        out.run_as_group.value = psc.run_as_group
    if psc.HasField("se_linux_options"):
        out.selinux_options.CopyFrom(_selinux(psc.se_linux_options))
    out.seccomp.CopyFrom(seccomp_profile(psc.seccomp_profile if psc.HasField("seccomp_profile") else None,
                                         seccomp_root))
    return out


def _selinux(opts: pod_pb2.SELinuxOptions) -> cri_pb.SELinuxOption:
    """Passed on as the kubelet does; a runtime on a host without SELinux ignores them."""
    return cri_pb.SELinuxOption(user=opts.user, role=opts.role, type=opts.type, level=opts.level)


def sysctls(pod: pod_pb2.Pod) -> dict[str, str]:
    return {_dotted(s.name): s.value for s in pod.spec.security_context.sysctls}


def _dotted(name: str) -> str:
    """kernel/shm_rmid_forced -> kernel.shm_rmid_forced (a slash form keeps dots inside names as slashes)."""
    if "/" not in name:
        return name
    return "".join("." if ch == "/" else "/" if ch == "." else ch for ch in name)


# ---- runAsNonRoot ----

def pod_ref(pod: pod_pb2.Pod) -> str:
    """The kubelet's format.Pod: name_namespace(uid)."""
    return f"{pod.metadata.name}_{pod.metadata.namespace}({pod.metadata.uid})"


def verify_run_as_non_root(pod: pod_pb2.Pod, container: pod_pb2.Container, image_user: ImageUser) -> str | None:
    """The kubelet's refusal (a CreateContainerConfigError) when runAsNonRoot cannot hold, else None."""
    if not _effective(pod, container, "run_as_non_root"):
        return None
    where = f'(pod: "{pod_ref(pod)}", container: {container.name})'
    user = run_as_user(pod, container)
    if user is not None:
        return f"container's runAsUser breaks non-root policy {where}" if user == 0 else None
    if image_user.uid is None and image_user.username:
        return (f"container has runAsNonRoot and image has non-numeric user ({image_user.username}), "
                f"cannot verify user is non-root {where}")
    if image_user.uid == 0:
        return f"container has runAsNonRoot and image will run as root {where}"
    return None


def image_user(image: cri_pb.Image | None) -> ImageUser:
    """What CRI ImageStatus says; an image that says nothing runs as root (the kubelet's getImageUser)."""
    if image is not None and image.HasField("uid"):
        return ImageUser(uid=image.uid.value)
    if image is not None and image.username:
        return ImageUser(uid=None, username=image.username)
    return ImageUser(uid=0)


# ---- node admission ----

def _sysctl_namespace(name: str) -> str:
    if name in _IPC_SYSCTLS or name.startswith(_IPC_PREFIXES):
        return "ipc"
    if name.startswith(_NET_PREFIXES):
        return "net"
    return ""


def _allowed(name: str, patterns: Sequence[str]) -> bool:
    return any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in patterns)


def check_sysctl(name: str, pod: pod_pb2.Pod, allowed_unsafe: Sequence[str]) -> str | None:
    name = _dotted(name)
    if not _allowed(name, [*SAFE_SYSCTLS, *allowed_unsafe]):
        return f'"{name}" not allowlisted'
    namespace = _sysctl_namespace(name)
    if (namespace == "ipc" and pod.spec.host_ipc) or (namespace == "net" and pod.spec.host_network):
        return f'"{name}" not allowed with host {namespace} enabled'
    return None


def _wants_apparmor(pod: pod_pb2.Pod) -> bool:
    profiles = [pod.spec.security_context.app_armor_profile] if pod.spec.security_context.HasField(
        "app_armor_profile") else []
    profiles += [c.security_context.app_armor_profile for c in [*pod.spec.init_containers, *pod.spec.containers]
                 if c.security_context.HasField("app_armor_profile")]
    return any(p.type and p.type != "Unconfined" for p in profiles)


def admit(pod: pod_pb2.Pod, node: NodeSecurity) -> tuple[str, str] | None:
    """(reason, message) when this node must refuse the pod (the kubelet's admit handlers), else None."""
    if pod.spec.node_selector.get(OS_LABEL, "linux") != "linux":
        return POD_OS_SELECTOR_MISMATCH, f"Failed to admit pod as the `{OS_LABEL}` label doesn't match node label"
    if pod.spec.os.name not in ("", "linux"):
        return POD_OS_NOT_SUPPORTED, "Failed to admit pod as the OS field doesn't match node OS"
    for s in pod.spec.security_context.sysctls:
        problem = check_sysctl(s.name, pod, node.allowed_unsafe_sysctls)
        if problem:
            return SYSCTL_FORBIDDEN, f"forbidden sysctl: {problem}"
    if _wants_apparmor(pod) and not node.apparmor_enabled:
        return APPARMOR_REASON, "Cannot enforce AppArmor: AppArmor is not enabled on the host"
    if pod.spec.security_context.supplemental_groups_policy == "Strict" and not node.strict_supplemental_groups:
        return SUPPLEMENTAL_GROUPS_REASON, "SupplementalGroupsPolicy=Strict is not supported in this node"
    return None
