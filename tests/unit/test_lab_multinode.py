"""The multi-node lab without Asterisk: its plan, Kamailio's config and view, the CLI's refusals."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from ivr_engine.config import Settings
from ivr_engine.lab import LabPaths, LabStartError, PortInUse, control, multinode
from ivr_engine.lab.control import Component, ComponentState, LabStatus
from ivr_engine.lab.kamailio import (
    DispatcherTarget,
    KamailioFiles,
    NodeState,
    dispatcher_view,
    render_kamailio,
)
from ivr_engine.lab.multinode import MultiNodeStatus, NodeStatus
from ivr_engine.lab.probe import pid_alive
from ivr_engine.lab.render import RTP_RANGE, render_configs
from ivr_engine.lab.topology import (
    MAX_NODES,
    NoSharedDatabase,
    Topology,
    TopologyError,
    node_settings,
    plan,
    require_shared_database,
    rtp_ranges,
)
from ivr_engine.logfiles import Rotation

PG_URL = "postgresql+psycopg://ivr@127.0.0.1:5432/ivr"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        state_dir=tmp_path / "lab",
        sip_port=5999,
        ari_port=8999,
        http_port=8998,
        ari_password="pw",
        database_url=PG_URL,
    )


@pytest.mark.parametrize("count", range(2, MAX_NODES + 1))
def test_rtp_ranges_are_disjoint_even_and_inside_asterisks_range(count: int) -> None:
    ranges = rtp_ranges(count)
    assert len(ranges) == count
    assert ranges[0][0] == RTP_RANGE[0]
    assert ranges[-1][1] <= RTP_RANGE[1]
    for (start, end), (next_start, _) in itertools.pairwise(ranges):
        assert start % 2 == 0
        assert end < next_start  # RTCP (an even RTP port + 1) stays inside its own node's range
    assert all(end - start >= 1000 for start, end in ranges)


def test_plan_keeps_the_labs_ari_and_web_ports_on_node_1_and_gives_each_port_once(settings: Settings) -> None:
    topology = plan(settings, 3)
    assert (topology.sip_host, topology.sip_port) == ("127.0.0.1", 5999)
    first, *others = topology.nodes
    assert (first.name, first.ari_port, first.http_port) == ("node1", 8999, 8998)
    assert [n.name for n in others] == ["node2", "node3"]
    ports = [p for n in topology.nodes for p in (n.sip_port, n.ari_port, n.http_port)] + [5999]
    assert len(set(ports)) == len(ports)
    assert [n.rtp for n in topology.nodes] == rtp_ranges(3)


@pytest.mark.parametrize("count", [0, 1, MAX_NODES + 1])
def test_plan_refuses_a_count_that_is_no_multi_node_lab(settings: Settings, count: int) -> None:
    with pytest.raises(TopologyError, match=f"2 to {MAX_NODES} nodes"):
        plan(settings, count)


def test_topology_round_trips_and_a_damaged_file_says_what_to_do(settings: Settings, tmp_path: Path) -> None:
    topology = plan(settings, 2)
    path = tmp_path / "lab-nodes.yaml"
    assert Topology.load(path) is None
    topology.save(path)
    assert Topology.load(path) == topology
    path.write_text("nodes: [{index: two}]\n")
    with pytest.raises(TopologyError, match=r"damaged.*ivr lab down"):
        Topology.load(path)


def test_a_node_runs_with_its_own_ports_folder_and_name_on_the_labs_database(settings: Settings) -> None:
    topology = plan(settings, 2)
    paths = LabPaths.for_state_dir(settings.state_dir)
    node = topology.node(2)
    ns = node_settings(settings, paths, node)
    assert ns.state_dir == settings.state_dir.resolve() / "nodes" / "2"
    assert (ns.sip_port, ns.ari_port, ns.http_port) == (node.sip_port, node.ari_port, node.http_port)
    assert ns.node_id == "node2"
    assert ns.database_url == PG_URL
    assert ns.ari_password == settings.ari_password
    assert ns.pin_key_path == settings.pin_key_path  # the database's PIN hashes need the one key
    with pytest.raises(TopologyError, match="no node 3: its nodes are 1 to 2"):
        topology.node(3)


@pytest.mark.parametrize("url", ["", "sqlite:////tmp/ivr.db", "not a url"])
def test_several_nodes_need_postgresql(settings: Settings, url: str) -> None:
    with pytest.raises(NoSharedDatabase, match=r"needs one PostgreSQL database.*IVR_DATABASE_URL"):
        require_shared_database(replace(settings, database_url=url), 2)
    require_shared_database(settings, 2)  # PostgreSQL: no complaint


def test_cli_refuses_several_nodes_on_sqlite_before_starting_anything(tmp_path: Path) -> None:
    state = tmp_path / "lab"
    done = CliRunner().invoke(
        main, ["--state-dir", str(state), "lab", "up", "--nodes", "2"], env={"IVR_DATABASE_URL": ""}
    )
    assert done.exit_code == 1, done.output
    assert "Error: --nodes 2 needs one PostgreSQL database" in done.output
    assert "Traceback" not in done.output
    assert not LabPaths.for_state_dir(state).topology_file.exists()


def test_cli_node_commands_on_a_single_node_lab_say_so(tmp_path: Path) -> None:
    for command in ("node-up", "node-down"):
        done = CliRunner().invoke(main, ["--state-dir", str(tmp_path), "lab", command, "2"])
        assert done.exit_code == 1, done.output
        assert "not a multi-node lab: start one with `ivr lab up --nodes N`" in done.output


def test_cli_up_with_one_node_on_a_multi_node_lab_says_down_first(settings: Settings) -> None:
    paths = LabPaths.for_state_dir(settings.state_dir)
    paths.root.mkdir(parents=True)
    plan(settings, 2).save(paths.topology_file)
    done = CliRunner().invoke(main, ["--state-dir", str(paths.root), "lab", "up", "--nodes", "1"])
    assert done.exit_code == 1, done.output
    assert "this lab runs 2 nodes, not 1: `ivr lab down` first" in done.output


def test_kamailio_config_dispatches_to_every_node_and_probes_each(settings: Settings, tmp_path: Path) -> None:
    topology = plan(settings, 2)
    files = KamailioFiles(tmp_path / "kamailio")
    rendered = render_kamailio(topology, files)
    entries = [line.split() for line in rendered["dispatcher.list"].splitlines() if not line.startswith("#")]
    assert entries == [
        ["1", f"sip:127.0.0.1:{n.sip_port}", "0", "0", f"name={n.name}"] for n in topology.nodes
    ]
    cfg = rendered["kamailio.cfg"]
    assert "listen=udp:127.0.0.1:5999\n" in cfg
    for param, value in (
        ("ds_ping_interval", "1"),
        ("ds_probing_threshold", "1"),
        ("ds_inactive_threshold", "1"),
        ("ds_probing_mode", "1"),
        ("flags", "2"),
    ):
        assert f'modparam("dispatcher", "{param}", {value})' in cfg
    assert f'modparam("dispatcher", "list_file", "{files.dispatcher_list}")' in cfg
    assert f'"dgram_socket", "{files.rpc_socket}"' in cfg
    assert 'ds_select_dst("1", "4")' in cfg  # round-robin
    assert "record_route();" in cfg
    assert "failure_route[NEXT_NODE]" in cfg
    assert "ds_next_dst()" in cfg


def test_kamailio_never_logs_the_callers_number_or_name(settings: Settings, tmp_path: Path) -> None:
    """Caller ids are customer data: Kamailio's log lines name the call by its Call-ID only."""
    cfg = render_kamailio(plan(settings, 2), KamailioFiles(tmp_path / "kamailio"))["kamailio.cfg"]
    logged = [line for line in cfg.splitlines() if "xlog(" in line]
    assert logged, "the config has no log lines at all"
    caller = re.compile(r"\$(fU|fu|fn|ai|pU|pu|pn|hdr\(From\)|hdr\(P-Asserted)")
    assert [line for line in logged if caller.search(line)] == []


