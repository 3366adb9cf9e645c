"""The distributed pipeline: the Celery app bound to Flask, queues and routes, and tasks that run
the indexer's stages (harvest → embed → index) by job and batch id, or in-process without a
broker."""
