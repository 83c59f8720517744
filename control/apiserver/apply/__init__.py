"""Server-side apply: field ownership (metadata.managedFields) and the apply merge, as Kubernetes'
structured-merge-diff does it, driven by the kinds' message descriptors."""
