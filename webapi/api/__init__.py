"""The JSON API: one module per resource (search, items, uploads, health) plus local images and the
problem+json error handling they share."""
