"""PodDisruptionBudgets (policy/v1): how many of a set of pods voluntary disruptions may take down.

The disruption controller keeps the status; the Eviction subresource of pods reads and charges it
(control/apiserver/eviction.py).
"""

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import policy

strategy = Strategy(validate=policy.validate_pdb)
