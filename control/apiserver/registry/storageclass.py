"""StorageClasses (storage.k8s.io/v1): reclaimPolicy Delete and volumeBindingMode Immediate by
default; provisioner, parameters, reclaimPolicy and volumeBindingMode fixed once created."""

from control.apiserver import defaults
from control.apiserver.registry.base import Strategy
from control.apiserver.validation import storage

strategy = Strategy(default=defaults.default_storage_class, validate=storage.validate_storage_class,
                    validate_update=storage.validate_storage_class_update)
