"""The HorizontalPodAutoscaler's algorithm on cases from Kubernetes' documented behaviour: the usage
ratio and its tolerance, pods without metrics, unready pods, each behavior policy and window."""

from __future__ import annotations

import pytest

from control.controllers import hpanormalize as hn
from control.controllers import replicacalculator as rc
from control.controllers.replicacalculator import PodInfo, PodMetric, Timing

NOW = 10_000.0
T = Timing(NOW)
OLD = NOW - 3600  # started and Ready long ago


def pods(*names: str, request: int = 1000, **kw) -> list[PodInfo]:
    return [PodInfo(n, start_time=OLD, ready_transition=OLD + 60, request=request, **kw) for n in names]


def metrics(**values: int) -> dict[str, PodMetric]:
    return {n: PodMetric(v, timestamp=NOW - 5) for n, v in values.items()}


@pytest.mark.parametrize(("usage", "current", "expected"), [
    (500, 3, 3),    # exactly on target
    (1000, 3, 6),   # 100 % of request against 50 %: ratio 2
    (540, 3, 3),    # ratio 1.08: within the 0.1 tolerance
    (460, 3, 3),    # ratio 0.92: within the tolerance
    (600, 3, 4),    # ratio 1.2: ceil(3.6)
    (100, 3, 1),    # ratio 0.2: ceil(0.6)
])
def test_utilization_ratio_and_tolerance(usage, current, expected):
    names = [f"p{i}" for i in range(current)]
    r = rc.utilization_replicas(current, 50, pods(*names), metrics(**{n: usage for n in names}), "cpu", T)
    assert (r.replicas, r.utilization, r.average_value) == (expected, usage * 100 // 1000, usage)


def test_tolerance_is_a_parameter():
    r = rc.utilization_replicas(3, 50, pods("a", "b", "c"), metrics(a=540, b=540, c=540), "cpu", T, tolerance=0.05)
    assert r.replicas == 4


def test_missing_metrics_count_as_zero_on_scale_up():
    # a and b at 100 % (ratio 2); c has no metrics: taken as 0 %, 2000/3000 = 66 % → ratio 1.33 → ceil(4.0)
    r = rc.utilization_replicas(3, 50, pods("a", "b", "c"), metrics(a=1000, b=1000), "cpu", T)
    assert (r.replicas, r.utilization) == (4, 100)


def test_missing_metrics_count_as_full_request_on_scale_down():
    # a, b at 10 % (ratio 0.2); c, d without metrics taken as 100 %: 2200/4000 = 55 % → no longer a scale-down
    r = rc.utilization_replicas(4, 50, pods("a", "b", "c", "d"), metrics(a=100, b=100), "cpu", T)
    assert r.replicas == 4
    # one missing of four: 100+100+100+1000 = 32 % → ratio 0.64 → ceil(2.56)
    r = rc.utilization_replicas(4, 50, pods("a", "b", "c", "d"), metrics(a=100, b=100, c=100), "cpu", T)
    assert r.replicas == 3


def test_missing_metrics_use_the_target_when_it_is_above_100_percent():
    # target 200 %: a at 20 % (ratio 0.1); b missing taken as 200 % → 110 % → ratio 0.55 → ceil(1.1)
    r = rc.utilization_replicas(2, 200, pods("a", "b"), metrics(a=200), "cpu", T)
    assert r.replicas == 2


def test_a_proposal_the_assumption_would_reverse_keeps_the_count():
    # a at 30 % (ratio 0.6, a scale-down); b missing at 100 % → 65 % → ratio 1.3, a scale-up: no change
    r = rc.utilization_replicas(2, 50, pods("a", "b"), metrics(a=300), "cpu", T)
    assert r.replicas == 2


def test_not_yet_ready_pods_count_as_zero_on_scale_up():
    ready = pods("a", "b")
    pending = [PodInfo("c", phase="Pending", request=1000, start_time=None, ready=None)]
    r = rc.utilization_replicas(3, 50, ready + pending, metrics(a=1000, b=1000), "cpu", T)
    assert r.replicas == 4  # 2000 / 3000 = 66 % → ceil(1.33 × 3)
    # one ready pod at 100 % and one unready: 50 % of both → within tolerance
    r = rc.utilization_replicas(2, 50, pods("a") + pending, metrics(a=1000), "cpu", T)
    assert r.replicas == 2


def test_unready_pods_are_left_out_of_a_scale_down():
    unready = [PodInfo("c", start_time=NOW - 10, ready="False", ready_transition=NOW - 10, request=1000)]
    r = rc.utilization_replicas(3, 50, pods("a", "b") + unready, metrics(a=100, b=100, c=900), "cpu", T)
    assert r.replicas == 1  # only a and b: 10 % → ceil(0.2 × 2)


def test_deleted_and_failed_pods_are_ignored():
    gone = [PodInfo("x", deleting=True, start_time=OLD, request=1000),
            PodInfo("y", phase="Failed", start_time=OLD, request=1000)]
    r = rc.utilization_replicas(2, 50, pods("a", "b") + gone, metrics(a=1000, b=1000, x=0, y=0), "cpu", T)
    assert r.replicas == 4


@pytest.mark.parametrize(("pod", "unready"), [
    (PodInfo("p", ready=None, start_time=OLD), True),                                        # no Ready condition
    (PodInfo("p", start_time=None), True),                                                   # not started
    (PodInfo("p", start_time=NOW - 60, ready="False", ready_transition=NOW - 60), True),     # starting, not Ready
    (PodInfo("p", start_time=NOW - 60, ready="True", ready_transition=NOW - 10), True),      # sample predates a window
    (PodInfo("p", start_time=NOW - 60, ready="True", ready_transition=NOW - 30), False),     # a full window since Ready
    (PodInfo("p", start_time=OLD, ready="False", ready_transition=OLD + 10), True),          # never was Ready
    (PodInfo("p", start_time=OLD, ready="False", ready_transition=OLD + 100), False),        # was Ready once
])
def test_cpu_readiness_rules(pod, unready):
    g = rc.group_pods([pod], {"p": PodMetric(100, timestamp=NOW - 5, window=15)}, "cpu", T)
    assert (pod.name in g.unready) is unready
    assert g.ready == (0 if unready else 1)


def test_readiness_is_ignored_for_memory():
    pod = PodInfo("p", start_time=NOW - 60, ready="False", ready_transition=NOW - 60)
    assert rc.group_pods([pod], {"p": PodMetric(1)}, "memory", T).ready == 1


def test_no_pods_and_no_usable_metrics_are_errors():
    with pytest.raises(rc.MetricError, match="no pods returned by selector while calculating replica count"):
        rc.utilization_replicas(1, 50, [], {}, "cpu", T)
    pending = [PodInfo("a", phase="Pending", request=1000)]
    with pytest.raises(rc.MetricError, match=r"did not receive metrics for targeted pods \(pods might be unready\)"):
        rc.utilization_replicas(1, 50, pending, metrics(a=5), "cpu", T)


def test_average_value_target():
    r = rc.average_value_replicas(2, 500, pods("a", "b"), metrics(a=1000, b=1000), "cpu", T)
    assert (r.replicas, r.utilization, r.average_value) == (4, None, 1000)
    r = rc.average_value_replicas(2, 500, pods("a", "b"), metrics(a=520, b=520), "cpu", T)
    assert r.replicas == 2  # ratio 1.04
    # scale-down with a missing pod taken at the target: (100 + 500) / 2 = 300 → ratio 0.6 → ceil(1.2)
    r = rc.average_value_replicas(2, 500, pods("a", "b"), metrics(a=100), "cpu", T)
    assert r.replicas == 2
    r = rc.average_value_replicas(3, 500, pods("a", "b", "c"), metrics(a=100, b=100), "cpu", T)
    assert r.replicas == 2  # (100 + 100 + 500) / 3 = 233 → ratio 0.466 → ceil(1.4)


# --- normalization: stabilization, limits and behavior --------------------------------------------

def test_legacy_scale_up_limit_and_bounds():
    out = hn.normalize_legacy(hn.History(), 2, 10, 1, 20, NOW)
    assert (out.replicas, out.limited, out.limit[0]) == (4, True, "ScaleUpLimit")  # max(2 × 2, 4)
    out = hn.normalize_legacy(hn.History(), 5, 12, 1, 8, NOW)
    assert (out.replicas, out.limited, out.limit[0]) == (8, True, "TooManyReplicas")
    out = hn.normalize_legacy(hn.History(), 5, 1, 3, 8, NOW)
    assert (out.replicas, out.limited, out.limit[0]) == (3, True, "TooFewReplicas")
    out = hn.normalize_legacy(hn.History(), 5, 6, 3, 8, NOW)
    assert (out.replicas, out.limited, out.limit, out.able_to_scale) == (6, False, hn.WITHIN_RANGE,
                                                                          hn.READY_FOR_NEW_SCALE)


def test_legacy_downscale_stabilization_window():
    h = hn.History()
    hn.normalize_legacy(h, 5, 5, 1, 10, NOW)
    out = hn.normalize_legacy(h, 5, 2, 1, 10, NOW + 100)
    assert (out.replicas, out.able_to_scale[0]) == (5, "ScaleDownStabilized")
    out = hn.normalize_legacy(h, 5, 2, 1, 10, NOW + 301)
    assert (out.replicas, out.able_to_scale[0]) == (2, "ReadyForNewScale")


def rules(window: float, select: str = hn.MAX, *policies: tuple[str, int, int]) -> hn.Rules:
    return hn.Rules(window, select, tuple(hn.Policy(*p) for p in policies))


def test_default_scale_up_policies_take_the_larger_change():
    b = hn.Behavior()  # Pods 4 and Percent 100 every 15 s, Max
    out = hn.normalize(hn.History(), 2, 20, 1, 100, b, NOW)
    assert (out.replicas, out.limit[0], out.limited) == (6, "ScaleUpLimit", True)
    out = hn.normalize(hn.History(), 10, 40, 1, 100, b, NOW)
    assert out.replicas == 20  # 100 % beats 4 pods


@pytest.mark.parametrize(("select", "expected"), [(hn.MAX, 6), (hn.MIN, 4), (hn.DISABLED, 2)])
def test_select_policy(select, expected):
    b = hn.Behavior(scale_up=rules(0, select, ("Pods", 4, 15), ("Percent", 100, 15)))
    out = hn.normalize(hn.History(), 2, 20, 1, 100, b, NOW)
    assert (out.replicas, out.limit[0]) == (expected, "ScaleUpLimit")


def test_policies_count_changes_within_their_period():
    b = hn.Behavior(scale_up=rules(0, hn.MAX, ("Pods", 4, 60)))
    h = hn.History()
    assert hn.normalize(h, 2, 20, 1, 100, b, NOW).replicas == 6
    h.record_scale(b, 2, 6, NOW)
    assert hn.normalize(h, 6, 20, 1, 100, b, NOW + 30).replicas == 6  # 4 already added in the last 60 s
    assert hn.normalize(h, 6, 20, 1, 100, b, NOW + 61).replicas == 10


def test_scale_down_percent_policy_and_min_policy():
    down = rules(0, hn.MAX, ("Percent", 50, 60), ("Pods", 2, 60))
    out = hn.normalize(hn.History(), 10, 1, 1, 20, hn.Behavior(scale_down=down), NOW)
    assert (out.replicas, out.limit[0]) == (5, "ScaleDownLimit")  # Max: the larger change, 50 %
    down = rules(0, hn.MIN, ("Percent", 50, 60), ("Pods", 2, 60))
    out = hn.normalize(hn.History(), 10, 1, 1, 20, hn.Behavior(scale_down=down), NOW)
    assert out.replicas == 8  # Min: the smaller change, 2 pods
    out = hn.normalize(hn.History(), 10, 1, 1, 20, hn.Behavior(scale_down=rules(0, hn.DISABLED, ("Pods", 2, 60))),
                       NOW)
    assert out.replicas == 10
    out = hn.normalize(hn.History(), 10, 1, 7, 20, hn.Behavior(scale_down=rules(0, hn.MAX, ("Percent", 100, 15))),
                       NOW)
    assert (out.replicas, out.limit[0]) == (7, "TooFewReplicas")


def test_scale_down_stabilization_window_keeps_the_highest_recent_recommendation():
    b = hn.Behavior(scale_down=rules(300, hn.MAX, ("Percent", 100, 15)))
    h = hn.History()
    hn.normalize(h, 10, 10, 1, 20, b, NOW)
    out = hn.normalize(h, 10, 4, 1, 20, b, NOW + 100)
    assert (out.replicas, out.able_to_scale[0]) == (10, "ScaleDownStabilized")
    out = hn.normalize(h, 10, 4, 1, 20, b, NOW + 301)
    assert (out.replicas, out.able_to_scale[0]) == (4, "ReadyForNewScale")


def test_scale_up_stabilization_window_keeps_the_lowest_recent_recommendation():
    b = hn.Behavior(scale_up=rules(60, hn.MAX, ("Percent", 100, 15)), scale_down=rules(0, hn.MAX, ("Percent", 100, 15)))
    h = hn.History()
    hn.normalize(h, 2, 2, 1, 20, b, NOW)
    out = hn.normalize(h, 2, 4, 1, 20, b, NOW + 30)
    assert (out.replicas, out.able_to_scale[0]) == (2, "ScaleUpStabilized")
    assert hn.normalize(h, 2, 4, 1, 20, b, NOW + 61).replicas == 4


def test_max_replicas_bounds_a_behavior_scale_up():
    out = hn.normalize(hn.History(), 2, 20, 1, 5, hn.Behavior(), NOW)
    assert (out.replicas, out.limit[0]) == (5, "TooManyReplicas")


def test_per_direction_tolerance():
    three, ten = ["a", "b", "c"], [f"p{i}" for i in range(10)]
    # ratio 1.2: outside the default 0.1, inside an upward tolerance of 0.25
    assert rc.utilization_replicas(3, 50, pods(*three), metrics(a=600, b=600, c=600), "cpu", T).replicas == 4
    wide_up = rc.Tolerance(down=0.1, up=0.25)
    assert rc.utilization_replicas(3, 50, pods(*three), metrics(a=600, b=600, c=600), "cpu", T, wide_up).replicas == 3
    # ratio 0.9: within the default tolerance (both ends count), outside a downward one of 0.01
    at_90 = metrics(**{n: 450 for n in ten})
    assert rc.utilization_replicas(10, 50, pods(*ten), at_90, "cpu", T).replicas == 10
    assert rc.utilization_replicas(10, 50, pods(*ten), at_90, "cpu", T, rc.Tolerance(0.01, 0.1)).replicas == 9
