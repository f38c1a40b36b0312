"""Stitching: one row for a connection that rotated capture files of one sensor cut into pieces.

Theory of operation. A capture rotated by time or size (``tcpdump -G``/``-C``, a tap's hourly files) cuts every
connection open at the cut: the task of file N writes it with ``end_reason`` ``eof``, the task of file N+1 picks
it up mid-stream, without the originator's SYN. Tasks hold such rows back (:func:`~tlsmon.batch.task.is_piece`)
in ``_pieces/``; after the tasks, this step walks each sensor's done inputs in time order (first connection
start, then path) and joins a piece B of input N+1 to a piece A of input N when

- both have the same 4-tuple (B's originator may be A's responder: mid-stream, the originator is a guess),
- A was open at the end of its file (``end_reason`` eof) and B has no originator SYN (``S`` not in history),
- B starts after A's last packet and no later than the idle timeout after it (a longer silence would have ended
  the connection in ``read`` too), and
- the match is unique: A has no other candidate B, B no other candidate A.

The joined row keeps A's uid, ``ts_start``, addresses and VLAN, takes B's ``ts_end`` and ``end_reason``, sums
packets, bytes and missed bytes, joins the histories (letters in order of first appearance, as in Zeek) and
the anomalies. Its STARTTLS, TLS and certificate columns are A's when A's handshake finished (``established``)
or B saw nothing of them. When the cut fell inside a handshake, each column is A's value, or B's where A has
none (null or an empty list); flags are true when either piece saw them, ``ssl_history`` is A's letters then
B's, and the row carries ``batch.stitched_in_handshake``: two partial parses are joined (A's parser never saw
B's messages, so a value derived from both, such as a version negotiated in a message A lacked, is B's guess).
Continuity is proven by TCP sequence numbers: in every direction both pieces saw, B's first stream byte
(``*_seq_first``) must lie within Zeek's TOO_LARGE_SEQ_DELTA (1 MiB) of the byte after A's last
(``*_seq_next``) — equal when nothing was lost or resent at the cut, a little behind when B starts with a
retransmission. Pieces whose numbers disagree are different connections on one 4-tuple (port reuse) and are
not joined. When no direction can be checked (a piece without packets in either direction both saw, or rows
written before the sequence columns existed), the join rests on the 4-tuple and time alone and the row
carries ``batch.stitched_without_seq``. The joined row's ``orig_bytes``/``resp_bytes`` (by sequence space) are
A's plus B's minus the bytes B resent, its ``*_seq_first`` A's and ``*_seq_next`` B's, and its ``conn_state``
the one ``read`` would give the whole connection: B's, with B's picked-up-mid-stream endpoints (Zeek's
PARTIAL, which ``conn_state`` treats as inactive) counted as established when A was (``S1``). Pieces with
more than one candidate are kept apart and each marked ``batch.split_ambiguous``; pieces with none are kept as
they are. A joined row that is still open at the end of file N+1 joins on into N+2.

Output. Every resolved row is written into ``connections/sensor=S/date=D/part-stitched-<owner>.parquet``, where
the owner is the input holding the row's first piece and D the date of its ``ts_start``; the owner's manifest
row lists these files. The step keeps ``_manifest/_stitch-<sensor>.json`` (the inputs it last saw, and a digest
of each owner's rows) and rewrites only owners whose rows changed, so a rerun with nothing new rewrites nothing.
A crash part way leaves the state file as it was, and the next run redoes the step.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tlsmon import __version__
from tlsmon.batch.layout import MANIFEST_DIR, partition_dir, pieces_path, utc_date, write_atomic
from tlsmon.batch.manifest import Manifest, ManifestEntry
from tlsmon.batch.parts import STITCHED, is_compacted, remove_input_parts, row_ranges
from tlsmon.batch.task import DONE
from tlsmon.output.parquet import COMPRESSION
from tlsmon.records import zeek
from tlsmon.records.conn import CONN_COLUMNS
from tlsmon.records.tables import SCHEMA_VERSION

STITCHED_WITHOUT_SEQ = "batch.stitched_without_seq"
STITCHED_IN_HANDSHAKE = "batch.stitched_in_handshake"
SPLIT_AMBIGUOUS = "batch.split_ambiguous"

_CONN = frozenset(CONN_COLUMNS.names())
_SUMS = ("orig_pkts", "resp_pkts", "orig_bytes", "resp_bytes", "orig_payload_bytes", "resp_payload_bytes",
         "orig_missed_bytes", "resp_missed_bytes", "missed_bytes")
_SWAP = (("orig_h", "resp_h"), ("orig_p", "resp_p"), ("orig_pkts", "resp_pkts"), ("orig_bytes", "resp_bytes"),
         ("orig_payload_bytes", "resp_payload_bytes"), ("orig_missed_bytes", "resp_missed_bytes"),
         ("orig_seq_first", "resp_seq_first"), ("orig_seq_next", "resp_seq_next"))
#: how far B's first sequence number may be from A's next one (Zeek's TOO_LARGE_SEQ_DELTA)
MAX_SEQ_DELTA = 1 << 20
#: conn_state of B (picked up mid-stream) → the whole connection's, when A ended established (S1)
_WHOLE_STATE = {"OTH": "S1", "SH": "S2", "SHR": "S3", "RSTRH": "RSTR"}

Row = dict[str, object]


@dataclass(slots=True)
class StitchReport:
    joined: int = 0
    ambiguous: int = 0
    owners_rewritten: int = 0


def stitch_dataset(dataset: Path, manifest: Manifest, idle_timeout_s: float) -> StitchReport:
    report = StitchReport()
    sensors = sorted({e.sensor for e in manifest.entries.values() if e.state == DONE})
    for sensor in sensors:
        stitch_sensor(dataset, manifest, sensor, int(idle_timeout_s * 1e9), report)
    return report


def stitch_sensor(dataset: Path, manifest: Manifest, sensor: str, idle_ns: int, report: StitchReport) -> None:
    entries = sorted(
        (e for e in manifest.entries.values() if e.sensor == sensor and e.state == DONE),
        key=lambda e: (e.first_ts if e.first_ts is not None else e.mtime, e.path),
    )
    state_path = dataset / MANIFEST_DIR / f"_stitch-{sensor}.json"
    seen = [e.input_id for e in entries] + [str(idle_ns), SCHEMA_VERSION, __version__]
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    if state.get("inputs") == seen:
        return
    schema, outputs = _resolve(dataset, sensor, entries, idle_ns, report)
    digests: dict[str, str] = state.get("owners", {})
    by_id = {e.input_id: e for e in entries}
    new_digests: dict[str, str] = {}
    for owner in by_id:
        rows = outputs.get(owner, [])
        digest = hashlib.blake2b(repr(rows).encode(), digest_size=12).hexdigest()
        new_digests[owner] = digest
        entry = by_id[owner]
        written = [p for p in entry.parts if is_stitched_output(p, owner)]
        present = bool(written) and all((dataset / p).exists() for p in written)
        if digests.get(owner) == digest and present == bool(rows):
            continue
        _write_owner(dataset, manifest, entry, sensor, schema, rows, written)
        report.owners_rewritten += 1
    data = json.dumps({"inputs": seen, "owners": new_digests}).encode()
    write_atomic(state_path, _write_json(data))


def is_stitched_output(rel: str, owner: str) -> bool:
    """Whether a part listed by the owner's manifest row may hold its stitched rows."""
    name = Path(rel).name
    return rel.startswith("connections/") and (name == f"part-{STITCHED}{owner}.parquet"
                                                or name.startswith("part-compacted-"))


