"""Validation with Kubernetes' rules and messages, by API group (pkg/apis/<group>/validation).

Each kind's registry module (control/apiserver/registry/) picks its checks from here;
`control.apiserver.registry.validate(obj, old)` runs them. All return FieldViolations.
"""

from control.apiserver.validation.errors import FieldViolation

__all__ = ["FieldViolation"]
