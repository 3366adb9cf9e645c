"""SSRF guard: only http(s) URLs whose host resolves to public addresses (unless settings allow
private ones), optionally only allow-listed hosts; re-checked on the connected socket so a DNS
answer that changes between check and connect cannot reach a private address."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from indexer.images.errors import UnsafeURL
from indexer.settings import Settings

ALLOWED_SCHEMES = ("http", "https")


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (not loopback/private/link-local/reserved)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


def host_allowed(host: str, allowlist: list[str]) -> bool:
    """An empty allowlist allows every host; otherwise
    the host or a parent domain must be listed."""
    if not allowlist:
        return True
    host = host.lower().rstrip(".")
    return any(
        host == entry.lower().strip(".") or host.endswith("." + entry.lower().strip("."))
        for entry in allowlist
    )


def check_url(url: str, settings: Settings) -> str:
    """``url`` if it may be fetched, else UnsafeURL naming the reason."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"malformed URL: {exc}") from exc
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeURL(
            f"only http and https URLs are fetched, not {parts.scheme or 'a bare path'!r}"
        )
    host = parts.hostname
    if not host:
        raise UnsafeURL("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeURL("URLs with credentials are refused")
    if not host_allowed(host, settings.url_allowlist):
        raise UnsafeURL(f"host {host!r} is not in the URL allowlist")
    if settings.allow_private_urls:
        return url
    try:
        infos = socket.getaddrinfo(
            host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"host {host!r} does not resolve") from exc
    for info in infos:
        address = str(info[4][0])
        if not is_public_address(address):
            # The address stays out of the message: it would map the private network for a caller.
            raise UnsafeURL(f"host {host!r} resolves to a non-public address")
    return url


def _check_peer(sock: socket.socket) -> None:
    address = sock.getpeername()[0]
    if not is_public_address(address):
        sock.close()
        raise UnsafeURL("connection to a non-public address refused")


class _PublicHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _PublicHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock)
        return sock


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class PublicOnlyAdapter(HTTPAdapter):
    """A requests adapter whose sockets refuse non-public peers after connecting."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PublicHTTPPool,
            "https": _PublicHTTPSPool,
        }