def _write_owner(
    dataset: Path, manifest: Manifest, entry: ManifestEntry, sensor: str, schema: pa.Schema | None,
    rows: list[Row], written: list[str],
) -> None:
    stitched_id = STITCHED + entry.input_id
    remove_input_parts(dataset, stitched_id, written)
    new_parts: list[str] = []
    if rows and schema is not None:
        by_date: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            by_date[utc_date(_int(row["ts_start"]))].append(row)
        int_schema = _int_timestamps(schema)
        for day, day_rows in sorted(by_date.items()):
            final = partition_dir(dataset, "connections", sensor, day) / f"part-{stitched_id}.parquet"
            table = pa.Table.from_pylist(day_rows, schema=int_schema).cast(schema)
            write_atomic(final, _parquet_writer(table))
            new_parts.append(str(final.relative_to(dataset)))
    keep = [p for p in entry.parts if p not in written or _holds(dataset / p, entry.input_id)]
    entry.parts = sorted(set(keep) | set(new_parts))
    entry.recorded = time.time_ns()
    manifest.record(entry)


def _holds(path: Path, input_id: str) -> bool:
    """Whether a compacted file still holds rows of the input (its own or its stitched ones)."""
    if not path.exists() or not is_compacted(path):
        return False
    return any(i in (input_id, STITCHED + input_id) for i, _, _ in row_ranges(pq.read_schema(path)))


