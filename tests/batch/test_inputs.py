"""Which files a batch reads (files, walked folders, globs) and what identifies each one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tlsmon.batch.inputs import InputError, discover, identify


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name in ("a/2.pcap", "a/1.pcap", "a/sub/3.pcap.gz", "a/.hidden.pcap", "a/.snap/4.pcap", "b.pcapng"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode())
    return tmp_path


def test_a_folder_is_walked_in_sorted_order_without_hidden_entries(tree: Path) -> None:
    assert discover([str(tree / "a")]) == [str(tree / p) for p in ("a/1.pcap", "a/2.pcap", "a/sub/3.pcap.gz")]


def test_globs_and_files_are_expanded_in_argument_order_each_file_once(tree: Path) -> None:
    found = discover([str(tree / "b.pcapng"), str(tree / "a" / "*.pcap"), str(tree / "a" / "1.pcap")])
    assert found == [str(tree / p) for p in ("b.pcapng", "a/1.pcap", "a/2.pcap")]


def test_a_recursive_glob_crosses_folders(tree: Path) -> None:
    assert discover([str(tree / "**" / "3.pcap.gz")]) == [str(tree / "a/sub/3.pcap.gz")]


@pytest.mark.parametrize(("arg", "reason"), [("missing.pcap", "no such file or folder"), ("*.none", "no file matches")])
def test_an_argument_naming_nothing_is_an_error(tree: Path, arg: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason):
        discover([str(tree / arg)])


def test_the_default_id_changes_when_the_file_is_touched(tree: Path) -> None:
    path = str(tree / "b.pcapng")
    before = identify(path)
    os.utime(path, ns=(before.mtime_ns + 1_000_000_000, before.mtime_ns + 1_000_000_000))
    after = identify(path)
    assert before.identity == after.identity == "stat"
    assert len(before.input_id) == 20
    assert before.input_id != after.input_id


def test_the_content_id_survives_a_touch_and_a_copy(tree: Path) -> None:
    path = tree / "b.pcapng"
    before = identify(str(path), content_hash=True)
    copy = tree / "copy.pcapng"
    copy.write_bytes(path.read_bytes())
    os.utime(path, ns=(before.mtime_ns + 10**9, before.mtime_ns + 10**9))
    assert identify(str(path), content_hash=True).input_id == before.input_id
    assert identify(str(copy), content_hash=True).input_id == before.input_id
    assert before.identity == "hash"
