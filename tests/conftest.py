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

pytest_plugins = ["tests.fixtures.scratch"]



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


# --- under CI=true a skipped test fails the run -------------------------------------------------------

def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


_CI_SKIP = "skipped under CI=true, where nothing may be skipped"


def _fail_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Turns a skip into a failure that still names the skip's reason (and where it was raised)."""
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    where = f"{report.longrepr[0]}:{report.longrepr[1]}: " if isinstance(report.longrepr, tuple) else ""
    report.outcome = "failed"
    report.longrepr = f"{_CI_SKIP}: {where}{reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    if _ci():
        _fail_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    if _ci():
        _fail_skip(outcome.get_result())


def pytest_report_header(config: pytest.Config) -> str | None:
    return f"CI=true: a skipped test fails the run ({_CI_SKIP})" if _ci() else None


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    failed = [r for r in terminalreporter.stats.get("failed", []) + terminalreporter.stats.get("error", [])
              if isinstance(r.longrepr, str) and r.longrepr.startswith(_CI_SKIP)]
    if failed:
        terminalreporter.section("skips failed under CI=true")
        for report in failed:
            terminalreporter.line(f"SKIPPED (failed) {report.nodeid}: {report.longrepr[len(_CI_SKIP) + 2:]}")