def _parquet_writer(table: pa.Table) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        pq.write_table(table, tmp, compression=COMPRESSION)

    return write


def _write_json(data: bytes) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    return write


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _int_timestamps(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, pa.int64(), f.nullable) if pa.types.is_timestamp(f.type) else f
                      for f in schema], metadata=schema.metadata)


def _load(path: Path) -> tuple[pa.Schema, list[Row]]:
    table = pq.read_table(path)
    schema = table.schema
    for i, f in enumerate(schema):
        if pa.types.is_timestamp(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(pa.int64()))
    return schema.remove_metadata(), table.to_pylist()


def _resolve(
    dataset: Path, sensor: str, entries: list[ManifestEntry], idle_ns: int, report: StitchReport
) -> tuple[pa.Schema | None, dict[str, list[Row]]]:
    outputs: dict[str, list[Row]] = defaultdict(list)
    schema: pa.Schema | None = None
    open_rows: list[Row] = []
    for entry in entries:
        path = pieces_path(dataset, sensor, entry.input_id)
        rows: list[Row] = []
        if path.exists():
            schema, rows = _load(path)
        candidates: dict[int, list[int]] = defaultdict(list)  # B index → A indices
        takers: dict[int, list[int]] = defaultdict(list)  # A index → B indices
        for b, row in enumerate(rows):
            if "S" in str(row["history"]):
                continue
            for a, prev in enumerate(open_rows):
                if _continues(prev, row, idle_ns):
                    candidates[b].append(a)
                    takers[a].append(b)
        joined: dict[int, Row] = {}
        for b, found in candidates.items():
            if len(found) == 1 and len(takers[found[0]]) == 1:
                prev = open_rows[found[0]]
                _join(prev, rows[b])
                joined[b] = prev
                report.joined += 1
            else:
                for row in [rows[b], *(open_rows[a] for a in found)]:
                    _mark(row, SPLIT_AMBIGUOUS)
                report.ambiguous += 1
        next_open: list[Row] = []
        for b, row in enumerate(rows):
            current = joined.get(b)
            if current is None:
                outputs[entry.input_id].append(row)
                current = row
            if current["end_reason"] == "eof":
                next_open.append(current)
        open_rows = next_open
    return schema, outputs


def _continues(a: Row, b: Row, idle_ns: int) -> bool:
    if a["end_reason"] != "eof":
        return False
    gap = _int(b["ts_start"]) - _int(a["ts_end"])
    if not 0 <= gap <= idle_ns:
        return False
    same = (a["orig_h"], a["orig_p"], a["resp_h"], a["resp_p"]) == (b["orig_h"], b["orig_p"], b["resp_h"], b["resp_p"])
    flipped = (a["orig_h"], a["orig_p"], a["resp_h"], a["resp_p"]) == (b["resp_h"], b["resp_p"], b["orig_h"],
                                                                       b["orig_p"])
    if not (same or flipped):
        return False
    return all(abs(d) <= MAX_SEQ_DELTA for d in _seq_deltas(a, _as_seen_by(a, b)).values())


