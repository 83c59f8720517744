"""ServiceAccount issuer discovery, as kube-apiserver serves it when --service-account-issuer is an
https URL: `/.well-known/openid-configuration` and `/openid/v1/jwks` (the verifying keys as JWKs), so
another system can check this cluster's tokens. Authorized as `get` on the path (the
system:service-account-issuer-discovery ClusterRole, bound to system:serviceaccounts)."""

from __future__ import annotations

from urllib.parse import urlparse

from control.apiserver import errors
from control.apiserver.auth import jwt
from control.apiserver.auth.attributes import Attributes, Decision
from control.apiserver.context import ApiContext

CONFIGURATION = "/.well-known/openid-configuration"
JWKS = "/openid/v1/jwks"
PATHS = (CONFIGURATION, JWKS)


def served(api: ApiContext, path: str) -> bool:
    tokens = api.service_account_tokens
    return path.rstrip("/") in PATHS and tokens is not None and urlparse(tokens.options.issuers[0]).scheme == "https"


def configuration(issuer: str, keys: list) -> dict:
    return {"issuer": issuer, "jwks_uri": f"{issuer.rstrip('/')}{JWKS}", "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": sorted({jwt.algorithm(k) for k in keys})}


def jwks(keys: list) -> dict:
    unique = {jwt.key_id(k): k for k in keys}
    return {"keys": [jwt.jwk(k) for k in unique.values()]}


def serve(api: ApiContext, path: str, caller) -> tuple[int, dict, str]:
    """(code, document, content type); 403 for a caller without the path's `get`."""
    if api.authenticator is not None:
        user = api.authenticator.authenticate(caller)
        verdict = api.authorizer.authorize(Attributes(user, "get", "", "", path=path))
        if verdict.decision is not Decision.ALLOW:
            raise errors.forbidden(f'forbidden: User "{user.name}" cannot get path "{path}"')
    options = api.service_account_tokens.options
    if path.rstrip("/") == CONFIGURATION:
        return 200, configuration(options.issuers[0], options.keys), "application/json"
    return 200, jwks(options.keys), "application/jwk-set+json"
