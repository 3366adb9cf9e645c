"""mapsearch write side: records, sources, images, the CLIP embedder and the index backends."""
