"""The embedded index lifecycle: a reindex loses no write or delete made while it copies, backups
round-trip while the index serves, and the CLI drives both with one ``Error:`` line on failure."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from indexer.backends import embedded_alias, open_lifecycle
from indexer.backends.base import BackendQuery, LifecycleError
from indexer.backends.embedded import EmbeddedBackend
from indexer.backends.embedded_lifecycle import EmbeddedLifecycle
from indexer.records import IndexDocument
from indexer.settings import load_settings
from tests.support.churn import Churn, churn_doc, compare
from webapi.cli import cli

INITIAL = 2000


@pytest.fixture
def alias(tmp_path: Path) -> Path:
    """An embedded index of INITIAL documents behind its alias."""
    path = load_settings({"data_dir": tmp_path / "data"}).embedded_path
    backend = EmbeddedBackend.open(load_settings({"data_dir": tmp_path / "data"}))
    try:
        report = backend.write(churn_doc(f"seed:{n}", 1) for n in range(INITIAL))
        assert report.written == INITIAL
    finally:
        backend.close()
    return path


def _open(alias: Path) -> EmbeddedBackend:
    return EmbeddedBackend(embedded_alias.resolve(alias), alias=alias)


def test_reindex_carries_every_write_and_delete_made_while_it_copies(alias: Path) -> None:
    churn = Churn(lambda: _open(alias), {f"seed:{n}": 1 for n in range(INITIAL)})
    pages = 0

    def slow_progress(done: int, total: int) -> None:  # a large index copies for a while
        nonlocal pages
        pages += 1
        churn.window.set()
        time.sleep(0.03)

    old = embedded_alias.resolve(alias)
    churn.start()
    try:
        time.sleep(0.2)
        outcome = EmbeddedLifecycle(alias, drain_seconds=0.2).reindex(
            page_size=25, progress=slow_progress
        )
        churn.window.clear()
        time.sleep(0.3)  # writers go on against the new file after the swap
    finally:
        churn.stop()
    assert not churn.errors, churn.errors[:5]
    assert embedded_alias.resolve(alias) != old and not old.exists()
    reader = _open(alias)
    try:
        missing, extra, stale = compare(reader, churn)
        assert reader.info().documents == len(churn.expected)
    finally:
        reader.close()
    print(
        f"\nembedded reindex under writes: {pages} pages copied; {churn.writes_in_window} writes "
        f"and {churn.deletes_in_window} deletes during the copy ({churn.writes}/{churn.deletes} "
        f"in all); carried over {outcome.caught_up} writes, {outcome.deletes_caught_up} deletes; "
        f"{len(missing)} missing, {len(extra)} extra, {len(stale)} stale; "
        f"writers waited {outcome.writes_blocked_s:.2f} s at the swap"
    )
    assert churn.writes_in_window > 50 and churn.deletes_in_window > 20
    assert outcome.caught_up > 0 and outcome.deletes_caught_up > 0
    assert (missing, extra, stale) == ([], [], [])


def test_a_failed_reindex_leaves_the_old_file_serving(alias: Path) -> None:
    old = embedded_alias.resolve(alias)

    def broken(docs: list[IndexDocument]) -> list[IndexDocument]:
        raise RuntimeError("embedder crashed")

    with pytest.raises(RuntimeError, match="embedder crashed"):
        EmbeddedLifecycle(alias, drain_seconds=0).reindex(rewrite=broken)
    assert embedded_alias.resolve(alias) == old
    assert embedded_alias.leftovers(alias) == []
    assert EmbeddedLifecycle(alias).status().documents == INITIAL


def test_backup_while_serving_then_restore_round_trips(alias: Path, tmp_path: Path) -> None:
    lifecycle = EmbeddedLifecycle(alias, drain_seconds=0.1)
    server = _open(alias)  # a serving process: open before the backup and the restore
    try:
        before = server.fetch(["seed:1", "seed:2"])
        backup = lifecycle.backup(str(tmp_path / "backups"), "nightly")
        assert backup.documents == INITIAL and (tmp_path / "backups" / "nightly").is_dir()
        server.write([churn_doc("after-backup", 1)])
        server.delete(["seed:1"])
        assert server.info().documents == INITIAL
        restored = lifecycle.restore(str(tmp_path / "backups"))  # the newest: nightly
        assert restored.name == "nightly" and restored.documents == INITIAL
        after = server.fetch(["seed:1", "seed:2", "after-backup"])  # follows the alias
        assert set(after) == {"seed:1", "seed:2"}
        for doc_id, doc in before.items():
            assert after[doc_id].record == doc.record
            assert np.array_equal(after[doc_id].vector, doc.vector)
        hits = server.search(BackendQuery(vector=before["seed:2"].vector, num_candidates=3))
        assert hits.semantic[0].id == "seed:2"
        assert server.info().documents == INITIAL
        assert embedded_alias.leftovers(alias) == []
    finally:
        server.close()
    with pytest.raises(LifecycleError, match="already exists"):
        lifecycle.backup(str(tmp_path / "backups"), "nightly")
    with pytest.raises(LifecycleError, match="no backup named"):
        lifecycle.restore(str(tmp_path / "backups"), "weekly")


def test_restore_refuses_a_damaged_backup_and_keeps_the_index(alias: Path, tmp_path: Path) -> None:
    lifecycle = EmbeddedLifecycle(alias, drain_seconds=0)
    lifecycle.backup(str(tmp_path / "backups"), "b1")
    database = tmp_path / "backups" / "b1" / "index.sqlite"
    database.write_bytes(database.read_bytes()[:4096])  # truncated
    serving = embedded_alias.resolve(alias)
    with pytest.raises(LifecycleError):
        lifecycle.restore(str(tmp_path / "backups"), "b1")
    assert embedded_alias.resolve(alias) == serving
    assert lifecycle.status().documents == INITIAL


def test_cli_backup_restore_status_reindex_and_errors(alias: Path, tmp_path: Path) -> None:
    data = ["--data-dir", str(alias.parent)]
    runner = CliRunner()
    backed = runner.invoke(cli, ["backup", str(tmp_path / "b"), "--name", "one", *data])
    assert backed.exit_code == 0, backed.output
    assert f"backed up {INITIAL} documents" in backed.output
    restored = runner.invoke(cli, ["restore", str(tmp_path / "b"), *data])
    assert restored.exit_code == 0 and "restored one" in restored.output
    status = runner.invoke(cli, ["index", "status", "--json", *data])
    assert status.exit_code == 0 and f'"documents": {INITIAL}' in status.output
    reindexed = runner.invoke(cli, ["index", "reindex", *data])
    assert reindexed.exit_code == 0 and f"reindexed {INITIAL} documents" in reindexed.output
    cleaned = runner.invoke(cli, ["index", "cleanup", *data])
    assert cleaned.exit_code == 0 and "deleted 0" in cleaned.output
    for args, reason in [
        (["restore", str(tmp_path / "nothing-here"), *data], "no embedded backup in"),
        (["backup", str(tmp_path / "b"), "--name", "one", *data], "already exists"),
        (["index", "reindex", "--mapping-version", "2", *data], "one layout"),
        (["backup", str(tmp_path / "c"), "--data-dir", str(tmp_path / "empty")], "no index at"),
    ]:
        result = runner.invoke(cli, args)
        assert result.exit_code == 1, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and reason in lines[0], lines


def test_lifecycle_factory_follows_the_settings(tmp_path: Path) -> None:
    lifecycle = open_lifecycle(load_settings({"data_dir": tmp_path}))
    assert lifecycle.backend == "embedded" and not lifecycle.exists()
    assert lifecycle.create() is not None and lifecycle.exists() and lifecycle.create() is None
    assert lifecycle.status().documents == 0


def test_a_backup_taken_under_writes_is_one_consistent_snapshot(
    alias: Path, tmp_path: Path
) -> None:
    churn = Churn(lambda: _open(alias), {f"seed:{n}": 1 for n in range(INITIAL)})
    churn.start()
    try:
        time.sleep(0.2)
        backup = EmbeddedLifecycle(alias).backup(str(tmp_path / "backups"), "busy")
        time.sleep(0.2)
    finally:
        churn.stop()
    assert not churn.errors, churn.errors[:5]
    assert churn.writes > 0 and churn.deletes > 0
    copy = EmbeddedBackend(tmp_path / "backups" / "busy" / "index.sqlite")
    try:
        ids = copy.document_ids()
        docs = copy.fetch(ids)
        assert len(ids) == len(docs) == copy.info().documents == backup.documents
        assert all(doc.vector is not None and doc.record.title for doc in docs.values())
        assert copy.search(BackendQuery(text="churned", num_candidates=10)).total == len(ids)
    finally:
        copy.close()
