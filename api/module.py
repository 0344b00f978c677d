"""The API's own table: the stored answers of requests sent with an Idempotency-Key."""
from __future__ import annotations

from api import idempotency_store
from kernel.module import Module

MODULE = Module(name="api", models=(idempotency_store,))
