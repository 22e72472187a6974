"""A capture group appears whole or not at all, whatever moment a crash picks: real SIGKILLs of a writer process,
and the journal's two sides (crash before the commit: rolled back; after it: completed) set up by hand."""

import errno
import json
import os

import pytest

from bench.crash import SUFFIXES, intact, kill9_trials, payload
from firmware.errors import StorageError
from firmware.storage import atomic
from firmware.storage.atomic import JOURNAL_PREFIX, TMP_PREFIX, clean_leftovers, write_group


def test_kill_9_at_random_moments_leaves_no_partial_group(tmp_path):
    caps = tmp_path / "caps"
    fig = kill9_trials(caps, trials=50, seed=18)
    assert fig["kill9_trials"] == 50
    # The kills reached the dangerous windows: after the commit, and between one group's renames.
    assert fig["kill9_kills_after_commit"] >= 1 and fig["kill9_kills_between_renames"] >= 1, fig
    assert fig["kill9_groups_completed_by_recovery"] >= 1, fig
    assert fig["kill9_partial_groups"] == 0, fig
    assert fig["kill9_reported_groups_lost"] == 0 and fig["kill9_damaged_files"] == 0, fig
    assert fig["kill9_leftovers_after_recovery"] == 0 and not [n for n in os.listdir(caps) if n.startswith(".")]
    assert fig["kill9_groups_written"] >= 20  # earlier trials' groups are all still there, whole


def group(stem):
    return [(stem + sfx, payload(stem, sfx, 4096)) for sfx in SUFFIXES]


def test_crash_between_renames_is_completed_at_recovery(tmp_path, monkeypatch, caplog):
    write_group(tmp_path, group("a"))
    real_replace = os.replace
    calls = []

    def dies_on_second_capture_file(src, dst):
        calls.append(dst)
        if sum(not os.path.basename(str(d)).startswith(".") for d in calls) == 2:
            raise KeyboardInterrupt  # stands for the process dying here
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", dies_on_second_capture_file)
    with pytest.raises(KeyboardInterrupt):
        write_group(tmp_path, group("b"))
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert sorted(p.name for p in tmp_path.glob("b.*")) == ["b.dng"]  # half a capture under final names
    assert len(list(tmp_path.glob(f"{JOURNAL_PREFIX}*"))) == 1
    assert clean_leftovers(tmp_path) == []  # nothing thrown away: the group was committed
    assert sorted(os.listdir(tmp_path)) == ["a.dng", "a.jpg", "a.json", "b.dng", "b.jpg", "b.json"]
    assert all(intact(p) for p in tmp_path.iterdir())
    assert "completed b.jpg" in caplog.text and "half-written" in caplog.text


def test_crash_before_the_commit_is_rolled_back(tmp_path, monkeypatch):
    write_group(tmp_path, group("a"))

    def no_journal(directory, staged):
        raise KeyboardInterrupt  # the process dies with every file staged but nothing committed

    monkeypatch.setattr(atomic, "_commit", no_journal)
    monkeypatch.setattr(atomic.Path, "unlink", lambda self, missing_ok=False: None)  # a dead process cleans nothing
    with pytest.raises(KeyboardInterrupt):
        write_group(tmp_path, group("b"))
    monkeypatch.undo()
    assert len(list(tmp_path.glob(f"{TMP_PREFIX}*"))) == 3
    removed = clean_leftovers(tmp_path)
    assert len(removed) == 3 and sorted(os.listdir(tmp_path)) == ["a.dng", "a.jpg", "a.json"]


def test_a_rename_failure_after_the_commit_is_a_storage_error_and_recovered(tmp_path, monkeypatch):
    real_replace = os.replace

    def eio_on_json(src, dst):
        if str(dst).endswith(".json"):
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", eio_on_json)
    with pytest.raises(StorageError, match="next start completes them"):
        write_group(tmp_path, group("c"))
    monkeypatch.undo()
    clean_leftovers(tmp_path)
    assert sorted(os.listdir(tmp_path)) == ["c.dng", "c.jpg", "c.json"]


def test_an_unreadable_journal_is_named_and_removed(tmp_path, caplog):
    (tmp_path / f"{JOURNAL_PREFIX}x").write_text('{"rename": [["../../etc/passwd", "x.dng"]]}')
    (tmp_path / f"{JOURNAL_PREFIX}y").write_bytes(b"\xff not json")
    (tmp_path / f"{TMP_PREFIX}1-x.dng").write_bytes(b"staged")
    clean_leftovers(tmp_path)
    assert os.listdir(tmp_path) == []
    assert "not a plain file name" in caplog.text and f"{JOURNAL_PREFIX}y" in caplog.text


def test_the_journal_names_only_files_of_its_group(tmp_path):
    """What a journal holds: the staged temporaries and their final names, nothing else (read back mid-write)."""
    seen = {}
    real_replace = os.replace

    def peek(src, dst):
        if os.path.basename(str(dst)).startswith(JOURNAL_PREFIX):
            seen.update(json.loads(open(src, "rb").read()))
        return real_replace(src, dst)

    atomic.os.replace = peek
    try:
        write_group(tmp_path, group("d"))
    finally:
        atomic.os.replace = real_replace
    assert [final for _, final in seen["rename"]] == ["d.dng", "d.jpg", "d.json"]
    assert all(tmp.startswith(TMP_PREFIX) and tmp.endswith(final) for tmp, final in seen["rename"])
    assert sorted(os.listdir(tmp_path)) == ["d.dng", "d.jpg", "d.json"]  # journal gone once published
