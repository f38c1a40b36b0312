"""The libpcap live source on loopback, and the privilege drop (root only; skipped otherwise)."""

from __future__ import annotations

import os
import socket
import time

import pytest

from tlsmon.capture.errors import CaptureError
from tlsmon.capture.live import LiveSource
from tlsmon.capture.privileges import PrivilegeError, drop_privileges

PORT = 39_871


@pytest.fixture
def root(capture_reason: str | None) -> None:
    if capture_reason is not None:
        pytest.skip(capture_reason)


def send_udp(payloads: list[bytes]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for payload in payloads:
            s.sendto(payload, ("127.0.0.1", PORT))


def read_until(source: LiveSource, count: int, timeout: float = 5.0) -> list[tuple[int, int, bytes]]:
    frames: list[tuple[int, int, bytes]] = []
    deadline = time.monotonic() + timeout
    while len(frames) < count and time.monotonic() < deadline:
        frames += source.read(0.1)
    return frames


def test_read_returns_the_filtered_frames_as_ethernet_with_ns_timestamps(root: None) -> None:
    source = LiveSource("lo", f"udp dst port {PORT}")
    try:
        before = time.time_ns()
        send_udp([b"one", b"two", b"three"])
        frames = read_until(source, 3)
    finally:
        source.close()
    # Ethernet (14) + IPv4 (20) + UDP (8) headers, then the datagram.
    assert [(len(f[2]) - 42, f[2][42:]) for f in frames] == [(3, b"one"), (3, b"two"), (5, b"three")]
    assert {f[1] for f in frames} == {1}
    assert all(before - 10**9 < f[0] < before + 10 * 10**9 for f in frames)
    assert (source.packets, source.bytes) == (3, sum(len(f[2]) for f in frames))


def test_read_without_traffic_returns_empty_within_the_wait(root: None) -> None:
    source = LiveSource("lo", f"udp dst port {PORT + 1}")
    try:
        started = time.monotonic()
        assert source.read(0.1) == []
        assert time.monotonic() - started < 0.5
    finally:
        source.close()


def test_stats_count_what_passed_the_filter(root: None) -> None:
    source = LiveSource("lo", f"udp dst port {PORT}")
    try:
        send_udp([b"x"] * 4)
        read_until(source, 4)
        stats = source.stats()
    finally:
        source.close()
    assert stats.received >= 4 and stats.dropped == 0
    assert source.stats() == stats  # the last figures stay readable once closed


def test_handles_can_share_a_fanout_group(root: None) -> None:
    sources = [LiveSource("lo", f"udp dst port {PORT}") for _ in range(2)]
    try:
        for source in sources:
            source.join_fanout(os.getpid() & 0xFFFF)
        send_udp([bytes([i]) for i in range(20)])
        deadline = time.monotonic() + 5
        got = 0
        while got < 20 and time.monotonic() < deadline:
            got += sum(len(s.read(0.05)) for s in sources)
    finally:
        for source in sources:
            source.close()
    assert got == 20  # every datagram reached exactly one member


def test_bad_filter_is_a_capture_error_naming_it(root: None) -> None:
    with pytest.raises(CaptureError, match=r"lo: invalid BPF filter 'tcp port nope'"):
        LiveSource("lo", "tcp port nope")


def test_missing_interface_is_a_capture_error(root: None) -> None:
    with pytest.raises(CaptureError, match=r"^tlsmon-nonexistent0: cannot capture"):
        LiveSource("tlsmon-nonexistent0")


def test_unknown_user_is_refused() -> None:
    with pytest.raises(PrivilegeError, match="no such user 'tlsmon-no-such-user'"):
        drop_privileges("tlsmon-no-such-user", None)


def test_drop_switches_user_and_group_for_good(root: None) -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the drop is irreversible: do it in a child
        os.close(read)
        try:
            drop_privileges("nobody", None)
            try:
                os.setuid(0)
                regained = "yes"
            except PermissionError:
                regained = "no"
            os.write(write, f"{os.getuid()} {os.getgid()} {os.getgroups()} {regained}".encode())
        finally:
            os._exit(0)
    os.close(write)
    report = os.read(read, 200).decode()
    os.waitpid(pid, 0)
    import pwd

    nobody = pwd.getpwnam("nobody")
    assert report == f"{nobody.pw_uid} {nobody.pw_gid} [{nobody.pw_gid}] no"


def test_native_handle_bad_filter_is_a_capture_error_naming_it(root: None) -> None:
    with pytest.raises(CaptureError, match=r"lo: invalid BPF filter 'tcp port nope'"):
        LiveSource("lo", "tcp port nope", native=True)


def test_native_handle_missing_interface_is_a_capture_error(root: None) -> None:
    with pytest.raises(CaptureError, match=r"^tlsmon-nonexistent0: cannot capture"):
        LiveSource("tlsmon-nonexistent0", native=True)
