"""The Redis client the job and stage stores share: it retries through a short outage (a
restart) with backoff instead of failing the task at the first refused connection."""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

# About 30 s of retries in total: longer than a restart, short enough to surface a dead Redis.
OUTAGE_RETRIES = 15


def redis_client(url: str, *, decode_responses: bool = False) -> Any:
    """A client for ``url`` that retries connection errors and timeouts."""
    return redis.Redis.from_url(
        url,
        decode_responses=decode_responses,
        retry=Retry(ExponentialBackoff(cap=3.0, base=0.1), OUTAGE_RETRIES),
        retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError],
        socket_connect_timeout=5,
        health_check_interval=30,
    )
