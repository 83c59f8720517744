"""ControllerRevisions (apps/v1): an immutable snapshot (`data`) of a DaemonSet's or StatefulSet's
template, numbered by `revision`; only the revision number may change."""

from control.apiserver.registry.base import Strategy
from control.apiserver.validation import apps_sets

strategy = Strategy(validate=apps_sets.validate_controller_revision,
                    validate_update=apps_sets.validate_controller_revision_update)
