"""From a metric's proposal to the HorizontalPodAutoscaler's desired count (Kubernetes' normalization).

Pure, with the time passed in. Without `behavior`, the highest proposal of the downscale
stabilization window (5 min) wins and a scale-up is capped at max(2 × current, 4). With `behavior`,
each direction's stabilizationWindowSeconds bounds the proposal (scale up to the lowest recent one,
down to the highest), then the scaling policies cap the change: each policy allows, from the count
at the start of its period (the current count minus what was added in the period, plus what was
removed), `Pods` more/fewer pods or `Percent` more/less, and selectPolicy picks the largest change
(Max), the smallest (Min) or none (Disabled). minReplicas/maxReplicas bound the result. Each step
reports Kubernetes' condition reason and message.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

PODS, PERCENT = "Pods", "Percent"
MAX, MIN, DISABLED = "Max", "Min", "Disabled"
DEFAULT_DOWNSCALE_WINDOW = 300.0
SCALE_UP_LIMIT_FACTOR, SCALE_UP_LIMIT_MINIMUM = 2.0, 4.0

READY_FOR_NEW_SCALE = ("ReadyForNewScale", "recommended size matches current size")
SCALE_UP_STABILIZED = ("ScaleUpStabilized",
                       "recent recommendations were lower than current one, applying the lowest recent recommendation")
SCALE_DOWN_STABILIZED = ("ScaleDownStabilized",
                         "recent recommendations were higher than current one, applying the highest recent "
                         "recommendation")
WITHIN_RANGE = ("DesiredWithinRange", "the desired count is within the acceptable range")
TOO_MANY = ("TooManyReplicas", "the desired replica count is more than the maximum replica count")
TOO_FEW = ("TooFewReplicas", "the desired replica count is less than the minimum replica count")
SCALE_UP_LIMIT = ("ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate")
SCALE_DOWN_LIMIT = ("ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate")


@dataclass(frozen=True)
class Policy:
    type: str
    value: int
    period_seconds: int


@dataclass(frozen=True)
class Rules:
    stabilization_window: float
    select_policy: str = MAX
    policies: tuple[Policy, ...] = ()


# autoscaling/v2's defaults for a behavior that leaves a direction out.
DEFAULT_SCALE_UP = Rules(0, MAX, (Policy(PODS, 4, 15), Policy(PERCENT, 100, 15)))
DEFAULT_SCALE_DOWN = Rules(DEFAULT_DOWNSCALE_WINDOW, MAX, (Policy(PERCENT, 100, 15),))


@dataclass(frozen=True)
class Behavior:
    scale_up: Rules = DEFAULT_SCALE_UP
    scale_down: Rules = DEFAULT_SCALE_DOWN


@dataclass(frozen=True)
class Outcome:
    replicas: int
    able_to_scale: tuple[str, str]  # AbleToScale=True reason and message
    limited: bool  # ScalingLimited status
    limit: tuple[str, str]  # ScalingLimited reason and message


@dataclass
class _Stamped:
    value: int
    at: float


@dataclass
class History:
    """What one HorizontalPodAutoscaler's normalization remembers between syncs."""
    recommendations: list[_Stamped] = field(default_factory=list)
    scale_ups: list[_Stamped] = field(default_factory=list)
    scale_downs: list[_Stamped] = field(default_factory=list)

    def record_scale(self, behavior: Behavior | None, previous: int, new: int, now: float) -> None:
        """A rescale from `previous` to `new`, for the policies' periods."""
        if behavior is None:
            return
        change = new - previous
        events, rules = (self.scale_ups, behavior.scale_up) if change >= 0 else (self.scale_downs, behavior.scale_down)
        longest = max((p.period_seconds for p in rules.policies), default=0)
        events[:] = [e for e in events if e.at > now - longest]
        events.append(_Stamped(change if change >= 0 else -change, now))


def _remember(history: History, proposal: int, now: float, keep: float) -> None:
    history.recommendations[:] = [r for r in history.recommendations if r.at >= now - keep]
    history.recommendations.append(_Stamped(proposal, now))


