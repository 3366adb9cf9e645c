"""The one error table: the API, the HTML pages and the command line answer a typed error with
the same status and title (a model mismatch is 409 everywhere; it was 503 on HTML pages)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from indexer.backends.base import BackendError, IndexNotWritable, ModelMismatchError
from indexer.images.errors import ImageTooLarge, NotAnImage
from tests.support.indexed_app import ColourEmbedder, indexed_app
from webapi.errors import ERROR_TABLE, error_kind, status_of
from webapi.search.errors import InvalidSearch, SearchError
from webapi.services import services_of


class OtherModel(ColourEmbedder):
    model_id = "another-model-v2"


def test_the_table_orders_subclasses_before_their_bases() -> None:
    classes = [cls for cls, _ in ERROR_TABLE]
    for position, cls in enumerate(classes):
        for earlier in classes[:position]:
            assert not issubclass(cls, earlier) or cls is earlier, (cls, earlier)
    assert status_of(IndexNotWritable("disk full")) == 503
    assert error_kind(IndexNotWritable("x")) != error_kind(BackendError("x"))
    assert status_of(InvalidSearch("x")) == 400 and status_of(SearchError("x")) == 400
    assert status_of(ImageTooLarge("x")) == 413 and status_of(NotAnImage("x")) == 415
    assert status_of(ValueError("not ours")) == 500


def test_model_mismatch_is_409_in_the_api_the_pages_and_the_cli(tmp_path: Path) -> None:
    with indexed_app(tmp_path / "data") as app:
        services_of(app).use_embedder(OtherModel)
        client = app.test_client()
        api = client.get("/api/search?q=london")
        page = client.get("/?q=london")
        assert api.status_code == page.status_code == 409
        assert api.json["title"] == "Model mismatch" and "Model mismatch" in page.get_data(
            as_text=True
        )
        from webapi.cli.common import friendly_errors

        @friendly_errors
        def failing() -> None:
            raise ModelMismatchError("the index was built with model 'a'")

        import click

        @click.command()
        def command() -> None:
            failing()

        result = CliRunner().invoke(command)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert result.output.strip() == "Error: Model mismatch: the index was built with model 'a'"
