"""nginx configuration from Ingresses: Kubernetes' path matching expressed as nginx locations."""

from __future__ import annotations

from control.client.convert import from_dict
from control.ingress.nginxconf import Cluster, render, servers_for


def ingress(name: str, paths: list[tuple[str, str, str]], host: str = "a.test", created: int = 0, **spec) -> object:
    obj = from_dict({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                     "metadata": {"name": name, "namespace": "default"},
                     "spec": {"rules": [{"host": host, "http": {"paths": [
                         {"path": p, "pathType": t, "backend": {"service": {"name": svc, "port": {"number": 80}}}}
                         for p, t, svc in paths]}}], **spec}})
    obj.metadata.creation_timestamp.seconds = created
    return obj


def cluster(*names: str) -> Cluster:
    services = {f"default/{n}": from_dict({"apiVersion": "v1", "kind": "Service", "metadata": {"name": n},
                                            "spec": {"ports": [{"port": 80, "targetPort": 8080}]}}) for n in names}
    endpoints = {f"default/{n}": from_dict({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": n},
                                             "subsets": [{"addresses": [{"ip": "10.244.1.5"}],
                                                          "ports": [{"port": 8080}]}]}) for n in names}
    return Cluster(services, endpoints, {})


def conf(*ingresses) -> str:
    return render(ingresses, cluster("web", "api"), 80, 443, "0.0.0.0", "/state", "/state/certs/default.pem").text


def test_prefix_matches_by_path_element_and_exact_is_exact() -> None:
    text = conf(ingress("a", [("/app", "Prefix", "web"), ("/app/v1", "Exact", "api")]))
    assert "location = /app { proxy_pass http://default-web-80;" in text
    assert "location ^~ /app/ { proxy_pass http://default-web-80;" in text
    assert "location = /app/v1 { proxy_pass http://default-api-80;" in text
    assert "server 10.244.1.5:8080;" in text  # straight to the endpoint, not the ClusterIP
    assert "location / { return 404; }" in text


def test_a_backend_without_endpoints_answers_503() -> None:
    text = render([ingress("a", [("/", "Prefix", "gone")])], cluster("web"), 80, 443, "0.0.0.0", "/s",
                  "/s/d.pem").text
    assert "location / { return 503; }" in text


def test_the_oldest_ingress_keeps_a_contested_path() -> None:
    servers, _ = servers_for([ingress("new", [("/x", "Prefix", "api")], created=20),
                              ingress("old", [("/x", "Prefix", "web")], created=10)], cluster("web", "api"))
    [server] = servers
    assert [(r.path, r.backend.name) for r in server.routes] == [("/x", "default-web-80")]


def test_default_backend_serves_unknown_hosts() -> None:
    text = conf(ingress("a", [("/", "Prefix", "web")],
                        defaultBackend={"service": {"name": "api", "port": {"number": 80}}}))
    assert "listen 0.0.0.0:80 default_server;\n        location / { proxy_pass http://default-api-80;" in text