def test_kamailio_accepts_the_rendered_config(settings: Settings, tmp_path: Path) -> None:
    if shutil.which("kamailio") is None:
        pytest.skip("kamailio not installed: run sip-lab/install (as root)")
    files = KamailioFiles(tmp_path / "kamailio")
    files.root.mkdir()
    for name, text in render_kamailio(plan(settings, 2), files).items():
        (files.root / name).write_text(text)
    checked = subprocess.run(
        ["kamailio", "-c", "-f", str(files.config)], capture_output=True, text=True, timeout=30, check=False
    )
    assert checked.returncode == 0, checked.stderr[-2000:]


def test_a_state_folder_too_deep_for_a_unix_socket_is_refused(settings: Settings, tmp_path: Path) -> None:
    files = KamailioFiles(tmp_path / ("d" * 100) / "kamailio")
    with pytest.raises(Exception, match="too long for a UNIX socket"):
        render_kamailio(plan(settings, 2), files)


def _dest(uri: str, flags: str, name: str) -> dict[str, object]:
    return {
        "DEST": {"URI": uri, "FLAGS": flags, "PRIORITY": 0, "ATTRS": {"BODY": f"name={name}", "DUID": None}}
    }


@pytest.fixture
def fake_kamailio(tmp_path: Path) -> Iterator[KamailioFiles]:
    """A JSON-RPC datagram socket that answers ``dispatcher.list`` as Kamailio 5.6 does."""
    files = KamailioFiles(tmp_path / "k")
    files.root.mkdir()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(files.rpc_socket))
    result = {
        "NRSETS": 1,
        "RECORDS": [
            {
                "SET": {
                    "ID": 1,
                    "TARGETS": [
                        _dest("sip:127.0.0.1:20002", "IP", "node2"),
                        _dest("sip:127.0.0.1:20001", "AP", "node1"),
                    ],
                }
            }
        ],
    }

    def answer() -> None:
        data, sender = server.recvfrom(65536)
        request = json.loads(data)
        assert request["method"] == "dispatcher.list"
        server.sendto(json.dumps({"jsonrpc": "2.0", "result": result, "id": request["id"]}).encode(), sender)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield files
    thread.join(timeout=5)
    server.close()


def test_dispatcher_view_reads_each_nodes_state_from_kamailio(fake_kamailio: KamailioFiles) -> None:
    view = dispatcher_view(fake_kamailio)
    assert view == [
        DispatcherTarget("sip:127.0.0.1:20001", "node1", NodeState.ACTIVE, True, "AP"),
        DispatcherTarget("sip:127.0.0.1:20002", "node2", NodeState.INACTIVE, True, "IP"),
    ]
    assert list(fake_kamailio.root.glob("c*.sock")) == []  # the client socket is removed


def test_dispatcher_view_is_none_when_kamailio_does_not_answer(tmp_path: Path) -> None:
    assert dispatcher_view(KamailioFiles(tmp_path), timeout_s=0.2) is None


def test_a_nodes_asterisk_names_channels_after_the_node_and_keeps_its_rtp_share(settings: Settings) -> None:
    paths = LabPaths.for_state_dir(settings.state_dir)
    single = render_configs(settings, paths)
    assert "systemname" not in single["asterisk.conf"]
    assert "rtpstart = 10000\nrtpend = 20000" in single["rtp.conf"]
    node = render_configs(replace(settings, node_id="node2"), paths, rtp=(15000, 19999))
    assert "\nsystemname = node2\n" in node["asterisk.conf"]
    assert "rtpstart = 15000\nrtpend = 19999" in node["rtp.conf"]
    assert not any("kamailio" in name for name in node)  # the proxy's templates are not Asterisk's


def test_a_call_the_stasis_app_cannot_take_is_refused_503_for_the_next_node(settings: Settings) -> None:
    text = render_configs(settings, LabPaths.for_state_dir(settings.state_dir))["extensions.conf"]
    refused = 'same => n,ExecIf($["${STASISSTATUS}" = "FAILED"]?Hangup(34))'
    assert f"exten => 100,1,Stasis(ivr-engine,100)\n {refused}" in text


def test_serve_runs_with_the_labs_settings_file_not_the_callers_ivr_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IVR_HTTP_PORT", "8090")
    monkeypatch.setenv("IVR_NODE_ID", "node1")
    monkeypatch.setenv("IVR_ARI_PASSWORD", "pw")
    monkeypatch.setenv("IVR_TEST_PG_URL", "kept")
    env = control.serve_environment()
    assert "IVR_HTTP_PORT" not in env
    assert "IVR_NODE_ID" not in env
    assert env["IVR_ARI_PASSWORD"] == "pw"
    assert env["IVR_TEST_PG_URL"] == "kept"


