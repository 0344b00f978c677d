"""What the catalog registers at start-up: products take documents (data sheets, pictures)."""
from __future__ import annotations

from domain.catalog.models import Product


def register(kontor) -> None:
    kontor.document_owners.register("product", Product)
