"""Kubernetes' REST API beside gRPC, derived from the kind table and served through the same
handlers, authentication, authorization and audit."""
