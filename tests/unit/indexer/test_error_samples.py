"""Every report keeps the same bounded sample of failures while counting all of them."""

from __future__ import annotations

from indexer.backends.base import WriteReport
from indexer.error_samples import MAX_SAMPLES, keep_samples
from indexer.importers.report import ImportReport
from indexer.pipeline import IndexReport
from indexer.sources.iiif import IIIFReport


def test_reports_count_every_failure_and_keep_a_bounded_sample() -> None:
    write, imported, harvested = WriteReport(), ImportReport("csv"), IIIFReport()
    for n in range(MAX_SAMPLES + 5):
        write.fail(f"d:{n}", "refused")
        imported.record_broken(f"line {n}", "no id")
        harvested.fail(f"https://example.org/{n}", "not JSON")
    assert (write.failed, imported.broken, harvested.failed) == (MAX_SAMPLES + 5,) * 3
    assert write.errors[0] == "d:0: refused" and len(write.errors) == MAX_SAMPLES
    assert len(imported.errors) == len(harvested.errors) == MAX_SAMPLES


def test_merged_index_reports_stay_within_the_cap() -> None:
    total, batch = IndexReport(), IndexReport()
    keep_samples(batch.write_failure_samples, (f"d:{n}: refused" for n in range(15)))
    total.add(batch)
    total.add(batch)
    assert total.write_failure_samples == [f"d:{n}: refused" for n in range(15)] + [
        f"d:{n}: refused" for n in range(5)
    ]
