"""Embedded-backend specifics: durability, readers seeing other processes' writes, incremental
reloads, per-document failures and the FTS query builder."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from indexer.backends.base import BackendQuery, Filters
from indexer.backends.embedded import EmbeddedBackend, fts_match_expression
from indexer.backends.embedded_schema import SCHEMA_VERSION
from indexer.records import IndexDocument, MapRecord, MapWord, Place
from indexer.settings import Settings
from tests.support.paths import REPO


def doc(
    doc_id: str, title: str, vector: list[float] | None = None, **fields: object
) -> IndexDocument:
    array = None if vector is None else np.array(vector, np.float32) / np.linalg.norm(vector)
    return IndexDocument(
        record=MapRecord(id=doc_id, source="t", title=title, **fields),
        vector=array,
        model_id="m" if vector else None,
    )  # type: ignore[arg-type]


def test_index_survives_reopen(settings: Settings) -> None:
    backend = EmbeddedBackend.open(settings)
    backend.write([doc("t:1", "Harbour chart", [1, 0]), doc("t:2", "Town plan", [0, 1])])
    backend.close()
    reopened = EmbeddedBackend.open(settings)
    result = reopened.search(BackendQuery(text="harbour", vector=np.array([0, 1], np.float32)))
    assert [h.id for h in result.keyword] == ["t:1"] and [h.id for h in result.semantic] == [
        "t:2",
        "t:1",
    ]
    assert reopened.info().documents == 2


def test_reader_sees_writes_of_another_process(settings: Settings) -> None:
    reader = EmbeddedBackend.open(settings)
    reader.write([doc("t:1", "Harbour chart", [1, 0])])
    assert reader.search(BackendQuery(text="island")).total == 0
    writer = textwrap.dedent(
        f"""
        import numpy as np
        from pathlib import Path
        from indexer.backends.embedded import EmbeddedBackend
        from indexer.records import IndexDocument, MapRecord
        backend = EmbeddedBackend(Path({str(settings.embedded_path)!r}))
        record = MapRecord(id="t:2", source="t", title="Island survey")
        vector = np.array([0, 1], np.float32)
        backend.write([IndexDocument(record=record, vector=vector, model_id="m")])
        backend.delete(["t:1"])
        """
    )
    subprocess.run([sys.executable, "-c", writer], check=True, cwd=REPO, timeout=120)
    result = reader.search(
        BackendQuery(text="island", vector=np.array([1, 0], np.float32))
    )  # no refresh()
    assert [h.id for h in result.keyword] == ["t:2"]
    assert [h.id for h in result.semantic] == ["t:2"]  # t:1 deleted elsewhere


def test_updates_replace_facet_values_and_vectors(settings: Settings) -> None:
    backend = EmbeddedBackend.open(settings)
    backend.write(
        [
            doc("t:1", "A", [1, 0], places=[Place(name="Oslo")]),
            doc("t:2", "B", [1, 0], places=[Place(name="Oslo")]),
        ]
    )
    assert backend.search(BackendQuery(facets=("place",))).facets["place"] == [("Oslo", 2)]
    backend.write(
        [doc("t:1", "A", [0, 1], places=[Place(name="Bergen"), Place(name="Bergen")])]
    )  # duplicate place counts once
    result = backend.search(
        BackendQuery(
            vector=np.array([0, 1], np.float32),
            facets=("place",),
            filters=Filters(terms={"place": ("Bergen",)}),
        )
    )
    assert result.facets["place"] == [("Bergen", 1)]
    assert [(h.id, round(h.score, 5)) for h in result.semantic] == [("t:1", 1.0)]
    backend.write([doc("t:1", "A", None)])  # the vector goes away too
    assert backend.info().with_vectors == 1


def test_bad_documents_fail_alone(settings: Settings) -> None:
    backend = EmbeddedBackend.open(settings)
    report = backend.write(
        [
            doc("t:1", "Fine", [1, 0]),
            doc("t:2", "Broken", [np.nan, 1]),
            IndexDocument(
                record=MapRecord(id="t:3", source="t"), vector=np.ones(2, np.float32), model_id=None
            ),
        ]
    )
    assert (report.written, report.failed) == (1, 2)
    assert any(e.startswith("t:2:") for e in report.errors) and any(
        "model_id" in e for e in report.errors
    )


def test_duplicate_ids_in_one_batch_last_wins(settings: Settings) -> None:
    backend = EmbeddedBackend.open(settings)
    backend.write([doc("t:1", "First", [1, 0]), doc("t:1", "Second", [1, 0])])
    assert backend.fetch(["t:1"])["t:1"].record.title == "Second"
    assert backend.search(BackendQuery(text="first")).total == 0
    assert backend.info().documents == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('sea "monsters', '"sea" "monster"'),  # analysed terms (indexer.analysis)
        ("NEAR(a b) OR c*", '"near" "b" "c"'),
        ("-", None),
        ("the map", '"the" "map"'),  # only stopwords: keep them rather than search nothing
        ("Carte de l'Amérique", '"carte" "de" "l" "amerique"'),
    ],
)
def test_fts_expression_is_built_from_tokens(text: str, expected: str | None) -> None:
    assert fts_match_expression(text) == expected


def test_an_index_of_another_layout_is_refused_clearly(settings: Settings) -> None:
    import sqlite3

    from indexer.backends.base import BackendError

    settings.embedded_path.parent.mkdir(parents=True)
    old = sqlite3.connect(settings.embedded_path)
    old.executescript(
        "CREATE TABLE docs (docno INTEGER PRIMARY KEY); CREATE TABLE meta (key TEXT PRIMARY KEY, "
        "value TEXT);"
        "INSERT INTO meta VALUES ('schema_version', '1');"
    )
    old.commit()
    old.close()
    with pytest.raises(BackendError, match="layout version 1"):
        EmbeddedBackend.open(settings)


@pytest.mark.parametrize("num_candidates", [1, 2, 5, 100])
def test_keyword_top_k_is_exact_under_filters_and_ties(
    settings: Settings, num_candidates: int
) -> None:
    backend = EmbeddedBackend.open(settings)
    # 60 matches; many share a score (same title length), only every third passes the filter
    docs = [
        doc(f"t:{n:03d}", "harbor " + "x " * (n % 4), None, year_start=1800 + n) for n in range(60)
    ]
    backend.write(docs)
    filters = Filters(ids=tuple(f"t:{n:03d}" for n in range(0, 60, 3)))
    result = backend.search(
        BackendQuery(text="harbor", filters=filters, num_candidates=num_candidates)
    )
    full = backend._conn.execute(
        "SELECT rowid, -bm25(fts, 4.0, 2.0, 1.0, 1.0) FROM fts WHERE fts MATCH 'harbor'"
    ).fetchall()
    id_of = dict(backend._conn.execute("SELECT docno, id FROM docs").fetchall())
    expected = sorted(
        ((-score, id_of[rowid]) for rowid, score in full if id_of[rowid] in filters.ids)
    )
    assert [h.id for h in result.keyword] == [doc_id for _, doc_id in expected][:num_candidates]
    assert result.total == 20


def test_facets_of_a_small_result_match_a_plain_count(settings: Settings) -> None:
    rng = np.random.default_rng(1)
    names = ["Oslo", "Bergen", "Paris", "Lyon", "Rome"]
    docs = [
        doc(
            f"t:{n:03d}",
            f"Map {n}",
            list(rng.standard_normal(4)),
            places=[
                Place(name=str(p))
                for p in rng.choice(names, size=int(rng.integers(0, 3)), replace=False)
            ],
        )
        for n in range(200)
    ]
    backend = EmbeddedBackend.open(settings)
    backend.write(docs)
    query = np.array([1, 0, 0, 0], np.float32)
    for _round in range(2):  # the second round after an update, which must refresh the lookup
        result = backend.search(BackendQuery(vector=query, num_candidates=3, facets=("place",)))
        top = {h.id for h in result.semantic}
        expected: dict[str, int] = {}
        for d in backend.fetch(sorted(top)).values():
            for name in d.record.place_names:
                expected[name] = expected.get(name, 0) + 1
        assert dict(result.facets["place"]) == expected and result.total == 3
        first = sorted(top)[0]
        backend.write([doc(first, "Moved", [1, 0, 0, 0], places=[Place(name="Tromsø")])])


def test_a_layout_3_file_gets_its_keyword_index_rebuilt_on_open(settings: Settings) -> None:
    """Layout 3 (FTS5 porter over raw text) differs from 4 only in the FTS table: opening the
    file rebuilds it from the stored records, so nothing needs importing again."""
    backend = EmbeddedBackend.open(settings)
    backend.write([doc("t:1", "Sea monsters of the Académie", [1, 0]), doc("t:2", "Plain", [0, 1])])
    backend.delete(["t:2"])
    path = backend.path
    backend.close()
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        DROP TABLE fts;
        CREATE VIRTUAL TABLE fts USING fts5(title, subjects_places, body, contributors,
            content='', tokenize='porter unicode61 remove_diacritics 2');
        UPDATE meta SET value = '3' WHERE key = 'schema_version';
        """
    )
    conn.close()
    reopened = EmbeddedBackend.open(settings)
    assert reopened.search(BackendQuery(text="academie monster")).total == 1
    assert reopened.search(BackendQuery(text="plain")).total == 0  # deleted stays deleted
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    conn.close()
    reopened.close()