def _as_seen_by(a: Row, b: Row) -> Row:
    """``b`` with A's originator as its originator."""
    if (a["orig_h"], a["orig_p"]) == (b["orig_h"], b["orig_p"]):
        return b
    b = dict(b)
    for x, y in _SWAP:
        b[x], b[y] = b[y], b[x]
    b["history"] = str(b["history"]).swapcase()
    return b


def _seq_deltas(a: Row, b: Row) -> dict[str, int]:
    """For each direction both pieces saw ("orig", "resp"): B's first sequence number minus A's next one
    (signed 32-bit)."""
    deltas = {}
    for side in ("orig", "resp"):
        nxt, first = a.get(f"{side}_seq_next"), b.get(f"{side}_seq_first")
        if isinstance(nxt, int) and isinstance(first, int):
            d = (first - nxt) & 0xFFFFFFFF
            deltas[side] = d - (1 << 32) if d & 0x80000000 else d
    return deltas


def _join(a: Row, b: Row) -> None:
    """Fold piece ``b`` into row ``a`` (in place)."""
    b = _as_seen_by(a, b)
    deltas = _seq_deltas(a, b)
    for name in _SUMS:
        if name in a and name in b:
            a[name] = _int(a[name]) + _int(b[name])
    for side, delta in deltas.items():
        if delta < 0:  # B began by resending bytes A already counted
            a[f"{side}_bytes"] = max(0, _int(a[f"{side}_bytes"]) + delta)
    for side in ("orig", "resp"):
        if b.get(f"{side}_seq_next") is not None:
            if a.get(f"{side}_seq_first") is None:
                a[f"{side}_seq_first"] = b.get(f"{side}_seq_first")
            a[f"{side}_seq_next"] = b[f"{side}_seq_next"]
    if "conn_state" in a and "conn_state" in b:
        state = str(b["conn_state"])
        if a["conn_state"] == "S1":
            state = "RSTO" if state == "OTH" and "R" in str(b["history"]) else _WHOLE_STATE.get(state, state)
        a["conn_state"] = state
    b_duration = b.get("duration")
    b_clock = _int(b["ts_start"]) + (round(b_duration * 1e9) if isinstance(b_duration, float) else 0)
    a["ts_end"] = b["ts_end"]
    a["end_reason"] = b["end_reason"]
    history = str(a["history"])
    a["history"] = history + "".join(dict.fromkeys(c for c in str(b["history"]) if c not in history))
    a["anomalies"] = [*_names(a["anomalies"]), *_names(b["anomalies"])]
    if a["app_proto"] is None:
        a["app_proto"] = b["app_proto"]
    if a["tls_mode"] == "none" and b["tls_mode"] != "none":
        a["tls_mode"] = b["tls_mode"]
    if a.get("established") is not True and any(v not in (None, [], False) for n, v in b.items() if n not in _CONN):
        for name, value in b.items():
            if name in _CONN or value is None:
                continue
            old = a.get(name)
            if name == "ssl_history":
                a[name] = str(old or "") + str(value)
            elif isinstance(value, bool) and isinstance(old, bool):
                a[name] = old or value
            elif old is None or old == []:
                a[name] = value
        _mark(a, STITCHED_IN_HANDSHAKE)
    # Zeek's duration and service follow from the joined values, as read computes them for the whole connection:
    # the clock ends where B's stopped (its start plus its duration: Zeek's clock stops at the close).
    a["duration"] = zeek.duration(_int(a["ts_start"]), b_clock)
    server_hello = a.get("version") is not None
    app_proto = None if a["app_proto"] is None else str(a["app_proto"])
    a["service"] = zeek.service(app_proto, str(a["tls_mode"]), server_hello, _names(a["anomalies"]))
    if not deltas:
        _mark(a, STITCHED_WITHOUT_SEQ)


def _mark(row: Row, anomaly: str) -> None:
    anomalies = _names(row["anomalies"])
    if anomaly not in anomalies:
        anomalies.append(anomaly)
    row["anomalies"] = anomalies


def _names(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []
