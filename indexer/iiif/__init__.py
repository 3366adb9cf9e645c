"""IIIF reading shared by image loading and the sources: Image API URLs and Presentation
manifests."""
