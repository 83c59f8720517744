"""Fixtures the REST API's test modules share: an apiserver serving Kubernetes' REST API for the module
(a module's `REST_ARGS` adds flags), and a kubeconfig for kubectl against it. A module defining either
fixture itself uses its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.etcd import Etcd
from tests.fixtures.pki import Pki
from tests.fixtures.rest import RestServer, kubectl_binary, start_rest_apiserver, write_kubeconfig


@pytest.fixture(scope="module")
def rest(etcd: Etcd, request: pytest.FixtureRequest) -> Iterator[RestServer]:
    server = start_rest_apiserver(etcd, list(getattr(request.module, "REST_ARGS", [])))
    yield server
    server.apiserver.stop()


@pytest.fixture(scope="module")
def kube(rest: RestServer, pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    kubectl_binary()
    return write_kubeconfig(tmp_path_factory.mktemp("kubectl") / "config", pki, rest.url)
