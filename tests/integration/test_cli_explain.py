"""skiffctl explain as a subprocess: kubectl's layout and errors."""

from __future__ import annotations

import pytest

from tests.fixtures.skiffctl import Result, run_skiffctl, skiffctl_env


@pytest.fixture
def ctl(apiserver, tmp_path):
    env = skiffctl_env(apiserver.target, tmp_path)

    async def run(*args: str) -> Result:
        return await run_skiffctl(env, *args)
    return run


async def test_explain(ctl):
    r = await ctl("explain", "deploy.spec.template.spec.containers.ports")
    assert r.code == 0, r.err
    assert r.out.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\n"
                            "FIELD: ports <[]ContainerPort>\n\n\nDESCRIPTION:\n    <empty>\nFIELDS:\n")
    assert "  containerPort\t<integer> -required-\n" in r.out and "  protocol\t<string>\n" in r.out
    r = await ctl("explain", "nodes", "--recursive")
    assert r.code == 0 and "\n  spec\t<NodeSpec>\n" in r.out and "\n    podCIDR\t<string>\n" in r.out
    r = await ctl("explain", "pods.spec.bogus")
    assert (r.code, r.err) == (1, 'error: field "bogus" does not exist\n')
    r = await ctl("explain", "widgets")
    assert (r.code, r.err) == (1, "error: the server doesn't have a resource type \"widgets\"\n")
    r = await ctl("explain")
    assert r.code == 1 and r.err.startswith("error: You must specify the type of resource to explain.")
