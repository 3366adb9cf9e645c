"""Helpers shared by the test suites: real services (skip or fail), a scripted HTTP server, the
Celery worker harness, Elasticsearch indices, the indexed test app, the conformance corpus."""
