"""ServiceAccount tokens without a server: JWT signing and checking, the claims, every reason a token
stops authenticating, TokenRequest validation, the ServiceAccount admission's volume, the kubernetes
Service's objects."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from control.apiserver import kubernetesservice, saadmission, tokenrequest
from control.apiserver.auth import jwt
from control.apiserver.auth.serviceaccount import ServiceAccountTokens, TokenInvalid, TokenOptions, claims
from control.client.convert import from_dict, to_dict
from skiff.v1 import authz_pb2

ISSUER = "https://kubernetes.default.svc.cluster.local"
NOW = 1_800_000_000


class FakeCache:
    """The watch cache's get(namespace, name) per kind."""

    def __init__(self, *objects) -> None:
        self.objects = {(o.kind, o.metadata.namespace, o.metadata.name): o for o in objects}

    def __getitem__(self, kind):
        objects = self.objects

        class One:
            @staticmethod
            def get(namespace: str, name: str):
                return objects.get((kind.kind, namespace, name))
        return One()


def sa(name: str = "builder", namespace: str = "team", uid: str = "sa-uid"):
    return from_dict({"apiVersion": "v1", "kind": "ServiceAccount",
                      "metadata": {"name": name, "namespace": namespace, "uid": uid}})


def pod(name: str = "web", namespace: str = "team", uid: str = "pod-uid", account: str = "builder"):
    return from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace, "uid": uid},
                      "spec": {"serviceAccountName": account, "nodeName": "node-1",
                               "containers": [{"name": "c", "image": "busybox"}]}})


def tokens(key=None, cache=None, **options) -> ServiceAccountTokens:
    key = key or ec.generate_private_key(ec.SECP256R1())
    return ServiceAccountTokens(TokenOptions([ISSUER], key, [key.public_key()], **options), cache)


def segments(token: str) -> tuple[dict, dict]:
    head, body, _ = token.split(".")
    return json.loads(jwt.unb64url(head)), json.loads(jwt.unb64url(body))


@pytest.mark.parametrize("key", [ec.generate_private_key(ec.SECP256R1()),
                                 rsa.generate_private_key(public_exponent=65537, key_size=2048)],
                         ids=["ES256", "RS256"])
def test_a_signed_token_verifies_with_its_public_key_only(key) -> None:
    token = jwt.sign({"sub": "x"}, key)
    header, body = segments(token)
    assert header["alg"] == ("ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256")
    assert header["kid"] == jwt.key_id(key.public_key())
    assert jwt.verify(token, [key.public_key()]) == body == {"sub": "x"}
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(jwt.InvalidToken):
        jwt.verify(token, [other.public_key()])
    head, payload, sig = token.split(".")
    forged = jwt.b64url(json.dumps({"sub": "admin"}).encode())
    with pytest.raises(jwt.InvalidToken):
        jwt.verify(f"{head}.{forged}.{sig}", [key.public_key()])
    with pytest.raises(jwt.InvalidToken):
        jwt.verify("not.a.token", [key.public_key()])


