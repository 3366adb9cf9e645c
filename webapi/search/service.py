"""The search service: turns ``SearchParams`` into a query vector and a backend query, fuses the
ranked lists, collapses, sorts and pages them, and builds the response. Backend-independent."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Literal

import numpy as np
from PIL import Image

from indexer.analysis import keyword_terms
from indexer.backends.base import (
    BackendQuery,
    BackendResult,
    Filters,
    FoundInFilter,
    ListHit,
    ModelMismatchError,
    SearchBackend,
)
from indexer.backends.region_matches import with_regions
from indexer.calibration import calibration_for
from indexer.embedder import Embedder
from indexer.map_text_match import found_in, matched_map_words
from indexer.records import IndexDocument, MapRecord
from indexer.regions.crop import crop_box
from indexer.regions.tiles import iiif_region_url
from indexer.settings import Settings
from webapi.search.errors import (
    EmbedderUnavailable,
    InvalidSearch,
    NotFound,
    PageOutOfWindow,
)
from webapi.search.fusion import FusedHit, fuse_linear, fuse_rrf
from webapi.search.params import (
    FacetValue,
    Hit,
    HitExplain,
    HitRegion,
    ListExplain,
    MapWordHit,
    RegionExplain,
    SearchParams,
    SearchResponse,
    YearSuggestion,
)
from webapi.search.query_vector import compose_query_vector
from webapi.search.query_years import split_years
from webapi.search.totals import TotalKind, Totals, last_page, window_notice

# The HTTP layer resolves ``image_url`` / ``image_token`` (fetching, upload store) into an image.
ImageResolver = Callable[[Literal["url", "token"], str], Image.Image]

# Said when a ranked search asks for look-alike ranking but the index holds no image vectors.
NO_IMAGE_VECTORS = {
    "keyword": "This collection has no image vectors yet, so these results match your words "
    "only; nothing is ranked by what the maps look like.",
    "nothing": "This collection has no image vectors yet, so a semantic search finds nothing. "
    "Search by words (keyword or hybrid), or ask staff to fetch and embed the images.",
}

THUMBNAIL_SIZE = 400
# A modifier without a weight, for a model never steering-calibrated: as strong as the query.
DEFAULT_MODIFIER_WEIGHT = 1.0
REGION_VIEW_SIZE = 800  # a hit region's IIIF URL: the box scaled to fit this square
LOCAL_IMAGES_PREFIX = "images/"  # relative image paths under data_dir/images (the demo collection)


def filters_of(params: SearchParams) -> Filters:
    """The backend filters a request asks for."""
    return Filters(
        year_from=params.year_from,
        year_to=params.year_to,
        terms=params.term_filters,
        bbox=params.bbox_tuple,
        has_image=params.has_image,
    )


def thumbnail_of(record: MapRecord) -> str | None:
    """The record's thumbnail, else a bounded IIIF rendition, else its direct image URL."""
    if record.thumbnail_url:
        return record.thumbnail_url
    if record.image and record.image.iiif_service:
        size = f"!{THUMBNAIL_SIZE},{THUMBNAIL_SIZE}"
        return f"{record.image.iiif_service.rstrip('/')}/full/{size}/0/default.jpg"
    if record.image and record.image.url and record.image.url.startswith(("http://", "https://")):
        return record.image.url
    if record.image and record.image.url and record.image.url.startswith(LOCAL_IMAGES_PREFIX):
        return (
            "/" + record.image.url
        )  # served by the app from data_dir/images (webapi/api/images.py)
    return None


def hit_regions(record: MapRecord, semantic: ListHit | None) -> list[HitRegion]:
    """A semantic hit's best regions, with their IIIF region URLs where the map has a service."""
    if semantic is None:
        return []
    service = record.image.iiif_service if record.image else None
    return [
        HitRegion(
            box=list(match.box),
            score=match.score,
            level=match.level,
            iiif_region_url=iiif_region_url(service, match.box, REGION_VIEW_SIZE)
            if service
            else None,
        )
        for match in semantic.regions
    ]


def region_explain(semantic: ListHit | None, combine: str) -> RegionExplain | None:
    """Whether the whole map or a region made a semantic hit's score (None without regions)."""
    if semantic is None or semantic.whole_score is None or semantic.region_score is None:
        return None
    region_won = semantic.region_score > semantic.whole_score
    return RegionExplain(
        won="region" if region_won else "whole",
        combine="blend" if combine == "blend" else "max",
        whole_score=semantic.whole_score,
        region_score=semantic.region_score,
        region_rank=semantic.region_rank,
        region_box=list(semantic.regions[0].box) if semantic.regions else None,
    )


