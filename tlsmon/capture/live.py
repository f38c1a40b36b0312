"""Frames from a network interface through libpcap (pypcap), read in batches, with loss counters.

Theory of operation. The handle is opened non-blocking, with a 100 ms buffer timeout (on Linux the TPACKET_V3
block-retire timeout: packets are handed over at the latest 100 ms after they arrive). :meth:`LiveSource.read`
waits on the handle's descriptor for at most the time it is given, then takes every packet libpcap has ready
(one ``pcap_dispatch`` per ring block, up to ``max_batch`` packets) and returns them as one list of
``(ts_ns, linktype, frame)`` tuples, so the caller regains control at least that often, with or without
traffic, and feeds the engine a list at a time. pypcap hands each packet to the callback as a new ``bytes``
object copied out of the ring, so frames stay valid after the ring slot is reused. A blocking
``pcap_dispatch`` is not used: with TPACKET_V3 and no traffic it never returns, whatever the timeout.

Several processes share an interface through the kernel's ``PACKET_FANOUT`` (:meth:`LiveSource.join_fanout`):
each opens its own handle and joins one group in hash mode. The kernel picks the member by a flow hash that is
the same for both directions of a connection, so a connection's packets all reach one process and no packet is
dispatched in Python. ``PACKET_FANOUT_FLAG_DEFRAG`` makes the kernel reassemble IP fragments first, so a
fragmented segment lands with its flow.

With ``native=True`` the handle is a :class:`tlsmon._native.LiveCapture` instead of pypcap's: the caller
waits with :meth:`LiveSource.ready` and the native engine reads the ring itself (``NativeEngine.run_live``),
straight into the decoder and the flow table, so no packet becomes a Python object. Polling, the fanout join,
the presence check and the counters are the same for both handles.

Loss is read from libpcap's ``pcap_stats``: on Linux ``ps_recv`` counts every packet that passed the filter
*including* those dropped for lack of ring space (``ps_drop``); ``ps_ifdrop`` is the interface's own
``rx_dropped`` since the handle was opened, the same figure for every handle on that interface. The counters
are 32-bit in libpcap; :meth:`LiveSource.stats` widens them across wrap-arounds.
"""

from __future__ import annotations

import ast
import os
import re
import select
import socket
import struct
import time
from dataclasses import dataclass
from operator import itemgetter

import pcap

from tlsmon import _native
from tlsmon.capture.errors import CaptureError
from tlsmon.capture.frames import Batch
from tlsmon.capture.linktypes import LINKTYPE_LOOP, LINKTYPE_RAW, SUPPORTED, linktype_name

# <linux/if_packet.h>
SOL_PACKET = 263
PACKET_FANOUT = 18
PACKET_FANOUT_HASH = 0
PACKET_FANOUT_FLAG_DEFRAG = 0x8000

DEFAULT_SNAPLEN = 262144  # libpcap's MAXIMUM_SNAPLEN: whole frames, as tcpdump captures by default
DEFAULT_TIMEOUT_MS = 100
PRESENCE_CHECK_S = 1.0  # while idle, how often to check that the interface still exists
ANY_INTERFACE = "any"  # libpcap's pseudo-interface for all interfaces: it has no index to look up
DEFAULT_MAX_BATCH = 65536

_U32 = 1 << 32
_FANOUT_ARG = struct.Struct("=I")
_frame_bytes = itemgetter(2)


@dataclass(slots=True)
class CaptureStats:
    """Cumulative counters since the handle was opened (see the module docstring for their meaning)."""

    received: int = 0  # ps_recv: passed the filter, dropped ones included
    dropped: int = 0  # ps_drop: no room in the capture buffer
    if_dropped: int = 0  # ps_ifdrop: dropped by the interface (the interface's figure, not this handle's)


