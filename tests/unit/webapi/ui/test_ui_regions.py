"""Where a hit's best region is drawn on its card, and which region boxes an item page accepts."""

from __future__ import annotations

import pytest

from webapi.search.params import Hit, HitRegion
from webapi.ui.regions import card_region, region_args, shown_regions


def hit(width: int | None, height: int | None, boxes: list[list[int]]) -> Hit:
    regions = [HitRegion(box=box, score=0.5 - i / 10, level=4) for i, box in enumerate(boxes)]
    return Hit(
        id="t:1", item_id="t:1", title="t", score=0.5, image_width=width, image_height=height,
        regions=regions,
    )  # fmt: skip


def test_the_region_is_placed_on_the_letterboxed_thumbnail() -> None:
    wide = card_region(hit(4000, 2000, [[1000, 500, 400, 400]]))
    # the sheet fills the square's width and half its height, centred: offset 25% from the top
    assert wide == {
        "left": "25.00", "top": "37.50", "width": "10.00", "height": "10.00", "score": "0.500"
    }  # fmt: skip
    tall = card_region(hit(1000, 2000, [[0, 0, 1000, 1000]]))
    assert tall is not None and (tall["left"], tall["top"], tall["width"]) == (
        "25.00",
        "0.00",
        "50.00",
    )


@pytest.mark.parametrize("case", [(None, 10, [[0, 0, 1, 1]]), (10, 10, [])])
def test_no_outline_without_a_region_or_a_size(case: tuple) -> None:
    assert card_region(hit(*case)) is None


def test_the_item_link_carries_the_best_three_regions() -> None:
    boxes = [[i, i, 10, 10] for i in range(5)]
    assert region_args(hit(100, 100, boxes)) == ["0,0,10,10", "1,1,10,10", "2,2,10,10"]


def test_an_item_page_keeps_only_valid_boxes_inside_the_image() -> None:
    values = ["0,0,10,10", "a,b,c,d", "95,0,10,10", "5,5,0,3", "1,2,3,4"]
    assert shown_regions(values, (100, 100)) == [[0, 0, 10, 10]]
    assert shown_regions(["1,2,3,4", "90,90,20,20"], (None, None)) == [
        [1, 2, 3, 4],
        [90, 90, 20, 20],
    ]
