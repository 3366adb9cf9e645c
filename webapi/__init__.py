"""mapsearch read side and faces: query composition, the Flask app, JSON API, HTML UI, CLI."""
