"""ObjectMeta, labels, annotations, owner references and label selectors."""

from __future__ import annotations

from collections.abc import Mapping

from control.apiserver.validation.errors import (
    Errors,
    forbidden,
    immutable,
    invalid,
    invalids,
    required,
    too_long,
)
from control.apiserver.validation.names import (
    NameCheck,
    dns1123_label_errors,
    label_value_errors,
    mask_trailing_dash,
    qualified_name_errors,
)
from control.client.kinds import Kind
from skiff.v1 import meta_pb2

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_labels(labels: Mapping[str, str], path: str) -> Errors:
    errs: Errors = []
    for key, value in labels.items():
        errs += invalids(path, key, qualified_name_errors(key))
        errs += invalids(path, value, label_value_errors(value))
    return errs


def validate_annotations(annotations: Mapping[str, str], path: str) -> Errors:
    errs: Errors = []
    total = 0
    for key, value in annotations.items():
        errs += invalids(path, key, qualified_name_errors(key.lower()))
        total += len(key.encode()) + len(value.encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


def validate_owner_references(refs, path: str) -> Errors:
    errs: Errors = []
    controllers = []
    for i, ref in enumerate(refs):
        p = f"{path}[{i}]"
        version = ref.api_version.split("/")[-1]
        if not version:
            errs.append(invalid(f"{p}.apiVersion", ref.api_version, "version must not be empty"))
        for field in ("kind", "name", "uid"):
            if not getattr(ref, field):
                errs.append(invalid(f"{p}.{field}", "", "must not be empty"))
        if ref.HasField("controller") and ref.controller:
            controllers.append(f"{ref.kind}/{ref.name}")
    if len(controllers) > 1:
        errs.append(invalid(path, ", ".join(controllers),
                            "Only one reference can have Controller set to true. Found \"true\" in "
                            f"references for {' and '.join(controllers)}"))
    return errs


def validate_finalizers(finalizers, path: str) -> Errors:
    errs: Errors = []
    for name in finalizers:
        errs += invalids(path, name, qualified_name_errors(name))
    return errs


def _validate_name(meta: meta_pb2.ObjectMeta, check: NameCheck, path: str) -> Errors:
    if meta.generate_name:
        errs = invalids(f"{path}.generateName", meta.generate_name,
                        check(mask_trailing_dash(meta.generate_name)))
    else:
        errs = []
    if meta.name:
        errs += invalids(f"{path}.name", meta.name, check(meta.name))
    elif not meta.generate_name:
        errs.append(required(f"{path}.name", "name or generateName is required"))
    return errs


def validate_object_meta(meta: meta_pb2.ObjectMeta, kind: Kind, check: NameCheck,
                         path: str = "metadata") -> Errors:
    errs = _validate_name(meta, check, path)
    if kind.namespaced:
        # An empty namespace is filled in by the apiserver from the request.
        if meta.namespace:
            errs += invalids(f"{path}.namespace", meta.namespace, dns1123_label_errors(meta.namespace))
    elif meta.namespace:
        errs.append(forbidden(f"{path}.namespace", "not allowed on this type"))
    errs += validate_labels(meta.labels, f"{path}.labels")
    errs += validate_annotations(meta.annotations, f"{path}.annotations")
    errs += validate_owner_references(meta.owner_references, f"{path}.ownerReferences")
    errs += validate_finalizers(meta.finalizers, f"{path}.finalizers")
    return errs


def validate_object_meta_update(new: meta_pb2.ObjectMeta, old: meta_pb2.ObjectMeta,
                                path: str = "metadata") -> Errors:
    errs: Errors = []
    if new.name != old.name:
        errs.append(immutable(f"{path}.name", new.name))
    if new.namespace != old.namespace:
        errs.append(immutable(f"{path}.namespace", new.namespace))
    if new.uid and new.uid != old.uid:
        errs.append(immutable(f"{path}.uid", new.uid))
    if old.HasField("deletion_timestamp"):
        added = [f for f in new.finalizers if f not in set(old.finalizers)]
        if added:
            errs.append(forbidden(f"{path}.finalizers", "no new finalizers can be added if the object is "
                                  f"being deleted, found new finalizers {added}"))
    return errs


def validate_template_meta(meta: meta_pb2.ObjectMeta, path: str) -> Errors:
    """A pod template's metadata: only labels and annotations matter."""
    return validate_labels(meta.labels, f"{path}.labels") + validate_annotations(
        meta.annotations, f"{path}.annotations")


def validate_label_selector(sel: meta_pb2.LabelSelector, path: str) -> Errors:
    errs = validate_labels(sel.match_labels, f"{path}.matchLabels")
    for i, expr in enumerate(sel.match_expressions):
        p = f"{path}.matchExpressions[{i}]"
        if expr.operator in ("In", "NotIn"):
            if not expr.values:
                errs.append(required(f"{p}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif expr.operator in ("Exists", "DoesNotExist"):
            if expr.values:
                errs.append(forbidden(f"{p}.values",
                                      "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errs.append(invalid(f"{p}.operator", expr.operator, "not a valid selector operator"))
        errs += invalids(f"{p}.key", expr.key, qualified_name_errors(expr.key))
        for j, value in enumerate(expr.values):
            errs += invalids(f"{p}.values[{j}]", value, label_value_errors(value))
    return errs