def test_public_keys_load_from_public_private_and_several_pem_blocks(tmp_path) -> None:
    a, b = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    pem = a.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem += b.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())
    path = tmp_path / "keys.pem"
    path.write_bytes(pem)
    assert [jwt.key_id(k) for k in jwt.load_public_keys(str(path))] == \
        [jwt.key_id(a.public_key()), jwt.key_id(b.public_key())]
    (tmp_path / "empty.pem").write_text("nothing\n")
    with pytest.raises(jwt.KeyFileError):
        jwt.load_public_keys(str(tmp_path / "empty.pem"))
    p384 = ec.generate_private_key(ec.SECP384R1())
    (tmp_path / "p384.key").write_bytes(p384.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(jwt.KeyFileError, match="P-256"):
        jwt.load_signing_key(str(tmp_path / "p384.key"))


def test_claims_are_kubernetes_claims() -> None:
    node = from_dict({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1", "uid": "node-uid"}})
    found = claims(sa(), ["api"], 3600, ISSUER, NOW, pod(), node=node, warn_after=3607)
    jti = found.pop("jti")
    assert len(jti) == 36
    assert found == {
        "iss": ISSUER, "sub": "system:serviceaccount:team:builder", "aud": ["api"],
        "exp": NOW + 3600, "iat": NOW, "nbf": NOW,
        "kubernetes.io": {"namespace": "team", "serviceaccount": {"name": "builder", "uid": "sa-uid"},
                          "pod": {"name": "web", "uid": "pod-uid"}, "node": {"name": "node-1", "uid": "node-uid"},
                          "warnafter": NOW + 3607}}


def test_a_valid_token_authenticates_as_the_service_account() -> None:
    t = tokens(cache=FakeCache(sa(), pod()))
    token = t.issue(claims(sa(), [ISSUER], 3600, ISSUER, NOW, pod()))
    user, audiences = t.authenticate(token, now=NOW + 10)
    assert (user.name, user.uid) == ("system:serviceaccount:team:builder", "sa-uid")
    assert user.groups == ("system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated")
    assert audiences == [ISSUER]
    extra = dict(user.extra)
    assert extra.pop("authentication.kubernetes.io/credential-id")[0].startswith("JTI=")
    assert extra == {"authentication.kubernetes.io/pod-name": ("web",),
                     "authentication.kubernetes.io/pod-uid": ("pod-uid",)}


@pytest.mark.parametrize("case, message", [
    ("expired", "service account token has expired"),
    ("not yet", "not valid yet"),
    ("audience", "is invalid for the target audiences"),
    ("pod deleted", "pod team/web has been deleted"),
    ("pod replaced", "pod UID (other-uid) does not match claim (pod-uid)"),
    ("account deleted", "service account team/builder has been deleted"),
    ("account replaced", "service account UID (new-uid) does not match claim (sa-uid)"),
])
def test_a_token_stops_authenticating(case: str, message: str) -> None:
    cache = {"pod deleted": FakeCache(sa()), "pod replaced": FakeCache(sa(), pod(uid="other-uid")),
             "account deleted": FakeCache(pod()), "account replaced": FakeCache(sa(uid="new-uid"), pod())}
    t = tokens(cache=cache.get(case, FakeCache(sa(), pod())))
    audience = ["elsewhere"] if case == "audience" else [ISSUER]
    token = t.issue(claims(sa(), audience, 3600, ISSUER, NOW, pod()))
    now = {"expired": NOW + 3600, "not yet": NOW - 120}.get(case, NOW + 1)
    with pytest.raises(TokenInvalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        t.authenticate(token, now=now)


def test_tokens_of_other_issuers_or_keys_are_not_ours() -> None:
    cache = FakeCache(sa(), pod())
    ours, theirs = tokens(cache=cache), tokens(cache=cache)
    assert ours.authenticate(theirs.issue(claims(sa(), [ISSUER], 3600, ISSUER, NOW)), now=NOW) is None
    other_issuer = ours.issue(claims(sa(), [ISSUER], 3600, "https://elsewhere", NOW))
    assert ours.authenticate(other_issuer, now=NOW) is None
    assert ours.authenticate("static-token", now=NOW) is None


def test_a_review_asks_for_its_own_audiences() -> None:
    t = tokens(cache=FakeCache(sa()))
    token = t.issue(claims(sa(), ["vault", "api"], 3600, ISSUER, NOW))
    assert t.authenticate(token, ["vault"], now=NOW)[1] == ["vault"]
    with pytest.raises(TokenInvalid):
        t.authenticate(token, now=NOW)  # the apiserver's audience is the issuer


def test_the_default_projection_of_a_pod_lives_a_year_unless_turned_off() -> None:
    assert tokens().lifetime(3607, True, [ISSUER]) == (365 * 24 * 3600, 3607)
    assert tokens().lifetime(3607, False, [ISSUER]) == (3607, 0)
    assert tokens().lifetime(3607, True, ["vault"]) == (3607, 0)
    assert tokens(extend_expiration=False).lifetime(3607, True, [ISSUER]) == (3607, 0)
    assert tokens(max_expiration=1800).lifetime(7200, False, [ISSUER]) == (1800, 0)


def test_token_request_validation_has_kubernetes_messages() -> None:
    def errors(seconds: int) -> list[str]:
        return [v.description for v in tokenrequest.validate(
            authz_pb2.TokenRequest(spec=authz_pb2.TokenRequestSpec(expiration_seconds=seconds)))]
    assert errors(599) == ["Invalid value: 599: may not specify a duration less than 10 minutes"]
    assert errors(600) == []
    assert errors((1 << 32) + 1) == [f"Invalid value: {(1 << 32) + 1}: may not specify a duration larger than "
                                     "2^32 seconds"]


def test_admission_mounts_the_api_access_volume_in_every_container() -> None:
    p = from_dict({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "initContainers": [{"name": "init", "image": "busybox"}],
        "containers": [{"name": "a", "image": "busybox"},
                       {"name": "own", "image": "busybox", "volumeMounts": [
                           {"name": "mine", "mountPath": saadmission.TOKEN_MOUNT_PATH}]}],
        "volumes": [{"name": "mine", "emptyDir": {}}]}})
    saadmission.mount_token(p)
    volume = p.spec.volumes[-1]
    assert volume.name.startswith("kube-api-access-") and len(volume.name) == len("kube-api-access-") + 5
    assert to_dict(volume)["projected"] == {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}]}
    mounts = {c.name: [(m.name, m.mount_path, m.read_only) for m in c.volume_mounts]
              for c in [*p.spec.init_containers, *p.spec.containers]}
    wanted = (volume.name, "/var/run/secrets/kubernetes.io/serviceaccount", True)
    assert mounts == {"init": [wanted], "a": [wanted],
                      "own": [("mine", "/var/run/secrets/kubernetes.io/serviceaccount", False)]}
    saadmission.mount_token(p)  # idempotent: the volume is found again
    assert len(p.spec.volumes) == 2


@pytest.mark.parametrize("pod_says, sa_says, mounted", [
    (None, None, True), (False, None, False), (None, False, False), (True, False, True), (False, True, False)])
def test_automount_pod_over_service_account(pod_says, sa_says, mounted) -> None:
    account, p = sa(), pod()
    if sa_says is not None:
        account.automount_service_account_token = sa_says
    if pod_says is not None:
        p.spec.automount_service_account_token = pod_says
    assert saadmission.should_automount(account, p) is mounted


def test_the_kubernetes_service_and_its_endpoints() -> None:
    assert kubernetesservice.first_address("10.96.0.0/12") == "10.96.0.1"
    assert kubernetesservice.first_address("fd00:10:96::/112") == "fd00:10:96::1"
    svc = to_dict(kubernetesservice.wanted_service("10.96.0.1", 6444))
    assert svc["spec"]["ports"] == [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6444}]
    assert svc["metadata"]["labels"] == {"component": "apiserver", "provider": "kubernetes"}
    ep = to_dict(kubernetesservice.wanted_endpoints(["10.0.0.12", "10.0.0.9"], 6444))
    assert ep["subsets"] == [{"addresses": [{"ip": "10.0.0.9"}, {"ip": "10.0.0.12"}],
                              "ports": [{"name": "https", "port": 6444, "protocol": "TCP"}]}]
    assert "subsets" not in to_dict(kubernetesservice.wanted_endpoints([], 6444))
    assert [a for a in ("127.0.0.1", "0.0.0.0", "", "172.31.250.1", "::1") if kubernetesservice.advertisable(a)] == \
        ["172.31.250.1"]



@pytest.mark.parametrize("key", [ec.generate_private_key(ec.SECP256R1()),
                                 rsa.generate_private_key(public_exponent=65537, key_size=2048)],
                         ids=["ES256", "RS256"])
def test_a_jwk_rebuilds_the_verifying_key(key) -> None:
    """What an external verifier does with /openid/v1/jwks: rebuild the key, check a token."""
    doc = jwt.jwk(key.public_key())
    assert doc["kid"] == jwt.key_id(key.public_key()) and doc["use"] == "sig"
    if doc["kty"] == "EC":
        rebuilt = ec.EllipticCurvePublicNumbers(int.from_bytes(jwt.unb64url(doc["x"]), "big"),
                                                int.from_bytes(jwt.unb64url(doc["y"]), "big"),
                                                ec.SECP256R1()).public_key()
    else:
        rebuilt = rsa.RSAPublicNumbers(int.from_bytes(jwt.unb64url(doc["e"]), "big"),
                                       int.from_bytes(jwt.unb64url(doc["n"]), "big")).public_key()
    assert jwt.verify(jwt.sign({"sub": "x"}, key), [rebuilt]) == {"sub": "x"}
