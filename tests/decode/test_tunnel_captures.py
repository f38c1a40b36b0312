"""The tunnelled TLS connections of Zeek's tunnel traces come out of the decoder with the endpoints of
Zeek's conn.log (``<trace>.zeek-baselines/*/conn.log`` in the shared corpus), one tunnel per frame."""

from __future__ import annotations

from collections import Counter

from tests.corpus.location import corpus_path, requires_corpus
from tlsmon.capture import CaptureSource
from tlsmon.decode import Decoder, format_address

pytestmark = requires_corpus


def decode_trace(rel: str) -> tuple[Counter[tuple[str, int, str, int]], dict[str, int]]:
    decoder = Decoder()
    segments: Counter[tuple[str, int, str, int]] = Counter()
    for ts, linktype, frame in CaptureSource([corpus_path(rel)]):
        result = decoder.decode(ts, linktype, frame)
        if result is not None:
            segments[(format_address(result[1]), result[3], format_address(result[2]), result[4])] += 1
    return segments, dict(decoder.counters)


def test_geneve_trace_yields_the_inner_https_connection() -> None:
    segments, counters = decode_trace("zeek/Traces/tunnels/geneve-47101.pcap")
    # conn.log: 192.168.0.107:45474 → 145.40.68.75:443, 15 packets from the originator, 9 from the responder
    assert segments == {
        ("192.168.0.107", 45474, "145.40.68.75", 443): 15,
        ("145.40.68.75", 443, "192.168.0.107", 45474): 9,
    }
    assert counters == {"decode.tunnel_geneve": 24}


def test_gtp_trace_with_sequence_numbers_yields_the_inner_tls_connection() -> None:
    segments, counters = decode_trace("zeek/Traces/tunnels/gtp/gtp6_gtp_0x32.pcap")
    # conn.log: 10.222.10.10:44960 → 173.194.69.188:5228, 17 packets out, 14 back
    assert segments == {
        ("10.222.10.10", 44960, "173.194.69.188", 5228): 17,
        ("173.194.69.188", 5228, "10.222.10.10", 44960): 14,
    }
    assert counters == {"decode.tunnel_gtpu": 31}
