"""Lab port picking: outside the kernel's ephemeral range, never handed out twice, never a held port."""

from __future__ import annotations

import socket
from pathlib import Path

from ivr_engine.lab.ports import free_tcp_port, free_udp_port, lab_port_range, private_lab_settings
from ivr_engine.lab.render import RTP_RANGE


def _ephemeral_low() -> int:
    return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])


def test_range_stays_between_rtp_and_ephemeral_ports() -> None:
    pool = lab_port_range()
    assert pool.start == RTP_RANGE[1]
    assert pool.stop <= _ephemeral_low()


def test_ports_are_never_handed_out_twice() -> None:
    tcp = [free_tcp_port() for _ in range(200)]
    assert len(set(tcp)) == 200
    assert all(port in lab_port_range() for port in tcp)
    udp = [free_udp_port() for _ in range(50)]
    assert all(port % 2 == 0 for port in udp)
    blocks = {p for port in udp for p in range(port, port + 4)}
    assert len(blocks) == 200


def test_a_held_port_is_not_picked() -> None:
    held = []
    try:
        for port in lab_port_range()[::50]:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            sock.listen()
            held.append(sock)
        taken = {s.getsockname()[1] for s in held}
        assert not taken & {free_tcp_port() for _ in range(300)}
    finally:
        for sock in held:
            sock.close()


def test_a_private_lab_has_distinct_ports(tmp_path: Path) -> None:
    settings = private_lab_settings(tmp_path)
    tcp = {settings.ari_port, settings.http_port}
    assert len(tcp) == 2
    agents = {settings.agent_base_port + n for n in (1, 2, 3)}
    assert settings.sip_port not in agents
