"""Bound ServiceAccount tokens on a real apiserver (ServiceAccount admission on, REST port): admission,
TokenRequest over gRPC, REST and kubectl, the token authenticating over gRPC and REST until it
should not, RBAC bindings to the ServiceAccount, TokenReview, the Node authorizer's rules for tokens,
and the `kubernetes` Service listing the live apiservers."""

from __future__ import annotations

import json
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import grpc
import pytest
from cryptography.hazmat.primitives import serialization
from google.protobuf import struct_pb2
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from control.apiserver.auth import jwt
from control.apiserver.auth.serviceaccount import claims
from control.client.client import Client
from control.client.convert import from_dict
from control.client.kubeconfig import load_client_config
from skiff.v1 import authz_pb2, reviews_pb2_grpc
from tests.fixtures.controllers import running_controllers
from tests.fixtures.pki import SA_ISSUER, Pki, session_pki
from tests.fixtures.procs import eventually
from tests.fixtures.rest import kubectl_binary, start_rest_apiserver, write_kubeconfig
from tests.fixtures.skiffctl import run_skiffctl, skiffctl_env

NS = "sa-tokens"


@pytest.fixture(scope="module")
def server(etcd):
    rest = start_rest_apiserver(etcd, ["--advertise-address", "192.0.2.10"], service_account_admission=True)
    yield rest
    rest.apiserver.stop()


@pytest.fixture
async def admin(server):
    c = Client(server.apiserver.target)
    yield c
    await c.close()


def obj(doc: dict):
    return from_dict(doc)


async def _setup(admin: Client, pki: Pki) -> None:
    """The namespace, its `default` account and CA bundle from the real controllers, and `builder`."""
    try:
        await admin.get("Namespace", NS)
        return
    except grpc.aio.AioRpcError:
        pass
    await admin.create(obj({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}))
    async with running_controllers(admin.target, ["serviceaccount", "root-ca-cert-publisher"],
                                   {"root_ca_file": pki.ca}):
        async def ready() -> bool:
            await admin.get("ServiceAccount", "default", NS)
            cm = await admin.get("ConfigMap", "kube-root-ca.crt", NS)
            return cm.data["ca.crt"] == open(pki.ca).read()
        await eventually(ready, timeout=15, what="default ServiceAccount and kube-root-ca.crt")
    await admin.create(obj({"apiVersion": "v1", "kind": "ServiceAccount",
                            "metadata": {"name": "builder", "namespace": NS}}))


def _pod(name: str, account: str = "", **spec) -> object:
    body = {"containers": [{"name": "c", "image": "busybox"}], **spec}
    if account:
        body["serviceAccountName"] = account
    return obj({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS}, "spec": body})


