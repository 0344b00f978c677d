"""The API's settings: where `kontor serve` listens, how long a login token lives, which reverse
proxies are believed, the largest request bodies and how long Idempotency-Key answers are kept."""
from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from kernel.settings import SettingsSection, separated


class ApiSettings(SettingsSection):
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    token_ttl_minutes: int = 12 * 60
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks, comma-separated).
    # Without them the client address is the connection's, whatever the request claims.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="addresses or networks of trusted reverse proxies, comma-separated")

    # Documents attached to records: stored under data_dir/documents, at most this large (also the
    # body limit of the upload routes, see api/body_limit.py).
    document_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Request bodies: the most bytes any other request may carry (413 beyond).
    request_max_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Idempotency-Key: an answer is replayed for this many hours after its request, then forgotten;
    # a running request renews its key's lease every third of idempotency_lease_seconds, so a key
    # whose request died (its process killed, its database gone) is free again within that time.
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)
    idempotency_lease_seconds: int = Field(default=30, ge=1, le=3600)

    _split_proxy_list = separated(",", "trusted_proxies")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]):
        return [str(ipaddress.ip_network(p, strict=False)) for p in value]  # ValueError names the bad one
