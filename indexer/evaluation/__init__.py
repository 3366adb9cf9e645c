"""Search-quality evaluation: gold query sets (JSONL), ranking metrics, runs through the real
search service, reports and model/config comparisons."""
