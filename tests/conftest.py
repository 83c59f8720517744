"""Shared fixtures: the session's cluster PKI, a real etcd and a real skiff-apiserver (TLS, Node+RBAC)
per test module. SKIFFCONFIG names the admin's kubeconfig for the whole session, so Client(target),
skiffctl and component subprocesses authenticate as admin (system:masters) unless given another identity."""

from __future__ import annotations

import os

import pytest

from control.client.client import Client
from tests.fixtures.apiserver import ApiServer, start_apiserver
from tests.fixtures.etcd import Etcd, start_etcd
from tests.fixtures.pki import Pki, session_pki


@pytest.fixture(scope="session", autouse=True)
def _session_admin() -> None:
    previous = os.environ.get("SKIFFCONFIG")
    os.environ["SKIFFCONFIG"] = str(session_pki().admin_config)
    yield
    if previous is None:
        os.environ.pop("SKIFFCONFIG", None)
    else:
        os.environ["SKIFFCONFIG"] = previous


@pytest.fixture(scope="session")
def pki() -> Pki:
    return session_pki()


@pytest.fixture(scope="module")
def etcd() -> Etcd:
    server = start_etcd()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def apiserver(etcd: Etcd) -> ApiServer:
    server = start_apiserver(etcd)
    yield server
    server.stop()


@pytest.fixture
async def client(apiserver: ApiServer) -> Client:
    c = Client(apiserver.target)
    yield c
    await c.close()
