"""Query composition shared by every backend: query vectors, fusion, paging, the search service."""