def test_a_layout_4_file_gets_its_map_text_column_on_open(settings: Settings) -> None:
    """Layout 4 lacks the map-text column: opening the file rebuilds the FTS table from the
    stored records, so words read from the maps become searchable without importing again."""
    backend = EmbeddedBackend.open(settings)
    chart = doc("t:1", "Chart", [1, 0])
    chart.record.map_text = [MapWord(text="Chesapeake", box=(1, 2, 3, 4), score=0.9)]
    backend.write([chart, doc("t:2", "Plain", [0, 1])])
    path = backend.path
    backend.close()
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        DROP TABLE fts;
        CREATE VIRTUAL TABLE fts USING fts5(title, subjects_places, body, contributors,
            content='', tokenize='unicode61 remove_diacritics 0');
        UPDATE meta SET value = '4' WHERE key = 'schema_version';
        """
    )
    conn.close()
    reopened = EmbeddedBackend.open(settings)
    assert [h.id for h in reopened.search(BackendQuery(text="chesapeak")).keyword] == ["t:1"]
    assert reopened.search(BackendQuery(text="chart")).total == 1
    reopened.close()


def test_a_layout_6_file_gets_its_map_text_vocabulary_on_open(settings: Settings) -> None:
    """Layout 6 has no ``map_terms`` table: opening the file fills it from the FTS vocabulary, so
    a map word is still found within one edit without importing again."""
    backend = EmbeddedBackend.open(settings)
    chart = doc("t:1", "Chart", [1, 0])
    chart.record.map_text = [MapWord(text="Chesapeake", box=(1, 2, 3, 4), score=0.9)]
    backend.write([chart, doc("t:2", "Chesapeake Bay", [0, 1])])
    path = backend.path
    backend.close()
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE map_terms; UPDATE meta SET value = '6' WHERE key = 'schema_version';"
    )
    conn.close()
    reopened = EmbeddedBackend.open(settings)
    # the catalogue word needs the exact spelling; the map word is found one edit away
    assert [h.id for h in reopened.search(BackendQuery(text="chesapeak")).keyword] == ["t:1"]
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT term FROM map_terms").fetchall() == [("chesapeake",)]
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    conn.close()
    reopened.close()


def test_a_map_word_gone_from_every_map_matches_nothing(settings: Settings) -> None:
    """The map-text vocabulary keeps a word after its map is deleted or re-read; the variant it
    lets into the query then matches nothing (and a new map with the word is found again)."""
    backend = EmbeddedBackend.open(settings)
    chart = doc("t:1", "Chart", [1, 0])
    chart.record.map_text = [MapWord(text="Chesapeake", box=(1, 2, 3, 4), score=0.9)]
    plain = doc("t:2", "Plan", [0, 1])
    backend.write([chart, plain])
    assert backend.search(BackendQuery(text="chesapeak")).total == 1
    backend.delete(["t:1"])
    assert backend.search(BackendQuery(text="chesapeak")).total == 0
    plain.record.map_text = [MapWord(text="Chesapeake", box=(1, 2, 3, 4), score=0.8)]
    plain.record.revision = 2
    backend.write([plain])
    assert [h.id for h in backend.search(BackendQuery(text="chesapeak")).keyword] == ["t:2"]
    backend.close()