def _bounds(desired: int, current: int, lowest: int, highest: int, up_limit: int,
            down_limit: int) -> tuple[int, tuple[str, str]]:
    if desired > current:
        allowed, limit = (up_limit, SCALE_UP_LIMIT) if highest > up_limit else (highest, TOO_MANY)
        if desired > allowed:
            return allowed, limit
    elif desired < current:
        allowed, limit = (down_limit, SCALE_DOWN_LIMIT) if lowest < down_limit else (lowest, TOO_FEW)
        if desired < allowed:
            return allowed, limit
    return desired, WITHIN_RANGE


def normalize_legacy(history: History, current: int, proposal: int, min_replicas: int, max_replicas: int,
                     now: float, downscale_window: float = DEFAULT_DOWNSCALE_WINDOW) -> Outcome:
    """Without `behavior`: the downscale stabilization window and the fixed scale-up limit."""
    recent = [r.value for r in history.recommendations if r.at >= now - downscale_window]
    stabilized = max([proposal, *recent])
    _remember(history, proposal, now, downscale_window)
    able = SCALE_DOWN_STABILIZED if stabilized != proposal else READY_FOR_NEW_SCALE
    up_limit = int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))
    highest, too_many = (up_limit, SCALE_UP_LIMIT) if max_replicas > up_limit else (max_replicas, TOO_MANY)
    lowest = max(min_replicas, 1)
    if stabilized < lowest:
        desired, limit = lowest, TOO_FEW
    elif stabilized > highest:
        desired, limit = highest, too_many
    else:
        desired, limit = stabilized, WITHIN_RANGE
    return Outcome(desired, able, desired != stabilized, limit)


def _changed_within(events: list[_Stamped], period: int, now: float) -> int:
    return sum(e.value for e in events if e.at > now - period)


def _period_start(history: History, current: int, period: int, now: float) -> int:
    """The replicas at the start of a policy's period: today's, less what was added in it, plus what was removed."""
    return current - _changed_within(history.scale_ups, period, now) + _changed_within(history.scale_downs, period, now)


def scale_up_limit(history: History, current: int, rules: Rules, now: float) -> int:
    if rules.select_policy == DISABLED:
        return current
    proposals = []
    for p in rules.policies:
        start = _period_start(history, current, p.period_seconds, now)
        proposals.append(start + p.value if p.type == PODS else math.ceil(start * (1 + p.value / 100)))
    if not proposals:
        return current
    return min(proposals) if rules.select_policy == MIN else max(proposals)


def scale_down_limit(history: History, current: int, rules: Rules, now: float) -> int:
    if rules.select_policy == DISABLED:
        return current
    proposals = []
    for p in rules.policies:
        start = _period_start(history, current, p.period_seconds, now)
        proposals.append(start - p.value if p.type == PODS else int(start * (1 - p.value / 100)))
    if not proposals:
        return current
    return max(proposals) if rules.select_policy == MIN else min(proposals)


def _stabilize(history: History, current: int, proposal: int, behavior: Behavior,
               now: float) -> tuple[int, tuple[str, str]]:
    up_cutoff = now - behavior.scale_up.stabilization_window
    down_cutoff = now - behavior.scale_down.stabilization_window
    up, down = proposal, proposal
    for r in history.recommendations:
        if r.at > up_cutoff:
            up = min(up, r.value)
        if r.at > down_cutoff:
            down = max(down, r.value)
    keep = max(behavior.scale_up.stabilization_window, behavior.scale_down.stabilization_window)
    _remember(history, proposal, now, keep)
    stabilized = min(max(current, up), down)
    return stabilized, SCALE_UP_STABILIZED if proposal >= current else SCALE_DOWN_STABILIZED


def normalize(history: History, current: int, proposal: int, min_replicas: int, max_replicas: int,
              behavior: Behavior, now: float) -> Outcome:
    """With `behavior`: per-direction stabilization windows, then the scaling policies."""
    stabilized, reason = _stabilize(history, current, proposal, behavior, now)
    able = reason if stabilized != proposal else READY_FOR_NEW_SCALE
    up_limit = max(scale_up_limit(history, current, behavior.scale_up, now), current)
    down_limit = min(scale_down_limit(history, current, behavior.scale_down, now), current)
    desired, limit = _bounds(stabilized, current, min_replicas, max_replicas, up_limit, down_limit)
    return Outcome(desired, able, desired != stabilized, limit)
