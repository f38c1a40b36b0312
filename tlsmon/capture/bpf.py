"""tcpdump-style BPF filters for capture files, compiled by libpcap (through pypcap) once per link type.

pypcap's ``bpf(expr, dlt)`` compiles against a link type and its ``filter(frame)`` runs the program on a
frame. It takes libpcap DLT_ values, which differ from the LINKTYPE_ values in files only for raw IP and
OpenBSD loopback. When compilation fails pypcap only says "bad filter"; libpcap's own reason ("syntax
error", "no VLAN support for Linux cooked v2", …) is fetched by compiling once more through ctypes.

pypcap and ctypes are imported when a filter is compiled, not with this module: loading libpcap's binding took
250 ms cold, and a read without ``--filter`` (or any read with the native engine, whose core compiles the
filter itself after the command line has checked it here) does not need it.
"""

from __future__ import annotations

from collections.abc import Callable

from tlsmon.capture.linktypes import LINKTYPE_LOOP, RAW_IP_LINKTYPES, linktype_name

Matcher = Callable[[bytes], bool]

PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF
_SNAPLEN = 262144


def libpcap_dlt(linktype: int) -> int:
    """The DLT_ value libpcap on this platform uses for a file's LINKTYPE_ value."""
    import pcap  # only with a filter: see the module docstring

    if linktype in RAW_IP_LINKTYPES:
        return int(pcap.DLT_RAW)
    if linktype == LINKTYPE_LOOP:
        return int(pcap.DLT_LOOP)
    return linktype


def compile_filter(expr: str, linktype: int) -> Matcher:
    """A matcher for ``expr`` on frames of ``linktype``; ``ValueError`` with libpcap's reason if invalid."""
    import pcap  # only with a filter: see the module docstring

    dlt = libpcap_dlt(linktype)
    try:
        program = pcap.bpf(expr.encode(), dlt)
    except OSError as exc:
        reason = libpcap_error(expr, dlt) or str(exc)
        raise ValueError(
            f"invalid BPF filter {expr!r} for link type {linktype} ({linktype_name(linktype)}): {reason}"
        ) from None
    matcher: Matcher = program.filter
    return matcher


def libpcap_error(expr: str, dlt: int) -> str | None:
    """libpcap's message for compiling ``expr`` on ``dlt``, or None when libpcap cannot be reached."""
    import ctypes  # only for a filter that failed to compile: see the module docstring
    import ctypes.util

    name = ctypes.util.find_library("pcap")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        lib.pcap_open_dead.restype = ctypes.c_void_p
        lib.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.pcap_compile.argtypes = [
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_uint32,
        ]
        lib.pcap_geterr.restype = ctypes.c_char_p
        lib.pcap_geterr.argtypes = [ctypes.c_void_p]
        lib.pcap_freecode.argtypes = [ctypes.c_void_p]
        lib.pcap_close.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    handle = lib.pcap_open_dead(dlt, _SNAPLEN)
    if not handle:
        return None
    program = ctypes.create_string_buffer(16)  # struct bpf_program: u_int length + instruction pointer
    try:
        if lib.pcap_compile(handle, program, expr.encode(), 1, PCAP_NETMASK_UNKNOWN) == 0:
            lib.pcap_freecode(program)
            return None
        message: bytes | None = lib.pcap_geterr(handle)
        return message.decode(errors="replace") if message else None
    finally:
        lib.pcap_close(handle)