def _rest(server, path: str, token: str, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    context = ssl.create_default_context(cafile=server_ca())
    context.check_hostname = False
    request = urllib.request.Request(server.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def server_ca() -> str:
    return session_pki().ca


async def _as(server, pki: Pki, token: str) -> Client:
    return Client(server.apiserver.target, config=pki.config(cert=None, token=token))


async def _grpc_code(coro) -> grpc.StatusCode:
    try:
        await coro
    except grpc.aio.AioRpcError as e:
        return e.code()
    return grpc.StatusCode.OK


async def test_admission_defaults_refuses_and_mounts(server, admin, pki) -> None:
    await _setup(admin, pki)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await admin.create(_pod("ghost", "nobody"))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.details() == ('pods "ghost" is forbidden: error looking up service account '
                                       f'{NS}/nobody: serviceaccount "nobody" not found')
    plain = await admin.create(_pod("plain"))
    assert (plain.spec.service_account_name, plain.spec.service_account) == ("default", "default")
    volume = plain.spec.volumes[0]
    assert volume.name.startswith("kube-api-access-")
    assert [m.mount_path for m in plain.spec.containers[0].volume_mounts] == \
        ["/var/run/secrets/kubernetes.io/serviceaccount"]
    off = await admin.create(_pod("off", "builder", automountServiceAccountToken=False))
    assert not off.spec.volumes and not off.spec.containers[0].volume_mounts
    assert (off.spec.service_account_name, off.spec.service_account) == ("builder", "builder")


async def test_token_request_authenticates_as_the_account_until_its_pod_goes(server, admin, pki) -> None:
    await _setup(admin, pki)
    pod = await admin.create(_pod("bound", "builder"))
    answer = await admin.create_token(NS, "builder", bound=pod)
    assert answer.spec.expiration_seconds == 3600 and list(answer.spec.audiences) == [SA_ISSUER]
    assert answer.status.expiration_timestamp.seconds - time.time() == pytest.approx(3600, abs=30)
    token = answer.status.token
    user = f"system:serviceaccount:{NS}:builder"
    async with await _as(server, pki, token) as sa:
        review = await reviews_pb2_grpc.SelfSubjectReviewsStub(sa.channel).Create(authz_pb2.SelfSubjectReview())
        assert review.status.user_info.username == user
        assert list(review.status.user_info.groups) == ["system:serviceaccounts", f"system:serviceaccounts:{NS}",
                                                         "system:authenticated"]
        assert list(review.status.user_info.extra["authentication.kubernetes.io/pod-name"].values) == \
            [struct_pb2.Value(string_value="bound")]
        assert await _grpc_code(sa.list("Pod", NS)) == grpc.StatusCode.PERMISSION_DENIED
    code, doc = _rest(server, f"/api/v1/namespaces/{NS}/pods", token)
    assert code == 403 and doc["message"].startswith(f'pods is forbidden: User "{user}" cannot list')
    await admin.delete("Pod", "bound", NS, grace_period_seconds=0)

    async def refused() -> bool:
        return _rest(server, f"/api/v1/namespaces/{NS}/pods", token)[0] == 401
    await eventually(refused, timeout=10, what="the deleted pod's token refused")
    async with await _as(server, pki, token) as sa:
        assert await _grpc_code(sa.list("Pod", NS)) == grpc.StatusCode.UNAUTHENTICATED


async def test_expired_foreign_and_wrong_audience_tokens_are_401(server, admin, pki) -> None:
    await _setup(admin, pki)
    account = await admin.get("ServiceAccount", "builder", NS)
    key = serialization.load_pem_private_key(open(pki.file("sa.key"), "rb").read(), None)
    now = int(time.time())
    expired = jwt.sign(claims(account, [SA_ISSUER], 600, SA_ISSUER, now - 700), key)
    good = jwt.sign(claims(account, [SA_ISSUER], 600, SA_ISSUER, now), key)
    vault = (await admin.create_token(NS, "builder", audiences=["vault"])).status.token
    assert _rest(server, f"/api/v1/namespaces/{NS}/pods", good)[0] == 403  # authenticated: the key is the cluster's
    for token in (expired, vault, good[:-4] + "AAAA"):
        code, doc = _rest(server, f"/api/v1/namespaces/{NS}/pods", token)
        assert (code, doc["reason"]) == (401, "Unauthorized")
        async with await _as(server, pki, token) as sa:
            assert await _grpc_code(sa.list("Pod", NS)) == grpc.StatusCode.UNAUTHENTICATED


async def test_token_request_refusals(admin, pki) -> None:
    await _setup(admin, pki)
    with pytest.raises(grpc.aio.AioRpcError) as short:
        await admin.create_token(NS, "builder", expiration_seconds=599)
    assert short.value.details() == ('TokenRequest "builder" is invalid: spec.expirationSeconds: Invalid value: '
                                     "599: may not specify a duration less than 10 minutes")
    other = await admin.create(_pod("other-account"))
    with pytest.raises(grpc.aio.AioRpcError) as mismatch:
        await admin.create_token(NS, "builder", bound=other)
    assert mismatch.value.details() == ('cannot bind token for serviceaccount "builder" to pod running with '
                                        "different serviceaccount name.")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await admin.create_token(NS, "nobody")
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_role_binding_to_the_account_grants_exactly_that(server, admin, pki) -> None:
    await _setup(admin, pki)
    await admin.create(obj({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                            "metadata": {"name": "pod-reader", "namespace": NS},
                            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]}))
    await admin.create(obj({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                            "metadata": {"name": "builder-reads-pods", "namespace": NS},
                            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
                            "subjects": [{"kind": "ServiceAccount", "name": "builder", "namespace": NS}]}))
    token = (await admin.create_token(NS, "builder")).status.token

    async def granted() -> bool:
        return _rest(server, f"/api/v1/namespaces/{NS}/pods", token)[0] == 200
    await eventually(granted, timeout=10, what="the RoleBinding in effect")
    assert _rest(server, f"/api/v1/namespaces/{NS}/secrets", token)[0] == 403
    assert _rest(server, "/api/v1/namespaces/default/pods", token)[0] == 403
    assert _rest(server, f"/api/v1/namespaces/{NS}/pods", token, "POST",
                 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {}})[0] == 403
    async with await _as(server, pki, token) as sa:
        await sa.list_all("Pod", NS)
        assert await _grpc_code(sa.list("Secret", NS)) == grpc.StatusCode.PERMISSION_DENIED


