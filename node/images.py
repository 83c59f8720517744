"""Image pull policy: the kubelet's EnsureImageExists (Always / IfNotPresent / Never, pull back-off).

Failures surface as ImagePullError whose `reason` is the waiting reason the kubelet reports
(ErrImagePull, ImagePullBackOff, ErrImageNeverPull, InvalidImageName).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

from cri.runtime.v1 import api_pb2 as pb
from node.backoff import Backoff
from node.cri import CRI, CRIError

ALWAYS, IF_NOT_PRESENT, NEVER = "Always", "IfNotPresent", "Never"
ERR_IMAGE_PULL = "ErrImagePull"
IMAGE_PULL_BACKOFF = "ImagePullBackOff"
ERR_IMAGE_NEVER_PULL = "ErrImageNeverPull"
INVALID_IMAGE_NAME = "InvalidImageName"
PULL_BACKOFF_BASE, PULL_BACKOFF_MAX = 10.0, 300.0

# The grammar of distribution's reference package: [domain/]path[:tag][@digest].
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"^(?P<name>(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$")


@dataclass(frozen=True)
class ImageReference:
    name: str
    tag: str
    digest: str


class ImagePullError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def parse_reference(image: str) -> ImageReference:
    """Splits an image reference; a reference with neither tag nor digest means tag "latest"."""
    m = _REFERENCE.match(image)
    if not m or len(m.group("name")) > 255:
        raise ImagePullError(INVALID_IMAGE_NAME, f'Failed to apply default image tag "{image}": '
                             f'couldn\'t parse image reference "{image}": invalid reference format')
    tag, digest = m.group("tag") or "", m.group("digest") or ""
    return ImageReference(m.group("name"), tag or ("" if digest else "latest"), digest)


def default_pull_policy(image: str) -> str:
    """The apiserver's default for imagePullPolicy: Always for :latest (or no tag), else IfNotPresent."""
    try:
        return ALWAYS if parse_reference(image).tag == "latest" else IF_NOT_PRESENT
    except ImagePullError:
        return IF_NOT_PRESENT


def pull_policy(image: str, policy: str) -> str:
    if policy not in ("", ALWAYS, IF_NOT_PRESENT, NEVER):
        raise ValueError(f'imagePullPolicy: Unsupported value: "{policy}": supported values: '
                         f'"Always", "IfNotPresent", "Never"')
    return policy or default_pull_policy(image)


class ImageManager:
    """Ensures images exist on the node per pull policy; concurrent pulls of one image are shared."""

    def __init__(self, cri: CRI, backoff: Backoff | None = None) -> None:
        self.cri = cri
        self.backoff = backoff or Backoff(PULL_BACKOFF_BASE, PULL_BACKOFF_MAX)
        self._pulls: dict[str, asyncio.Task[str]] = {}
        self._failed_at: dict[str, float] = {}

    async def ensure_image(self, image: str, policy: str = "", *, backoff_key: str = "",
                           sandbox_config: pb.PodSandboxConfig | None = None) -> str:
        """Returns the runtime's image reference (id) for image, pulling it if the policy says so.

        backoff_key scopes pull back-off (the kubelet uses pod uid + image); defaults to the image.
        """
        parse_reference(image)
        policy = pull_policy(image, policy)
        present = await self.cri.image_status(image) if policy != ALWAYS else None
        if present is not None:
            return present.id
        if policy == NEVER:
            raise ImagePullError(ERR_IMAGE_NEVER_PULL,
                                 f'Container image "{image}" is not present with pull policy of Never')
        return await self._pull(image, backoff_key or image, sandbox_config)

    async def _pull(self, image: str, key: str, sandbox_config: pb.PodSandboxConfig | None) -> str:
        if key in self._failed_at and self.backoff.in_backoff_since(key, self._failed_at[key]):
            raise ImagePullError(IMAGE_PULL_BACKOFF, f'Back-off pulling image "{image}"')
        task = self._pulls.get(image)
        if task is None:
            task = asyncio.ensure_future(self.cri.pull_image(image, sandbox_config=sandbox_config))
            self._pulls[image] = task
            task.add_done_callback(lambda _t: self._pulls.pop(image, None))
        try:
            ref = await asyncio.shield(task)
        except CRIError as e:
            now = time.time()
            self.backoff.next(key, now)
            self._failed_at[key] = now
            raise ImagePullError(ERR_IMAGE_PULL, f'Failed to pull image "{image}": {e.details}') from e
        self.backoff.forget(key)
        self._failed_at.pop(key, None)
        return ref
