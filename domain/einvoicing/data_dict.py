"""An `EInvoice` as the dict of business terms that factur-x's generators read (keys "BT-1", "BG-4" …,
amounts as decimal text). Kept apart from the generation so that the one place that knows the
library's vocabulary is this file."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.einvoicing.model import Address, EInvoice, Flavour, InvoiceLine, Party
from domain.einvoicing.payment_terms import payment_terms_text

PEPPOL_BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"  # BT-23 of XRechnung


def amount(value: Decimal) -> str:
    return f"{value:.2f}"


def number(value: Decimal) -> str:
    """A price, quantity or rate as plain decimal text, at least two places, never an exponent."""
    text = format(value, "f")
    places = len(text.partition(".")[2])
    return text if places >= 2 else f"{value:.2f}"


def _address(address: Address) -> dict[str, Any]:
    lines = dict(zip(("addr_l1", "addr_l2", "addr_l3"), address.lines[:3], strict=False))
    return {**lines, "postcode": address.postcode, "city": address.city, "country_code": address.country_code}


def party(party: Party) -> dict[str, Any]:
    result: dict[str, Any] = {"name": party.name, **_address(party.address)}
    optional = {"vat_identifier": party.vat_id, "tax_identifier": party.tax_number,
                "legal_identifier": party.registration_id, "biz_name": party.trading_name}
    result.update({key: value for key, value in optional.items() if value})
    if party.electronic_address:
        result["einvoicing_addr"] = party.electronic_address.value
        result["einvoicing_addr_schemeid"] = party.electronic_address.scheme
    if party.contact:
        contact = {"name": party.contact.name, "phone": party.contact.phone, "email": party.contact.email}
        result["contacts"] = [{key: value for key, value in contact.items() if value}]
    return result


def line(item: InvoiceLine) -> dict[str, Any]:
    result: dict[str, Any] = {
        "BT-126": item.id, "BT-153": item.name, "BT-129": number(item.quantity), "BT-130": item.unit_code,
        "BT-131": amount(item.net_amount), "BT-146": number(item.net_price), "BT-151": item.tax_category.value,
        "BT-152": number(item.tax_rate)}
    optional = {"BT-154": item.description, "BT-155": item.seller_item_id, "BT-132": item.order_line_reference,
                "BT-134": item.period_start, "BT-135": item.period_end}
    result.update({key: value for key, value in optional.items() if value})
    if item.note:
        result["BT-127-00"] = [{"BT-127": item.note}]
    return result


def data_dict(invoice: EInvoice, flavour: Flavour) -> dict[str, Any]:
    """The factur-x data dict of the invoice; BT-24 is the library's (plain EN 16931) and is set to
    XRechnung's by the generator."""
    totals, payment, delivery = invoice.totals, invoice.payment, invoice.delivery
    result: dict[str, Any] = {
        "BT-1": invoice.number, "BT-2": invoice.issue_date, "BT-3": invoice.type_code.value,
        "BT-5": invoice.currency, "BG-4": party(invoice.seller), "BG-7": party(invoice.buyer),
        "BG-25": [line(item) for item in invoice.lines],
        "BG-23": [{"BT-116": amount(row.basis_amount), "BT-117": amount(row.tax_amount),
                   "BT-118": row.category.value, "BT-119": number(row.rate),
                   **({"BT-120": row.exemption_reason} if row.exemption_reason else {}),
                   **({"BT-121": row.exemption_reason_code} if row.exemption_reason_code else {})}
                  for row in invoice.tax_breakdown],
        "BT-106": amount(totals.line_total), "BT-109": amount(totals.tax_exclusive),
        "BT-110": amount(totals.tax_total), "BT-112": amount(totals.tax_inclusive),
        "BT-115": amount(totals.amount_due),
    }
    if flavour.xrechnung:
        result["BT-23"] = PEPPOL_BILLING
    if totals.allowance_total or invoice.allowances:
        result["BT-107"] = amount(totals.allowance_total)
    if totals.prepaid:
        result["BT-113"] = amount(totals.prepaid)
    optional = {"BT-10": invoice.buyer_reference, "BT-13": invoice.order_reference,
                "BT-12": invoice.contract_reference, "BT-72": delivery.actual_delivery_date,
                "BT-73": delivery.period_start, "BT-74": delivery.period_end, "BT-9": payment.due_date,
                "BT-83": payment.remittance_information, "BT-84": payment.seller_iban,
                "BT-85": payment.seller_account_name, "BT-86": payment.seller_bic,
                "BT-89": payment.mandate_reference, "BT-90": payment.creditor_id, "BT-91": payment.debtor_iban,
                "BT-20": payment_terms_text(invoice, machine_readable=flavour.xrechnung)}
    result.update({key: value for key, value in optional.items() if value})
    result["BT-81"] = payment.means.value
    if invoice.notes:
        result["BG-1"] = [{"BT-22": note} for note in invoice.notes]
    if invoice.preceding_invoices:
        result["BG-3"] = [{"BT-25": ref.number, **({"BT-26": ref.issue_date} if ref.issue_date else {})}
                          for ref in invoice.preceding_invoices]
    if delivery.deliver_to_address:
        result["BG-13"] = {"name": delivery.deliver_to_name or invoice.buyer.name,
                           **_address(delivery.deliver_to_address)}
    if invoice.allowances:
        result["BG-20"] = [
            {key: value for key, value in {
                "amount": amount(allowance.amount), "vat_category_code": allowance.tax_category.value,
                "vat_rate": number(allowance.tax_rate), "reason": allowance.reason,
                "reason_code": allowance.reason_code,
                "base_amount": amount(allowance.basis_amount) if allowance.basis_amount is not None else None,
                "rate": number(allowance.percent) if allowance.percent is not None else None}.items() if value}
            for allowance in invoice.allowances]
    return result
