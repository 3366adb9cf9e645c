"""Token buckets that keep every worker of a harvest under a source's published limits: one
bucket per endpoint kind, several limits each ("20 per 10 s and 80 per minute"), and a shared
pause that any worker sets when the source says it is throttling. In Redis (atomic Lua, Redis's
own clock) when a URL is given, in process otherwise."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

_EPSILON = 1e-9


@dataclass(frozen=True)
class Limit:
    """At most ``requests`` in any window of ``seconds``."""

    requests: int
    seconds: float

    @property
    def rate_per_second(self) -> float:
        """Refill rate of a burst-1 bucket that can never exceed the limit in any window:
        one token at once plus (requests - 1) refills per window."""
        return max(self.requests - 1, 0.5) / self.seconds


class RateLimiter(Protocol):
    """What a harvester needs: take a token (waiting as long as needed) and pause everyone."""

    def acquire(self, kind: str) -> float:
        """Block until a request of ``kind`` may go; returns the seconds waited."""
        ...

    def pause(self, seconds: float) -> None:
        """Hold every request of every kind for ``seconds`` (a 429/403/503 was seen)."""
        ...


class LocalRateLimiter:
    """In-process buckets (threads of one process share it)."""

    def __init__(
        self,
        limits: Mapping[str, Sequence[Limit]],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, int], tuple[float, float]] = {}  # (kind, i) → (tokens, at)
        self._paused_until = 0.0

    def _try(self, kind: str) -> float:
        now = self._clock()
        if self._paused_until > now:
            return self._paused_until - now
        levels = []
        wait = 0.0
        for index, limit in enumerate(self.limits[kind]):
            tokens, at = self._tokens.get((kind, index), (1.0, now))
            tokens = min(1.0, tokens + (now - at) * limit.rate_per_second)
            levels.append(tokens)
            if tokens < 1.0 - _EPSILON:
                # At least a millisecond, so float rounding can never spin the loop.
                wait = max(wait, (1.0 - tokens) / limit.rate_per_second, 0.001)
        if wait > 0:
            return wait
        for index, tokens in enumerate(levels):
            self._tokens[(kind, index)] = (max(tokens - 1.0, 0.0), now)
        return 0.0

    def acquire(self, kind: str) -> float:
        """Block until a request of ``kind`` may go; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                wait = self._try(kind)
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` from now (never shortens a longer pause)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


# KEYS[1] = the bucket hash. ARGV = kind, n, then n pairs (rate per ms, capacity). Redis's clock
# is used so workers on different machines agree. Returns 0 (go) or the milliseconds to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
if paused > now then return paused - now end
local kind = ARGV[1]
local n = tonumber(ARGV[2])
local wait = 0
local levels = {}
for i = 1, n do
  local rate = tonumber(ARGV[1 + 2 * i])
  local cap = tonumber(ARGV[2 + 2 * i])
  local tokens = tonumber(redis.call('HGET', KEYS[1], kind .. ':tokens:' .. i) or cap)
  local at = tonumber(redis.call('HGET', KEYS[1], kind .. ':at:' .. i) or now)
  tokens = math.min(cap, tokens + (now - at) * rate)
  levels[i] = tokens
  if tokens < 1 then wait = math.max(wait, math.ceil((1 - tokens) / rate)) end
end
if wait > 0 then return wait end
for i = 1, n do
  redis.call('HSET', KEYS[1], kind .. ':tokens:' .. i, tostring(levels[i] - 1),
    kind .. ':at:' .. i, tostring(now))
end
redis.call('PEXPIRE', KEYS[1], 86400000)
return 0
"""

_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local paused = tonumber(redis.call('HGET', KEYS[1], 'paused_until') or '0')
if until_ms > paused then redis.call('HSET', KEYS[1], 'paused_until', tostring(until_ms)) end
redis.call('PEXPIRE', KEYS[1], 86400000)
return 0
"""


class RedisRateLimiter:
    """The same buckets in Redis, shared by every worker process that names the same key."""

    def __init__(
        self,
        client: Any,
        key: str,
        limits: Mapping[str, Sequence[Limit]],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.key = key
        self.limits = limits
        self._sleep = sleep
        self._acquire = client.register_script(_ACQUIRE)
        self._pause = client.register_script(_PAUSE)

    def acquire(self, kind: str) -> float:
        """Block until a request of ``kind`` may go; returns the seconds waited."""
        limits = self.limits[kind]
        args: list[Any] = [kind, len(limits)]
        for limit in limits:
            args += [repr(limit.rate_per_second / 1000.0), 1]
        waited = 0.0
        while True:
            wait_ms = int(self._acquire(keys=[self.key], args=args))
            if wait_ms <= 0:
                return waited
            self._sleep(wait_ms / 1000.0)
            waited += wait_ms / 1000.0

    def pause(self, seconds: float) -> None:
        """Hold every worker's requests for ``seconds`` (never shortens a longer pause)."""
        self._pause(keys=[self.key], args=[int(seconds * 1000)])
