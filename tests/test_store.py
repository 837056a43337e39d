"""The DuckDB store: migrations, bulk writes, transactions, read-only mode and the lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from musicwb.errors import ParameterError, StoreError, StoreLockedError
from musicwb.store import Store, migrations, open_store


def _runs(n: int, status: str = "ok") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": [f"run-{i}" for i in range(n)],
            "kind": "scan",
            "started_at": pd.Timestamp("2026-01-01"),
            "status": status,
        }
    )


def test_new_store_is_created_and_migrated(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "lib.duckdb"
    with Store(path) as store:
        assert store.schema_version() == migrations()[-1].version
        for table in ("tracks", "scan_errors", "runs", "tracklist_sets", "tracklist_entries"):
            assert store.has_table(table)
    assert path.exists()


def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "lib.duckdb"
    with Store(path) as store:
        store.insert("runs", _runs(2))
    with Store(path) as store:
        assert store.scalar("SELECT count(*) FROM schema_migrations") == len(migrations())
        assert store.scalar("SELECT count(*) FROM runs") == 2


def test_a_migration_skipped_by_an_older_build_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "gap.duckdb"
    first = migrations()[1]
    with Store(path) as store:
        store.execute("DROP TABLE source_cache")
        store.execute("DELETE FROM schema_migrations WHERE version = ?", [first.version])
    with pytest.raises(StoreError, match=f"{first.version:03d}_{first.name}"):
        Store(path, read_only=True)
    with Store(path) as store:
        assert store.has_table("source_cache")
        assert store.applied_migrations() == {m.version for m in migrations()}


def test_migration_versions_are_unique_and_ordered() -> None:
    versions = [migration.version for migration in migrations()]
    assert versions == sorted(set(versions))
    assert versions[0] == 1


def test_bulk_insert_update_and_upsert(tmp_path: Path) -> None:
    with Store(tmp_path / "lib.duckdb") as store:
        assert store.insert("runs", _runs(3)) == 3
        store.update("runs", pd.DataFrame({"run_id": ["run-1"], "status": ["failed"]}), key=["run_id"])
        assert store.scalar("SELECT status FROM runs WHERE run_id = 'run-1'") == "failed"
        store.upsert("runs", _runs(5, status="again"), key=["run_id"])
        counts = store.df("SELECT status, count(*) AS n FROM runs GROUP BY status ORDER BY status")
        assert counts.to_dict("records") == [{"status": "again", "n": 5}]


def test_insert_of_empty_frame_writes_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "lib.duckdb") as store:
        assert store.insert("runs", _runs(0)) == 0
        assert store.scalar("SELECT count(*) FROM runs") == 0


def test_table_names_are_checked(tmp_path: Path) -> None:
    with Store(tmp_path / "lib.duckdb") as store, pytest.raises(ParameterError, match="identifier"):
        store.insert("runs; DROP TABLE tracks", _runs(1))


def test_failed_transaction_leaves_nothing_half_written(tmp_path: Path) -> None:
    with Store(tmp_path / "lib.duckdb") as store:
        with pytest.raises(StoreError), store.transaction():
            store.insert("runs", _runs(2))
            store.insert("runs", _runs(1))  # duplicate key: the whole transaction rolls back
        assert store.scalar("SELECT count(*) FROM runs") == 0


def test_sql_errors_name_the_store_and_statement(tmp_path: Path) -> None:
    with Store(tmp_path / "lib.duckdb") as store, pytest.raises(StoreError, match="no_such_table"):
        store.df("SELECT * FROM no_such_table")


def test_read_only_store_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "lib.duckdb"
    Store(path).close()
    with Store(path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM tracks") == 0
        with pytest.raises(StoreError, match="read-only"):
            store.insert("runs", _runs(1))


def test_read_only_open_of_missing_store_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="musicwb demo"):
        Store(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


@pytest.mark.parametrize("read_only", [False, True])
def test_a_folder_given_as_the_store_says_to_pass_its_file(tmp_path: Path, read_only: bool) -> None:
    (tmp_path / "data").mkdir()
    with pytest.raises(StoreError, match=r"is a folder, not a store: pass the store's \.duckdb"):
        Store(tmp_path / "data", read_only=read_only)
    assert list((tmp_path / "data").iterdir()) == []  # nothing written into it


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("these are my notes, not a database\n")
    with pytest.raises(StoreError, match="notes.duckdb"):
        Store(path)
    assert path.read_text() == "these are my notes, not a database\n"


def test_second_writing_process_gets_a_clear_lock_error(tmp_path: Path) -> None:
    path = tmp_path / "lib.duckdb"
    with Store(path) as store:
        store.insert("runs", _runs(1))
        script = textwrap.dedent(
            f"""
            from musicwb.store import Store
            from musicwb.errors import StoreLockedError
            try:
                Store({str(path)!r}, lock_wait_s=0.5)
            except StoreLockedError as exc:
                print("LOCKED:", exc)
            """
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "LOCKED:" in done.stdout
        assert "is locked (waited 0.5 s)" in done.stdout and "PID" in done.stdout
    # the holder's data is intact after the refused attempt
    with Store(path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM runs") == 1
    assert issubclass(StoreLockedError, StoreError)


def test_a_long_writer_that_does_not_hold_the_store_lets_other_processes_in(
    tmp_path: Path,
) -> None:
    """A job writing with hold_open=False commits 60 times while this process opens the store
    again and again, read-only and for writing: nobody gets a lock error, and every reader sees
    a consistent, growing count."""
    import time

    path = tmp_path / "lib.duckdb"
    Store(path).close()
    script = textwrap.dedent(
        f"""
        import time
        from musicwb.store import Store
        store = Store({str(path)!r}, hold_open=False)
        for i in range(60):
            with store.transaction():
                store.execute(
                    "INSERT INTO runs VALUES (?, 'job', now(), NULL, 'running', '{{}}', NULL)",
                    [f"run-{{i:03d}}"],
                )
            time.sleep(0.03)
        print("WRITER DONE")
        """
    )
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    seen, own_writes = [], 0
    while writer.poll() is None:
        with Store(path, read_only=True) as reader:
            seen.append(reader.scalar("SELECT count(*) FROM runs WHERE kind = 'job'"))
        with Store(path) as other_writer:  # a second writer gets its turn too
            other_writer.execute(
                "INSERT INTO runs VALUES (?, 'other', now(), NULL, 'ok', '{}', NULL)",
                [f"other-{own_writes}"],
            )
            own_writes += 1
        time.sleep(0.01)
    assert writer.wait(timeout=60) == 0 and "WRITER DONE" in writer.stdout.read()
    assert len(seen) >= 10 and seen == sorted(seen) and seen[-1] <= 60
    with Store(path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM runs WHERE kind = 'job'") == 60
        assert store.scalar("SELECT count(*) FROM runs WHERE kind = 'other'") == own_writes


def test_threads_opening_the_store_per_statement_do_not_collide(tmp_path: Path) -> None:
    """Four threads, each with its own hold_open=False handle (a notebook, its background
    worker, a dashboard): DuckDB fails when two of them open or close the file at once."""
    from concurrent.futures import ThreadPoolExecutor

    path = tmp_path / "lib.duckdb"
    Store(path).close()

    def work(thread: int) -> int:
        store = Store(path, hold_open=False)
        for i in range(150):
            if i % 3 == 0:
                store.execute(
                    "INSERT INTO runs VALUES (?, 'job', now(), NULL, 'ok', '{}', NULL)",
                    [f"t{thread}-{i}"],
                )
            else:
                store.scalar("SELECT count(*) FROM runs")
        return thread

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(work, range(4))) == [0, 1, 2, 3]
    with Store(path, read_only=True) as store:
        assert store.scalar("SELECT count(*) FROM runs") == 4 * 50


def test_a_reader_waits_for_a_commit_then_names_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "lib.duckdb"
    Store(path).close()
    script = textwrap.dedent(
        f"""
        import sys, time
        from musicwb.store import Store
        with Store({str(path)!r}):
            print("HOLDING", flush=True)
            time.sleep(float(sys.argv[1]))
        """
    )
    for hold_s, expect_ok in ((1.0, True), (30.0, False)):
        holder = subprocess.Popen(
            [sys.executable, "-c", script, str(hold_s)], stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout.readline().strip() == "HOLDING"
        try:
            if expect_ok:  # the holder lets go within the wait
                with Store(path, read_only=True, lock_wait_s=10) as store:
                    assert store.schema_version() >= 1
            else:
                with pytest.raises(StoreLockedError, match=r"waited 1 s.*PID"):
                    Store(path, read_only=True, lock_wait_s=1)
        finally:
            holder.kill()
            holder.wait()


def test_reader_sees_committed_writes_from_the_same_process(tmp_path: Path) -> None:
    with Store(tmp_path / "lib.duckdb") as store:
        reader = store.reader()
        store.insert("runs", _runs(2))
        assert reader.scalar("SELECT count(*) FROM runs") == 2


def test_open_store_resolves_option_then_environment_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MUSICWB_STORE", raising=False)
    with open_store() as store:
        assert store.path == Path("data/musicwb.duckdb")
    monkeypatch.setenv("MUSICWB_STORE", str(tmp_path / "env.duckdb"))
    with open_store() as store:
        assert store.path == tmp_path / "env.duckdb"
    with open_store(tmp_path / "option.duckdb") as store:
        assert store.path == tmp_path / "option.duckdb"


def test_arrays_gives_vector_columns_as_matrices_and_names_bad_sql(tmp_path: Path) -> None:
    import numpy as np

    with Store(tmp_path / "lib.duckdb") as store:
        store.execute(
            "CREATE TABLE vectors (id BIGINT, name VARCHAR, tags VARCHAR[], vec FLOAT[3])"
        )
        store.execute(
            "INSERT INTO vectors VALUES (1, 'a', ['x', 'y'], [1, 2, 3]), "
            "(2, NULL, [], NULL), (3, 'c', NULL, [7, 8, 9])"
        )
        got = store.arrays("SELECT * FROM vectors WHERE id >= ? ORDER BY id", [1])
        later = store.arrays("SELECT id, vec FROM vectors WHERE id > 1 ORDER BY id")
        empty = store.arrays("SELECT id, vec FROM vectors WHERE id > 9")
        with pytest.raises(StoreError, match="nope"):
            store.arrays("SELECT nope FROM vectors")
    assert list(got) == ["id", "name", "tags", "vec"]
    assert got["id"].dtype == np.int64 and got["id"].tolist() == [1, 2, 3]
    assert got["name"].tolist() == ["a", None, "c"]
    assert [None if t is None else list(t) for t in got["tags"]] == [["x", "y"], [], None]
    assert got["vec"].dtype == np.float32 and got["vec"].shape == (3, 3)
    assert got["vec"][0].tolist() == [1, 2, 3] and got["vec"][2].tolist() == [7, 8, 9]
    assert np.isnan(got["vec"][1]).all()  # a NULL vector is a row of NaN, not a shifted row
    assert later["vec"].tolist()[1] == [7, 8, 9]
    assert empty["vec"].shape == (0, 3)


def test_ctrl_c_during_a_query_stops_the_caller_as_ctrl_c_does():
    import threading

    with Store(":memory:") as store:
        # what DuckDB does on SIGINT: the running query is interrupted
        timer = threading.Timer(0.5, store.connection().interrupt)
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            store.scalar("SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000) b")
        timer.cancel()
        assert store.scalar("SELECT 1") == 1  # the store is still usable
