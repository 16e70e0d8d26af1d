"""Writers sharing one archive: a batch's lock says its writer is alive, so that recovery
in one writer finishes only what dead ones left; on PostgreSQL, their index transactions
at the same time."""

from __future__ import annotations

import threading
from pathlib import Path

from provarchive.store.storage import Store


def test_recovery_leaves_a_live_writers_batch_alone(tmp_path: Path) -> None:
    root, staging = tmp_path / "ocfl", tmp_path / "staging"
    mine, other = Store(root, staging), Store(root, staging)
    mine.initialize()
    live = mine.begin()
    dead = mine.begin()
    dead._release()  # as the kernel does when its writer is killed
    (staging / "stray-0123456789abcdef0123456789abcdef").write_bytes(b"x")
    assert other.dead_batches()
    repairs, _ = other.recover(alone=False)
    assert [r.action for r in repairs] == ["staging-discarded"]
    assert live.directory.is_dir() and not dead.directory.exists()
    assert (staging / "stray-0123456789abcdef0123456789abcdef").exists()  # may be live
    assert not other.dead_batches()
    mine.release_batches()  # the writer's run ended (an error): its batch is anyone's now
    assert other.dead_batches()
    other.recover()
    assert list(staging.iterdir()) == []


# -- on a PostgreSQL server ----------------------------------------------------------------------


def test_two_index_transactions_with_the_same_words_in_opposite_orders_both_commit(
    pg_catalog_url: str,
) -> None:
    """Two writers' batches at once, the second of each one's versions holding the words
    of the other's first: when each version's words were inserted as it was written, each
    transaction waited for the other's words (PostgreSQL: "deadlock detected"). Words now
    go in one sorted statement at commit, so one waits for the other and both commit."""
    from provarchive.catalog.postgres_search import PostgresEngine
    from tests.test_search_engines import entry

    engines = [PostgresEngine(pg_catalog_url), PostgresEngine(pg_catalog_url)]
    engines[0].create()
    texts = [("apple zebra", "banana"), ("banana", "apple")]
    both_wrote = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def write(k: int) -> None:
        try:
            with engines[k].writing() as w:
                for j, words in enumerate(texts[k]):
                    w.replace_version(f"w{k}-{j}.txt", 1, [entry(f"w{k}-{j}.txt", 1, 1, words)])
                    if j == 0:
                        both_wrote.wait()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        from provarchive.search.engine import SearchQuery

        for word, docs in (("banana", 2), ("apple", 2), ("zebr*", 1)):
            assert engines[0].search(SearchQuery(word)).total == docs, word
    finally:
        for engine in engines:
            engine.close()
