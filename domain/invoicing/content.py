"""What every invoice must say (§14 (4) UStG, Art. 226 VAT Directive), checked before it is issued.

Each missing item is an error naming the field: the supplier's and the recipient's full name and
address, the supplier's tax number or VAT ID, the kind and quantity of each line, the date or
period of supply, and for reverse charge or an intra-community supply the recipient's VAT ID too.
A small-amount invoice (§33 UStDV, up to 250 € gross) to a consumer needs only the supplier, the
date, kind and quantity, and the gross with the tax rate: the recipient may be left out. Pure."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.invoicing.tax import needs_both_vat_ids

SMALL_AMOUNT = Decimal("250.00")  # §33 UStDV, gross


def small_amount_invoice(gross_total: Decimal, buyer: dict[str, Any]) -> bool:
    return bool(buyer.get("consumer")) and gross_total <= SMALL_AMOUNT


def missing_content(seller: dict[str, Any], buyer: dict[str, Any], lines: list[Any], categories: set[str],
                    gross_total: Decimal) -> list[dict[str, str]]:
    errors = []
    for field in ("name", "street", "postal_code", "city", "country"):
        if not seller.get(field):
            errors.append({"field": f"seller.{field}", "message": "the supplier's full name and address (company "
                                                                  "settings) must be on every invoice"})
    if not (seller.get("vat_id") or seller.get("tax_number")):
        errors.append({"field": "seller.vat_id", "message": "the supplier's tax number or VAT ID must be on "
                                                            "every invoice (company settings)"})
    if not small_amount_invoice(gross_total, buyer):
        for field in ("name", "street", "postal_code", "city", "country"):
            if not buyer.get(field):
                errors.append({"field": f"buyer.{field}", "message": "the recipient's full name and address must "
                                                                     "be on the invoice: give the customer a "
                                                                     "billing or main address"})
    if any(needs_both_vat_ids(category) for category in categories):
        if not buyer.get("vat_id"):
            errors.append({"field": "buyer.vat_id", "message": "reverse charge and intra-community supplies name "
                                                               "the recipient's VAT ID"})
        if not seller.get("vat_id"):
            errors.append({"field": "seller.vat_id", "message": "reverse charge and intra-community supplies name "
                                                                "the supplier's VAT ID"})
    if not lines:
        errors.append({"field": "lines", "message": "an invoice has at least one line"})
    for index, line in enumerate(lines):
        if not line.name or line.quantity is None or not line.unit:
            errors.append({"field": f"lines.{index}", "message": "each line names the kind and quantity supplied"})
    return errors