class LiveSource:
    """An open capture handle on one interface; see the module docstring."""

    __slots__ = (
        "_batch",
        "_handle",
        "_last_raw",
        "_next_presence_check",
        "_on_packet",
        "_poll",
        "_totals",
        "bytes",
        "closed",
        "interface",
        "linktype",
        "max_batch",
        "native",
        "packets",
    )

    def __init__(
        self,
        interface: str,
        bpf: str | None = None,
        snaplen: int = DEFAULT_SNAPLEN,
        buffer_bytes: int = 0,
        promisc: bool = True,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        max_batch: int = DEFAULT_MAX_BATCH,
        native: bool = False,
    ) -> None:
        self.interface = interface
        self.native: _native.LiveCapture | None = None
        self._poll = select.poll()
        self._next_presence_check = 0.0
        self.max_batch = max_batch
        self._batch: Batch = []
        self._last_raw = (0, 0, 0)
        self._totals = CaptureStats()
        self.packets = 0
        self.bytes = 0
        self.closed = False
        if native:
            self.native = _native.LiveCapture(interface, bpf, snaplen, buffer_bytes, promisc, timeout_ms)
            self._handle: pcap.pcap | _native.LiveCapture = self.native
            self.linktype = self.native.linktype
            self._poll.register(self.native.fileno(), select.POLLIN)
            return
        try:
            handle = pcap.pcap(
                name=interface,
                snaplen=snaplen,
                promisc=promisc,
                timeout_ms=timeout_ms,
                immediate=False,
                timestamp_in_ns=True,
                buffer_size=buffer_bytes,
            )
        except OSError as exc:
            raise CaptureError(f"{interface}: cannot capture ({_reason(exc)})") from None
        self._handle = handle
        self.linktype = linktype_of_dlt(handle.datalink())
        if self.linktype not in SUPPORTED:
            handle.close()
            raise CaptureError(
                f"{interface}: unsupported link type {self.linktype} ({linktype_name(self.linktype)})"
            )
        if bpf:
            try:
                handle.setfilter(bpf)
            except OSError as exc:
                handle.close()
                raise CaptureError(f"{interface}: invalid BPF filter {bpf!r}: {_reason(exc)}") from None
        handle.setnonblock(True)
        self._poll.register(handle.fileno(), select.POLLIN)
        batch = self._batch
        linktype = self.linktype

        def on_packet(ts: int, frame: bytes) -> None:
            batch.append((ts, linktype, frame))

        self._on_packet = on_packet

    def fileno(self) -> int:
        return int(self._handle.fileno())

    def join_fanout(self, group_id: int) -> None:
        """Join PACKET_FANOUT group ``group_id`` (0 to 65535) in flow-hash mode, with IP defragmentation."""
        value = (group_id & 0xFFFF) | (PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG) << 16
        sock = socket.socket(fileno=os.dup(self.fileno()))
        try:
            sock.setsockopt(SOL_PACKET, PACKET_FANOUT, _FANOUT_ARG.pack(value))
        except OSError as exc:
            raise CaptureError(f"{self.interface}: cannot join fanout group {group_id} ({_reason(exc)})") from None
        finally:
            sock.close()

    def ready(self, wait_s: float) -> bool:
        """Wait up to ``wait_s`` seconds for packets (the native handle's way: the engine reads them)."""
        if self._poll.poll(max(0, int(wait_s * 1000))):
            return True
        self._check_present()
        return False

    def read(self, wait_s: float) -> Batch:
        """The packets ready now, waiting up to ``wait_s`` seconds for the first; [] after the wait.

        CaptureError when libpcap reports a failure (e.g. the interface was removed).
        """
        if not self.ready(wait_s):
            return []
        assert isinstance(self._handle, pcap.pcap), "a native handle is read by the native engine"
        dispatch = self._handle.dispatch
        on_packet = self._on_packet
        batch = self._batch
        n = dispatch(-1, on_packet)
        while n > 0 and len(batch) < self.max_batch:
            n = dispatch(-1, on_packet)
        if n < 0:  # the interface went away or the socket failed; polling again would spin
            message = self._handle.geterr()
            batch.clear()
            raise CaptureError(f"{self.interface}: capture failed ({_text(message)})")
        frames = batch.copy()
        batch.clear()
        self.packets += len(frames)
        self.bytes += sum(map(len, map(_frame_bytes, frames)))
        return frames

    def _check_present(self) -> None:
        """At most once a second while idle: is the interface still there? Its removal does not always wake
        the packet socket's poll (TPACKET_V3), so without this a monitor could wait on a dead handle forever."""
        now = time.monotonic()
        if now < self._next_presence_check or self.interface == ANY_INTERFACE:
            return
        self._next_presence_check = now + PRESENCE_CHECK_S
        try:
            socket.if_nametoindex(self.interface)
        except OSError:
            raise CaptureError(f"{self.interface}: capture failed (the interface was removed)") from None

    def stats(self) -> CaptureStats:
        """libpcap's counters, widened past their 32-bit wrap-around; the last values once closed."""
        totals = self._totals
        try:
            current = () if self.closed else self._handle.stats()
        except OSError:  # a failed handle (interface removed): the last figures read stand
            current = ()
        if not current:
            return CaptureStats(totals.received, totals.dropped, totals.if_dropped)
        raw = tuple(int(v) & (_U32 - 1) for v in current[:3])
        last = self._last_raw
        totals.received += (raw[0] - last[0]) % _U32
        totals.dropped += (raw[1] - last[1]) % _U32
        totals.if_dropped += (raw[2] - last[2]) % _U32
        self._last_raw = (raw[0], raw[1], raw[2])
        return CaptureStats(totals.received, totals.dropped, totals.if_dropped)

    def close(self) -> None:
        """Stop capturing (the last counters stay readable through :meth:`stats`)."""
        if self.closed:
            return
        self.stats()
        self._poll.unregister(self.fileno())
        self._handle.close()
        self.closed = True


def linktype_of_dlt(dlt: int) -> int:
    """The LINKTYPE_ value (as in files, and as the decoder expects) for a libpcap DLT_ value."""
    if dlt == pcap.DLT_RAW:
        return LINKTYPE_RAW
    if dlt == pcap.DLT_LOOP:
        return LINKTYPE_LOOP
    return dlt


# pypcap wraps libpcap's message as "Activateing packet capture failed. Error returned by packet capture
# library was b'No such device exists'" (its typo, and a bytes repr): only libpcap's own text is shown.
_PYPCAP_WRAPPED = re.compile(r"Error returned by packet capture library was b(['\"])(.*)\1\s*$", re.DOTALL)


def _reason(exc: OSError) -> str:
    return _text(exc.strerror or (exc.args[0] if exc.args else str(exc)))


def _text(message: object) -> str:
    """libpcap's message as clean text: bytes decoded, pypcap's wrapper and bytes repr removed."""
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    wrapped = _PYPCAP_WRAPPED.search(text)
    if wrapped is None:
        return text
    try:
        inner = ast.literal_eval("b" + wrapped.group(1) + wrapped.group(2) + wrapped.group(1))
    except (SyntaxError, ValueError):
        return wrapped.group(2)
    return bytes(inner).decode(errors="replace")
