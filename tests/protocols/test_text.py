"""The helpers shared by the text protocols: numeric replies, reply queues, dot-stuffing, capped listings."""

from __future__ import annotations

from collections import deque

import pytest

from tlsmon.protocols.text import GREETING, Listing, answered, first_line, mechanism, reply_code, tokens, unstuff


@pytest.mark.parametrize(
    ("line", "parsed"),
    [
        (b"250 ok", ("250", False)),
        (b"250-PIPELINING", ("250", True)),
        (b"220", ("220", False)),
        (b"25", (None, False)),
        (b"2x0 ok", (None, False)),
        (b"250ok", (None, False)),
        (b"", (None, False)),
    ],
)
def test_reply_code_is_three_digits_then_space_dash_or_end(line: bytes, parsed: tuple[str | None, bool]) -> None:
    assert reply_code(line) == parsed


def test_the_greeting_answers_first_when_its_code_is_a_greeting_code() -> None:
    pending = deque([GREETING, "FEAT"])
    assert answered(pending, "220", frozenset({"220"})) == GREETING
    assert list(pending) == ["FEAT"]


def test_a_first_reply_that_is_no_greeting_answers_the_first_command() -> None:
    pending = deque([GREETING, "FEAT", "QUIT"])
    assert answered(pending, "211", frozenset({"220"})) == "FEAT"
    assert list(pending) == ["QUIT"]


def test_with_no_command_sent_the_greeting_answers_whatever_the_code() -> None:
    assert answered(deque([GREETING]), "500", frozenset({"220"})) == GREETING


@pytest.mark.parametrize(
    ("line", "data"), [(b"..X-DOT", b".X-DOT"), (b".X", b"X"), (b"X.", b"X."), (b"..", b"."), (b"", b"")]
)
def test_unstuff_drops_one_leading_dot(line: bytes, data: bytes) -> None:
    assert unstuff(line) == data


def test_mechanism_is_the_second_word_upper_case_when_it_is_a_sasl_name() -> None:
    assert mechanism(b"AUTH plain AGFsaWNl") == "PLAIN"
    assert mechanism(b"AUTH") == ""
    assert mechanism(b"AUTH PL@IN") == ""


def test_tokens_are_the_non_empty_stripped_lines() -> None:
    assert tokens([b" AUTH TLS", b"", b"  ", b"PBSZ\t"]) == ("AUTH TLS", "PBSZ")


@pytest.mark.parametrize(
    ("data", "line"), [(b"220 ready\r\nEHLO", (b"220 ready", True)), (b"220 rea", (b"220 rea", False))]
)
def test_first_line_is_cut_at_the_first_line_end(data: bytes, line: tuple[bytes, bool]) -> None:
    assert first_line(data) == line


def test_listing_keeps_up_to_its_limit_and_says_once_that_it_turned_lines_away() -> None:
    listing = Listing[bytes](2)
    assert [listing.add(b"a"), listing.add(b"b"), listing.add(b"c"), listing.add(b"d")] == [False, False, True, False]
    assert listing.take() == [b"a", b"b"]
    assert [listing.add(b"e"), listing.add(b"f"), listing.add(b"g")] == [False, False, True]
