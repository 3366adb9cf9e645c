"""Harvesters that turn upstream collections (Library of Congress, IIIF) into MapRecords."""
