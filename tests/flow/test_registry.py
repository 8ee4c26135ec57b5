"""Node types as units: one registry covering every node class of ``ivr_engine.flow.nodes``, each
type's reader reading exactly the fields it declares (the ones the schema and the unknown-field check
use), an example of every type in docs/flows.md, and a JSON Schema that accepts every shipped flow."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from cli import main
from ivr_engine.flow import nodes
from ivr_engine.flow.errors import Problem
from ivr_engine.flow.fields import Fields
from ivr_engine.flow.model import FlowDefaults, NodeBase, Source
from ivr_engine.flow.nodes.base import Where
from ivr_engine.flow.registry import NODE_SPECS, spec_of
from ivr_engine.flow.schema import flow_schema
from ivr_engine.flow.yamlsource import parse_yaml

ROOT = Path(__file__).parents[2]
DOCS = (ROOT / "docs" / "flows.md").read_text()


def _node_classes() -> set[type[NodeBase]]:
    """Every ``NodeBase`` subclass defined in a module of ``ivr_engine.flow.nodes``."""
    found: set[type[NodeBase]] = set()
    for info in pkgutil.iter_modules(nodes.__path__):
        module = importlib.import_module(f"{nodes.__name__}.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, NodeBase) and cls is not NodeBase and cls.__module__ == module.__name__:
                found.add(cls)
    return found


def test_the_registry_covers_every_node_class_of_the_package() -> None:
    classes = _node_classes()
    assert len(classes) >= 15
    assert {spec.cls for spec in NODE_SPECS.values()} == classes
    assert all(name == spec.cls.type_name for name, spec in NODE_SPECS.items())
    assert len(NODE_SPECS) == len(classes)


@pytest.mark.parametrize("name", sorted(NODE_SPECS))
def test_each_reader_reads_exactly_its_declared_fields(name: str) -> None:
    root, _ = parse_yaml("type: " + name + "\n")
    assert root is not None
    fields = Fields(root, "t.yaml", "n", [])
    node = NODE_SPECS[name].read(fields, Where("n", Source("t.yaml", 1)), FlowDefaults())
    assert fields.seen - {"type"} == set(NODE_SPECS[name].fields)
    assert spec_of(node) is NODE_SPECS[name]
    required = {p.message.split("'")[1] for p in fields.problems if "missing required field" in p.message}
    assert required == set(NODE_SPECS[name].required)


def _doc_nodes() -> dict[str, list[tuple[str, dict[str, object]]]]:
    found: dict[str, list[tuple[str, dict[str, object]]]] = {}
    for block in re.findall(r"```yaml\n(.*?)```", DOCS, re.S):
        try:
            data = yaml.safe_load(block)
        except yaml.YAMLError:
            continue
        for node_id, node in (data or {}).items() if isinstance(data, dict) else []:
            if isinstance(node, dict) and isinstance(node.get("type"), str):
                found.setdefault(node["type"], []).append((node_id, node))
    return found


@pytest.mark.parametrize("name", sorted(NODE_SPECS))
def test_docs_have_an_example_of_every_node_type_that_reads_cleanly(name: str, tmp_path: Path) -> None:
    examples = _doc_nodes().get(name)
    assert examples, f"docs/flows.md has no example of a {name} node"
    for node_id, node in examples:
        root, _ = parse_yaml(yaml.safe_dump(node))
        assert root is not None
        problems: list[Problem] = []
        fields = Fields(root, "docs", node_id, problems)
        NODE_SPECS[name].read(fields, Where(node_id, Source("docs", 1)), FlowDefaults())
        fields.finish(name, NODE_SPECS[name].fields)
        assert problems == [], (node_id, problems)


def test_the_json_schema_accepts_every_shipped_flow_and_refuses_a_typo() -> None:
    schema = flow_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((ROOT / "flows").glob("*.yaml")):
        data = json.loads(json.dumps(yaml.safe_load(path.read_text()), default=str))
        assert list(validator.iter_errors(data)) == [], path.name
    typo = {"nodes": {"a": {"type": "play", "promt": "hello", "next": "a"}}}
    assert any("promt" in error.message for error in validator.iter_errors(typo))
    unknown = {"nodes": {"a": {"type": "plya", "next": "a"}}}
    assert list(validator.iter_errors(unknown))


def test_ivr_flows_schema_prints_the_schema(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["flows", "schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == flow_schema()
    target = tmp_path / "flow.schema.json"
    result = CliRunner().invoke(main, ["flows", "schema", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert set(json.loads(target.read_text())["$defs"]) == {"node", *NODE_SPECS}