def test_status_table_and_json_show_each_node_and_kamailios_view(settings: Settings) -> None:
    topology = plan(settings, 2)
    paths = LabPaths.for_state_dir(settings.state_dir)
    nodes = []
    for node, target in zip(
        topology.nodes,
        (
            DispatcherTarget(
                f"sip:127.0.0.1:{topology.nodes[0].sip_port}", "node1", NodeState.ACTIVE, True, "AP"
            ),
            None,
        ),
        strict=True,
    ):
        ns = node_settings(settings, paths, node)
        running = node.index == 1
        lab = LabStatus(
            LabPaths.for_state_dir(ns.state_dir),
            (
                ComponentState(
                    Component.ASTERISK, 100 + node.index if running else None, running, "ARI answers"
                ),
                ComponentState(Component.SERVE, 200 + node.index if running else None, running, "registered"),
            ),
        )
        nodes.append(NodeStatus(node, ns, lab, target))
    status = MultiNodeStatus(paths=paths, topology=topology, kamailio_pid=4242, nodes=tuple(nodes))

    table = status.table()
    n1, n2 = topology.nodes
    for row in (
        r"proxy +kamailio +running +4242 +SIP udp 127\.0\.0\.1:5999, round-robin",
        rf"node1 +asterisk +running +101 +SIP udp 127\.0\.0\.1:{n1.sip_port}, ARI answers, RTP 1000",
        rf"node1 +dispatcher +active +- +Kamailio's view of sip:127\.0\.0\.1:{n1.sip_port}: flags AP",
        r"node2 +asterisk +stopped +- +ARI answers",
        r"node2 +dispatcher +unknown +- +Kamailio does not answer",
    ):
        assert re.search(f"^{row}", table, re.M), (row, table)
    data = status.as_json()
    assert data["kamailio"] == {
        "running": True,
        "pid": 4242,
        "sip": "127.0.0.1:5999",
        "log": str(paths.kamailio / "kamailio.log"),
        "rpc_socket": str(paths.kamailio / "rpc.sock"),
    }
    assert [(n["node"], n["running"], n["sip"]) for n in data["nodes"]] == [
        ("node1", True, f"127.0.0.1:{n1.sip_port}"),
        ("node2", False, f"127.0.0.1:{n2.sip_port}"),
    ]
    assert data["nodes"][0]["dispatcher"]["state"] == "active"
    assert data["nodes"][1]["dispatcher"] is None
    assert [c["pid"] for c in data["nodes"][0]["components"]] == [101, 201]


def test_a_taken_proxy_port_is_refused_before_any_node_starts(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(multinode, "check_installed", lambda: "/usr/sbin/kamailio")
    started: list[Settings] = []
    monkeypatch.setattr(multinode.control, "up", lambda ns, **_: started.append(ns))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))
        taken = replace(settings, sip_port=holder.getsockname()[1])
        with pytest.raises(
            PortInUse, match=f"SIP 127.0.0.1:{taken.sip_port}/udp \\(Kamailio's\\) already taken"
        ):
            multinode.up(taken, 2, echo=lambda _: None)
    assert started == []
    assert not LabPaths.for_state_dir(settings.state_dir).topology_file.exists()


def test_a_kamailio_that_cannot_start_is_reported_with_its_log(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("kamailio") is None:
        pytest.skip("kamailio not installed: run sip-lab/install (as root)")
    files = KamailioFiles(tmp_path / "kamailio")

    def broken(topology: Topology, files: KamailioFiles) -> None:
        files.root.mkdir(parents=True, exist_ok=True)
        files.config.write_text('#!KAMAILIO\nloadmodule "no_such_module.so"\n')

    monkeypatch.setattr(multinode, "write_kamailio", broken)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    topology = replace(plan(settings, 2), sip_port=port)
    with pytest.raises(
        LabStartError, match=r"Kamailio exited with code \d+ while starting; see .*kamailio\.log"
    ) as err:
        multinode._start_kamailio(topology, files, Rotation.of(settings), timeout_s=20, echo=lambda _: None)
    assert "no_such_module" in str(err.value)
    assert not pid_alive(int(files.pid_file.read_text()), str(files.config))
