"""The synthetic map world: procedurally drawn maps whose attributes are ground truth, with
catalogue metadata that correlates with them partly, as real catalogues do.

Public API: ``generate_world``, ``synthetic_map``, ``SyntheticMap``, ``write_demo_collection``,
``read_ground_truth``, ``read_ground_truth_boxes``; attribute values and their words live in
``indexer.synthetic.vocabulary``.
"""

from indexer.synthetic.world import (
    GROUND_TRUTH_FILE,
    LARGE_RENDER_VERSION,
    RENDER_VERSION,
    SyntheticMap,
    generate_world,
    read_ground_truth,
    read_ground_truth_boxes,
    synthetic_map,
    write_demo_collection,
)

__all__ = [
    "GROUND_TRUTH_FILE",
    "LARGE_RENDER_VERSION",
    "RENDER_VERSION",
    "SyntheticMap",
    "generate_world",
    "read_ground_truth",
    "read_ground_truth_boxes",
    "synthetic_map",
    "write_demo_collection",
]
