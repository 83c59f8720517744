"""skiffctl's manifest loading: YAML (block and KYAML flow), JSON, streams, lists, directories."""

from __future__ import annotations

import glob
import io
import os

import pytest

from control.cli.manifests import ManifestLoadError, load_paths, parse_text
from control.client.convert import from_dict
from tests.fixtures.examples import EXAMPLES as EXAMPLES_DIR

EXAMPLES = str(EXAMPLES_DIR)


def test_multi_document_yaml_with_markers_and_comments():
    text = "# leading\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n...\n---\n\n" \
           "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n---\n"
    assert [d["metadata"]["name"] for d in parse_text(text)] == ["a", "b"]


def test_kyaml_flow_style():
    text = '---\n{\n  apiVersion: "v1",\n  kind: "Namespace",\n  metadata: {\n    name: "dev", # comment\n' \
           '    labels: {name: "dev",},\n  },\n}\n'
    (ns,) = parse_text(text)
    assert ns == {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev", "labels": {"name": "dev"}}}


def test_json_stream_and_list_are_unwrapped():
    text = '{"apiVersion": "v1", "kind": "List", "items": [' \
           '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1"}},' \
           '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p2"}}]}\n' \
           '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p3"}}'
    assert [d["metadata"]["name"] for d in parse_text(text)] == ["p1", "p2", "p3"]


def test_timestamps_stay_strings():
    (obj,) = parse_text("kind: ConfigMap\ndata:\n  when: 2024-01-02T03:04:05Z\n  day: 2024-01-02\n")
    assert obj["data"] == {"when": "2024-01-02T03:04:05Z", "day": "2024-01-02"}


def test_broken_yaml_names_the_file():
    with pytest.raises(ManifestLoadError, match='error parsing "x.yaml"'):
        parse_text("a: [1, 2\nb: c\n", "x.yaml")


def test_directory_and_stdin(tmp_path, monkeypatch):
    (tmp_path / "a.yaml").write_text("kind: ConfigMap\nmetadata: {name: a}\n")
    (tmp_path / "b.json").write_text('{"kind": "ConfigMap", "metadata": {"name": "b"}}')
    (tmp_path / "notes.txt").write_text("not a manifest")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "c.yml").write_text("kind: ConfigMap\nmetadata: {name: c}\n")
    names = [d.data["metadata"]["name"] for d in load_paths([str(tmp_path)])]
    assert names == ["a", "b"]
    names = [d.data["metadata"]["name"] for d in load_paths([str(tmp_path)], recursive=True)]
    assert names == ["a", "b", "c"]
    monkeypatch.setattr("sys.stdin", io.StringIO("kind: ConfigMap\nmetadata: {name: s}\n"))
    (doc,) = load_paths(["-"])
    assert doc.source == "STDIN" and doc.data["metadata"]["name"] == "s"


def test_missing_path():
    with pytest.raises(ManifestLoadError, match="does not exist"):
        load_paths(["/nonexistent/file.yaml"])


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(EXAMPLES, "*.yaml"))), ids=os.path.basename)
def test_every_example_loads_and_converts(path):
    docs = load_paths([path])
    assert docs, "no documents"
    for doc in docs:
        msg = from_dict(doc.data)
        assert msg.metadata.name


def test_mapping_not_found_is_worded_as_kubectl():
    from control.cli.manifests import Document, mapping_not_found
    from control.client.kinds import UnknownKindError, for_object

    doc = Document("web.yaml", 0, {"apiVersion": "apps/v1", "kind": "Gizmo", "metadata": {"name": "web"}})
    try:
        for_object("apps/v1", "Gizmo")
    except UnknownKindError as e:
        text = mapping_not_found(doc, e)
    assert text == ('error: resource mapping not found for name: "web" namespace: "" from "web.yaml": '
                    'no matches for kind "Gizmo" in version "apps/v1"\nensure CRDs are installed first')

