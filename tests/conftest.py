"""Shared fixtures: a real etcd and a real skiff-apiserver per test module."""

from __future__ import annotations

import pytest

from control.client.client import Client
from tests.fixtures.apiserver import ApiServer, start_apiserver
from tests.fixtures.etcd import Etcd, start_etcd


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