def hit_of(
    record: MapRecord,
    score: float,
    explain: HitExplain | None = None,
    regions: list[HitRegion] | None = None,
) -> Hit:
    """The API's view of one record."""
    return Hit(
        id=record.id,
        item_id=record.item_id or record.id,
        title=record.title,
        date=record.date,
        year_start=record.year_start,
        year_end=record.year_end,
        places=record.place_names,
        subjects=record.subjects,
        thumbnail_url=thumbnail_of(record),
        manifest_url=record.image.manifest_url if record.image else None,
        source_url=record.source_url,
        image_width=record.image.width if record.image else None,
        image_height=record.image.height if record.image else None,
        score=score,
        regions=regions or [],
        explain=explain,
    )


def collapse_by_item(hits: list[FusedHit]) -> list[FusedHit]:
    """Keep the best-ranked hit of each item (``hits`` is in rank order)."""
    seen: set[str] = set()
    kept = []
    for hit in hits:
        if hit.item_id not in seen:
            seen.add(hit.item_id)
            kept.append(hit)
    return kept


def sort_window(hits: list[FusedHit], sort: str) -> list[FusedHit]:
    """Re-order the fused window by year (undated last)
    or title; ties by id. ``relevance`` keeps it."""
    if sort == "title":
        return sorted(hits, key=lambda h: (h.title.casefold(), h.id))
    if sort in ("year", "-year"):
        sign = 1 if sort == "year" else -1
        return sorted(hits, key=lambda h: (h.year_start is None, sign * (h.year_start or 0), h.id))
    return hits


