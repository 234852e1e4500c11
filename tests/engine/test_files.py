"""Atomic writes: all or nothing, no leftovers, and the permissions a plain write would give."""

import os
import stat

import pytest

from engine.files import atomic_write_text, atomic_writer


def test_a_write_replaces_the_whole_file(tmp_path):
    path = tmp_path / "sub" / "data.json"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in path.parent.iterdir()] == ["data.json"]  # no temporary file left


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path):
    path = tmp_path / "data.json"
    atomic_write_text(path, "old")
    with pytest.raises(RuntimeError), atomic_writer(path) as out:
        out.write(b"half of the new")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.json"]


def test_a_new_file_gets_the_umask_permissions_and_a_replaced_one_keeps_its_own(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    path = tmp_path / "new.txt"
    atomic_write_text(path, "x")
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask  # readable like any file, not mkstemp's 0600
    path.chmod(0o640)
    atomic_write_text(path, "y")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