async def test_token_review_over_grpc_and_rest(server, admin, pki) -> None:
    await _setup(admin, pki)
    token = (await admin.create_token(NS, "builder", audiences=["vault", "api"])).status.token
    reviews = reviews_pb2_grpc.TokenReviewsStub(admin.channel)
    good = await reviews.Create(authz_pb2.TokenReview(spec=authz_pb2.TokenReviewSpec(token=token, audiences=["vault"])))
    assert good.status.authenticated and good.status.user.username == f"system:serviceaccount:{NS}:builder"
    assert list(good.status.audiences) == ["vault"]
    wrong = await reviews.Create(authz_pb2.TokenReview(spec=authz_pb2.TokenReviewSpec(token=token)))
    assert not wrong.status.authenticated and "invalid for the target audiences" in wrong.status.error
    code, doc = _rest(server, "/apis/authentication.k8s.io/v1/tokenreviews", pki.tokens["alice"], "POST",
                      {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                       "spec": {"token": token, "audiences": ["api"]}})
    assert code == 403  # alice may not ask: tokenreviews need system:auth-delegator
    admin_token = (await admin.create_token(NS, "default")).status.token
    await admin.create(obj({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                            "metadata": {"name": "sa-tokens-delegator"},
                            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                        "name": "system:auth-delegator"},
                            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": NS}]}))

    async def reviewed() -> bool:
        code, doc = _rest(server, "/apis/authentication.k8s.io/v1/tokenreviews", admin_token, "POST",
                          {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                           "spec": {"token": token, "audiences": ["api"]}})
        return code == 201 and doc["status"]["authenticated"] is True and doc["status"]["audiences"] == ["api"]
    await eventually(reviewed, timeout=10, what="a TokenReview over REST")


async def test_rest_token_subresource_and_kubectl_with_the_token(server, admin, pki, tmp_path) -> None:
    await _setup(admin, pki)
    admin_token = (await admin.create_token(NS, "default")).status.token
    await admin.create(obj({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                            "metadata": {"name": "sa-tokens-admin"},
                            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                        "name": "cluster-admin"},
                            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": NS}]}))

    async def allowed() -> bool:
        return _rest(server, f"/api/v1/namespaces/{NS}/pods", admin_token)[0] == 200
    await eventually(allowed, timeout=10, what="cluster-admin for the default account")
    code, doc = _rest(server, f"/api/v1/namespaces/{NS}/serviceaccounts/default/token", admin_token, "POST",
                      {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                       "spec": {"expirationSeconds": 1200}})
    assert code == 201 and doc["kind"] == "TokenRequest" and doc["spec"]["expirationSeconds"] == 1200
    assert _rest(server, f"/api/v1/namespaces/{NS}/pods", doc["status"]["token"])[0] == 200
    # kubectl create token (a TokenRequest in Kubernetes' protobuf), then kubectl with the account's token
    admin_config = write_kubeconfig(tmp_path / "admin-kubeconfig", pki, server.url, namespace=NS)
    made = subprocess.run([kubectl_binary(), "--kubeconfig", str(admin_config), "create", "token", "builder",
                           "--duration", "15m", "--audience", "vault"], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    found = json.loads(jwt.unb64url(made.stdout.strip().split(".")[1]))
    assert (found["sub"], found["aud"], found["exp"] - found["iat"]) == \
        (f"system:serviceaccount:{NS}:builder", ["vault"], 900)
    config = write_kubeconfig(tmp_path / "kubeconfig", pki, server.url, cert=None, token=doc["status"]["token"],
                              namespace=NS)
    result = subprocess.run([kubectl_binary(), "--kubeconfig", str(config), "get", "serviceaccounts", "-o", "name"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert {"serviceaccount/builder", "serviceaccount/default"} <= set(result.stdout.split())
    assert _rest(server, f"/api/v1/namespaces/{NS}/serviceaccounts/nobody/token", admin_token, "POST", {})[0] == 404
    assert _rest(server, f"/api/v1/namespaces/{NS}/configmaps/x/token", admin_token, "POST", {})[0] == 404


async def test_a_node_gets_tokens_only_for_its_own_pods(server, admin, pki) -> None:
    await _setup(admin, pki)
    mine = await admin.create(_pod("on-node-a", "builder", nodeName="node-a"))
    theirs = await admin.create(_pod("on-node-b", "builder", nodeName="node-b"))
    node = Client(server.apiserver.target, config=load_client_config(pki.node_config("node-a")))
    try:
        ok = await node.create_token(NS, "builder", audiences=[SA_ISSUER], bound=mine)
        assert ok.status.token
        for bound in (theirs, None):
            code = await _grpc_code(node.create_token(NS, "builder", bound=bound))
            assert code == grpc.StatusCode.PERMISSION_DENIED
        assert await _grpc_code(node.create_token(NS, "default", bound=mine)) == grpc.StatusCode.PERMISSION_DENIED
    finally:
        await node.close()


async def test_the_kubernetes_service_lists_the_live_apiservers(server, admin, etcd) -> None:
    svc = await admin.get("Service", "kubernetes", "default")
    assert svc.spec.cluster_ip == "10.96.0.1"
    assert [(p.name, p.port, p.target_port.number_value) for p in svc.spec.ports] == [("https", 443, server.port)]
    second = start_rest_apiserver(etcd, ["--advertise-address", "192.0.2.11", "--endpoint-reconciler-ttl", "3"])

    async def addresses(wanted: list[str]) -> bool:
        ep = await admin.get("Endpoints", "kubernetes", "default")
        return [a.ip for s in ep.subsets for a in s.addresses] == wanted
    try:
        await eventually(lambda: addresses(["192.0.2.10", "192.0.2.11"]), timeout=20, what="both apiservers")
        second.apiserver.proc.kill()  # a crash: its lease expires
    finally:
        second.apiserver.stop()
    await eventually(lambda: addresses(["192.0.2.10"]), timeout=30, what="the dead apiserver gone")


async def test_skiffctl_create_serviceaccount_and_token(server, admin, pki, tmp_path) -> None:
    await _setup(admin, pki)
    env = skiffctl_env(server.apiserver.target, tmp_path, namespace=NS)
    made = await run_skiffctl(env, "create", "serviceaccount", "deployer")
    assert (made.code, made.out.strip()) == (0, "serviceaccount/deployer created"), made.err
    token = await run_skiffctl(env, "create", "token", "deployer", "--audience", "vault", "--duration", "20m")
    assert token.code == 0, token.err
    _, body = token.out.strip().split(".")[:2]
    found = json.loads(jwt.unb64url(body))
    assert (found["sub"], found["aud"], found["exp"] - found["iat"]) == \
        (f"system:serviceaccount:{NS}:deployer", ["vault"], 1200)
    short = await run_skiffctl(env, "create", "token", "deployer", "--duration", "5m")
    assert short.code == 1
    assert "may not specify a duration less than 10 minutes" in short.err
    half = await run_skiffctl(env, "create", "token", "deployer", "--bound-object-name", "x")
    assert (half.code, half.err.strip()) == (1, "error: --bound-object-name can only be set if "
                                                "--bound-object-kind is provided")


async def test_the_official_python_client_requests_and_reviews_tokens(server, admin, pki, tmp_path) -> None:
    await _setup(admin, pki)
    path = write_kubeconfig(tmp_path / "config", pki, server.url, namespace=NS)
    api = k8s_config.new_client_from_config(config_file=str(path))
    try:
        body = k8s.AuthenticationV1TokenRequest(spec=k8s.V1TokenRequestSpec(audiences=["vault"],
                                                                             expiration_seconds=900))
        answer = k8s.CoreV1Api(api).create_namespaced_service_account_token("builder", NS, body)
        assert answer.spec.expiration_seconds == 900 and answer.status.token
        review = k8s.AuthenticationV1Api(api).create_token_review(k8s.V1TokenReview(
            spec=k8s.V1TokenReviewSpec(token=answer.status.token, audiences=["vault"])))
        assert review.status.authenticated and review.status.user.username == f"system:serviceaccount:{NS}:builder"
        with pytest.raises(ApiException) as missing:
            k8s.CoreV1Api(api).create_namespaced_service_account_token("nobody", NS, body)
        assert missing.value.status == 404
    finally:
        api.close()


async def test_issuer_discovery_for_service_accounts_only(server, admin, pki) -> None:
    await _setup(admin, pki)
    token = (await admin.create_token(NS, "builder")).status.token
    code, doc = _rest(server, "/.well-known/openid-configuration", token)
    assert code == 200 and doc["issuer"] == SA_ISSUER
    assert doc["jwks_uri"] == f"{SA_ISSUER}/openid/v1/jwks"
    assert doc["id_token_signing_alg_values_supported"] == ["ES256"]
    code, keys = _rest(server, "/openid/v1/jwks", token)
    public = jwt.load_public_keys(pki.file("sa.pub"))[0]
    assert code == 200 and [k["kid"] for k in keys["keys"]] == [jwt.key_id(public)]
    code, doc = _rest(server, "/openid/v1/jwks", pki.tokens["alice"])
    assert code == 403 and doc["message"] == 'forbidden: User "alice" cannot get path "/openid/v1/jwks"'