class SearchService:
    """Every search the API, CLI and UI run goes through here (see DESIGN.md "Query semantics").

    Sorting a ranked search (text or image) re-orders the fused candidate window, i.e. the best
    ``num_candidates`` by relevance, while ``total`` and facets still count the whole result set;
    a browse (neither text nor image) sorts every matching document. Collapse keeps the best
    sheet per item before paging; ``total`` still counts sheets.
    """

    def __init__(
        self,
        settings: Settings,
        backend: SearchBackend,
        embedder: Embedder | None = None,
        image_resolver: ImageResolver | None = None,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self._embedder = embedder
        self.image_resolver = image_resolver

    # ---- the model -----------------------------------------------------------------------

    def embedder(self) -> Embedder:
        """The query model (it loads itself on first use), checked against the index's model."""
        if self._embedder is None:
            raise EmbedderUnavailable(
                "semantic search needs a model; this server has none configured (MAPSEARCH_MODEL)"
            )
        index_model = self.backend.model_id()
        if index_model is not None and self._embedder.model_id != index_model:
            raise ModelMismatchError(
                f"the index was built with model {index_model!r} but queries use "
                f"{self._embedder.model_id!r}; "
                "set MAPSEARCH_MODEL to the index's model or reindex"
            )
        return self._embedder

    # ---- search --------------------------------------------------------------------------

    def search(self, params: SearchParams, image: Image.Image | None = None) -> SearchResponse:
        """Answer one search request (``image`` = an uploaded example image, if any)."""
        return self._search(params, image, exclude_id=None)

    def similar(
        self, doc_id: str, size: int = 20, page: int = 1, params: SearchParams | None = None
    ) -> SearchResponse:
        """Documents whose images look like this one's (itself excluded), with optional filters."""
        self.get_item(doc_id)
        base = params or SearchParams()
        similar_params = base.model_copy(
            update={
                "q": None,
                "image_id": doc_id,
                "image_url": None,
                "image_token": None,
                "mode": "semantic",
                "size": size,
                "page": page,
            }
        )
        return self._search(similar_params, None, exclude_id=doc_id)

    def get_item(self, doc_id: str) -> IndexDocument:
        """One indexed document, or NotFound."""
        found = self.backend.fetch([doc_id]).get(doc_id)
        if found is None:
            raise NotFound(f"no indexed map with id {doc_id!r}", parameter="id")
        return found

    def _search(
        self, params: SearchParams, image: Image.Image | None, exclude_id: str | None
    ) -> SearchResponse:
        started = time.perf_counter()
        text = params.q.strip() if params.q and params.q.strip() else None
        image_sources = [
            name
            for name, given in (
                ("image", image is not None),
                ("image_id", params.image_id),
                ("image_url", params.image_url),
                ("image_token", params.image_token),
            )
            if given
        ]
        if len(image_sources) > 1:
            raise InvalidSearch(
                f"give one example image, not {' and '.join(image_sources)}",
                parameter=image_sources[1],
            )
        has_image = bool(image_sources)
        if params.image_region and not has_image:
            raise InvalidSearch(
                "image_region is a box of the example image: give image_id or an upload too",
                parameter="image_region",
            )
        filters = filters_of(params)
        query_echo: dict[str, object] = {
            "q": text,
            "mode": params.mode,
            "fusion": params.fusion,
            "mix": params.mix,
            "modify": [m.spec(self.modifier_weight()) for m in params.modifiers],
            "image": image_sources[0] if has_image else None,
            "image_region": params.image_region,
            "regions": params.regions,
            "sort": params.sort,
            "collapse": params.collapse,
            "window": self.settings.num_candidates,
            "model": self.backend.model_id(),
        }
        if text is None and not has_image:
            self._check_found_in(params, None)
            if params.modify:
                raise InvalidSearch(
                    "modifiers adjust a text or image query: give q or an example image",
                    parameter="modify",
                )
            return self._browse(params, filters, query_echo, started)
        if params.mode == "keyword":
            if text is None:
                raise InvalidSearch(
                    "mode=keyword searches the words of q; give q or choose hybrid/semantic",
                    parameter="mode",
                )
            if has_image or params.modify:
                raise InvalidSearch(
                    "mode=keyword ignores images and modifiers; choose hybrid or semantic",
                    parameter="mode",
                )
        words, year_suggestion = self._words_and_years(params, text)
        query_echo["words"] = words  # what the lists search for (years taken out)
        # a hybrid text query over an index without vectors is a keyword query: no model needed
        words_only = params.mode == "hybrid" and not has_image and not params.modify
        if params.mode == "keyword" or (words_only and query_echo["model"] is None):
            vector = None
        else:
            vector = self._query_vector(params, words, image)
        keyword_text = words if params.mode in ("hybrid", "keyword") else None
        self._check_found_in(params, keyword_text)
        if params.found_in_values and keyword_text is not None:
            where = FoundInFilter(keyword_text, params.found_in_values)
            filters = dataclasses.replace(filters, found_in=where)
        bar, bar_source = self.similarity_bar(params, text, has_image)
        query_echo["min_similarity"] = bar if vector is not None else None
        query_echo["min_similarity_source"] = bar_source if vector is not None else None
        unbarred = bar is None or bar <= -1.0  # -1 admits every map: a ranking, not matches
        total_kind: TotalKind = "best_matches" if vector is not None and unbarred else "exact"
        query = BackendQuery(
            text=keyword_text,
            vector=vector,
            filters=filters,
            num_candidates=self.settings.num_candidates,
            min_similarity=bar,
            regions=params.regions,
            region_combine=self.settings.region_combine,
            region_weight=self.settings.region_weight,
            facets=tuple(params.facet),
            facet_size=params.facet_size,
        )
        result = self.backend.search(query)
        fused = self._fuse(params, result)
        if exclude_id is not None:
            fused = [hit for hit in fused if hit.id != exclude_id]
        window = fused[: self.settings.num_candidates]
        if params.collapse:
            window = collapse_by_item(window)
        window = sort_window(window, params.sort)
        offset = (params.page - 1) * params.size
        if offset >= self.settings.num_candidates:
            raise PageOutOfWindow(
                f"page {params.page} of size {params.size} starts past the "
                f"{self.settings.num_candidates} best results; "
                "narrow the query with filters, or browse without q and image",
                parameter="page",
            )
        one_list = (
            keyword_text is None or vector is None
        )  # then a hit's score is its list's own score
        hits = self._hits(
            window[offset : offset + params.size],
            params.explain,
            raw_scores=one_list,
            keyword_text=keyword_text,
            result=result,
        )
        total = result.total - (
            1 if exclude_id is not None and any(h.id == exclude_id for h in result.semantic) else 0
        )
        # cut: more maps match than the window holds, or the semantic list stopped at its k
        cut = total > len(window) or len(result.semantic) >= self.settings.num_candidates
        totals = Totals(total, total_kind, len(window), cut)
        response = self._response(params, totals, hits, result, query_echo, started)
        response.year_suggestion = year_suggestion
        if params.mode != "keyword" and query_echo["model"] is None:
            response.no_image_vectors = NO_IMAGE_VECTORS[
                "keyword" if keyword_text is not None else "nothing"
            ]
        return response

    @staticmethod
    def _check_found_in(params: SearchParams, keyword_text: str | None) -> None:
        """``found_in`` keeps keyword matches by where their words were found: without words
        matched by keyword (a browse, an image alone, semantic mode) it cannot keep anything."""
        if params.found_in_values and keyword_text is None:
            raise InvalidSearch(
                "found_in keeps the maps where the words of q were found: give q and search in "
                "keyword or hybrid mode",
                parameter="found_in",
            )

    @staticmethod
    def _words_and_years(
        params: SearchParams, text: str | None
    ) -> tuple[str | None, YearSuggestion | None]:
        """The words both lists search for, and the year filter ``q`` suggests: a year, decade or
        range is taken out of the words (a map's text rarely holds its year, and CLIP cannot read
        dates) unless it is all there is. No suggestion when the request filters by year."""
        if text is None:
            return None, None
        words, years = split_years(text)
        if years is None:
            return text, None
        kept = words if keyword_terms(words) else text
        if params.year_from is not None or params.year_to is not None:
            return kept, None
        return kept, YearSuggestion(
            year_from=years.year_from, year_to=years.year_to, text=years.text
        )

    def similarity_bar(
        self, params: SearchParams, text: str | None, has_image: bool
    ) -> tuple[float | None, str | None]:
        """The cosine a semantic match must reach to count, and whose it is (docs/search.md).

        The request's ``min_similarity`` wins; a text query (no example image) then takes
        ``MAPSEARCH_MIN_SIMILARITY``, else the index model's calibration. An example image has
        no calibrated bar (image-to-image cosines run higher): it ranks every map."""
        if params.min_similarity is not None:
            return params.min_similarity, "request"
        if has_image or text is None:
            return None, None
        if self.settings.min_similarity is not None:
            return self.settings.min_similarity, "settings"
        model_id = self.backend.model_id()
        calibration = calibration_for(model_id, self.settings.model) if model_id else None
        if calibration is not None:
            return calibration.min_similarity, "model"
        return None, None

    def modifier_weight(self) -> float:
        """The weight of a modifier given without one: the index model's calibrated default
        (``mapsearch calibrate-steering``), else ``DEFAULT_MODIFIER_WEIGHT``."""
        model_id = self.backend.model_id()
        calibration = calibration_for(model_id, self.settings.model) if model_id else None
        if calibration is not None and calibration.modifier_weight is not None:
            return calibration.modifier_weight
        return DEFAULT_MODIFIER_WEIGHT

    def _query_vector(
        self, params: SearchParams, text: str | None, image: Image.Image | None
    ) -> np.ndarray:
        image_vector = None
        box = params.image_box
        if params.image_id and box is not None:
            image_vector = self.embedder().embed_images([self._indexed_crop(params.image_id, box)])[
                0
            ]
        elif params.image_id:
            image_vector = self.backend.get_vector(params.image_id)
            if image_vector is None:
                exists = bool(self.backend.fetch([params.image_id]))
                reason = "has no image vector" if exists else "is not in the index"
                raise InvalidSearch(f"image_id {params.image_id!r} {reason}", parameter="image_id")
        elif params.image_url or params.image_token or image is not None:
            if image is None:
                if self.image_resolver is None:
                    raise InvalidSearch(
                        "this server cannot fetch example images", parameter="image_url"
                    )
                kind: Literal["url", "token"] = "url" if params.image_url else "token"
                image = self.image_resolver(kind, str(params.image_url or params.image_token))
            if box is not None:
                try:
                    image = crop_box(image, box, image.size)
                except ValueError as exc:
                    raise InvalidSearch(str(exc), parameter="image_region") from exc
            image_vector = self.embedder().embed_images([image])[0]
        default = self.modifier_weight()
        needs_model = text is not None or bool(params.modify)
        model = self.embedder() if needs_model else None
        text_vector = (
            model.embed_query_text(text) if model is not None and text is not None else None
        )
        modifiers = (
            [
                (model.embed_query_text(m.text), m.weight if m.weight is not None else default)
                for m in params.modifiers
            ]
            if model is not None
            else []
        )
        try:
            return compose_query_vector(text_vector, image_vector, params.mix, modifiers)
        except ValueError as exc:
            raise InvalidSearch(str(exc), parameter="modify") from exc

    def _indexed_crop(self, doc_id: str, box: tuple[int, int, int, int]) -> Image.Image:
        """The pixels of ``box`` (full-resolution pixels) of an indexed map's image."""
        from indexer.images.errors import ImageError
        from indexer.regions.crop import load_box

        record = self.get_item(doc_id).record
        if record.image is None:
            raise InvalidSearch(f"image_id {doc_id!r} has no image", parameter="image_id")
        try:
            return load_box(record, box, self.settings)
        except ValueError as exc:
            raise InvalidSearch(str(exc), parameter="image_region") from exc
        except ImageError as exc:
            raise InvalidSearch(
                f"the image of {doc_id!r} could not be loaded: {exc}", parameter="image_id"
            ) from exc

    def _fuse(self, params: SearchParams, result: BackendResult) -> list[FusedHit]:
        if params.fusion == "linear":
            return fuse_linear(result.keyword, result.semantic, self.settings.linear_alpha)
        return fuse_rrf(result.keyword, result.semantic, self.settings.rrf_k)

    def _browse(
        self, params: SearchParams, filters: Filters, query_echo: dict[str, object], started: float
    ) -> SearchResponse:
        query = BackendQuery(
            filters=filters,
            facets=tuple(params.facet),
            facet_size=params.facet_size,
            browse_sort=params.sort,
            browse_offset=(params.page - 1) * params.size,
            browse_limit=params.size,
        )
        result = self.backend.search(query)
        query_echo = {**query_echo, "mode": "browse", "collapse": False}
        fused = [
            FusedHit(id=h.id, score=0.0, item_id=h.item_id, year_start=h.year_start, title=h.title)
            for h in result.browse
        ]
        hits = self._hits(fused, explain=False, raw_scores=False)
        totals = Totals(result.total, "exact", result.total, cut=False)
        return self._response(params, totals, hits, result, query_echo, started)

    def _hits(
        self,
        fused: list[FusedHit],
        explain: bool,
        raw_scores: bool,
        keyword_text: str | None = None,
        result: BackendResult | None = None,
    ) -> list[Hit]:
        documents = self.backend.fetch([hit.id for hit in fused])
        if result is not None:  # the shown semantic hits with their best regions
            semantic = [hit.semantic_hit for hit in fused if hit.semantic_hit is not None]
            boxed = {hit.id: hit for hit in with_regions(result, semantic, documents)}
            fused = [dataclasses.replace(hit, semantic_hit=boxed.get(hit.id)) for hit in fused]
        hits = []
        for hit in fused:
            doc = documents.get(hit.id)
            if doc is None:
                continue  # deleted between the search and this fetch
            score = hit.score
            if raw_scores:
                score = (
                    hit.semantic_score
                    if hit.semantic_score is not None
                    else (hit.keyword_score or 0.0)
                )
            why = None
            if explain:
                why = HitExplain(
                    keyword=ListExplain(rank=hit.keyword_rank, score=hit.keyword_score),
                    semantic=ListExplain(rank=hit.semantic_rank, score=hit.semantic_score),
                    fused=hit.score,
                    regions=region_explain(hit.semantic_hit, self.settings.region_combine),
                )
            regions = hit_regions(doc.record, hit.semantic_hit)
            shown = hit_of(doc.record, score, why, regions)
            if keyword_text is not None and hit.keyword_rank is not None:
                # only keyword matches can have matched words (an image-list hit has none)
                words = matched_map_words(doc.record, keyword_text)
                shown.found_in = found_in(doc.record, keyword_text, words)
                shown.map_text = [
                    MapWordHit(text=word.text, box=list(word.box), score=word.score)
                    for word in words
                ]
            hits.append(shown)
        return hits

    def _response(
        self,
        params: SearchParams,
        totals: Totals,
        hits: list[Hit],
        result: BackendResult,
        query_echo: dict[str, object],
        started: float,
    ) -> SearchResponse:
        facets = {
            name: [FacetValue(value=v, count=c) for v, c in buckets]
            for name, buckets in result.facets.items()
        }
        return SearchResponse(
            total=totals.total,
            total_kind=totals.kind,
            reachable=totals.reachable,
            last_page=last_page(totals.reachable, params.size),
            window_notice=window_notice(totals, params.page, params.size),
            page=params.page,
            size=params.size,
            hits=hits,
            facets=facets,
            query=query_echo,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )
