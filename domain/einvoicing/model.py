"""One invoice or credit note in the terms of the European standard EN 16931: the figures and parties
an e-invoice carries, independent of its syntax (CII or UBL) and of how Kontor stores invoices. The
invoicing module maps an issued invoice onto `EInvoice`; this package turns it into XML, validates
it and embeds it in the PDF. Each field names its business term (BT-…) or group (BG-…).

Amounts are Decimal, already rounded as the invoice states them (two places); prices and quantities
may carry up to four. A credit note (381) states its amounts positive, as EN 16931 wants: the type
code says they are credited. Nothing is computed here: the totals are the invoice's own, and validation
(EN 16931 rules such as BR-CO-15) refuses figures that do not add up. `figures.py` offers the sums
for a caller that has only lines."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum


class DocumentType(StrEnum):
    """BT-3, UNTDID 1001."""
    INVOICE = "380"  # commercial invoice
    CREDIT_NOTE = "381"  # credit note; references the original invoice (BG-3)
    PREPAYMENT_INVOICE = "386"  # down-payment (Anzahlungs-) invoice
    PARTIAL_INVOICE = "326"  # partial (Abschlags-) invoice


class TaxCategory(StrEnum):
    """BT-95/BT-118/BT-151, UNTDID 5305 as EN 16931 restricts it."""
    STANDARD = "S"  # taxed at a rate (19 %, 7 %)
    REVERSE_CHARGE = "AE"  # §13b UStG: the recipient owes the tax
    INTRA_COMMUNITY = "K"  # tax-free intra-community supply of goods (§4 Nr. 1b UStG)
    EXPORT = "G"  # tax-free export outside the EU (§4 Nr. 1a UStG)
    EXEMPT = "E"  # exempt (e.g. §4 Nr. 8 UStG); needs a reason
    ZERO_RATED = "Z"  # zero rate


class PaymentMeans(StrEnum):
    """BT-81, UNTDID 4461."""
    CREDIT_TRANSFER = "30"  # non-SEPA credit transfer
    SEPA_CREDIT_TRANSFER = "58"
    SEPA_DIRECT_DEBIT = "59"


class Flavour(StrEnum):
    """Which e-invoice: the syntax and the specification (BT-24) it claims."""
    FACTURX_EN16931 = "facturx-en16931"  # CII, Factur-X/ZUGFeRD profile EN 16931 (in the PDF)
    XRECHNUNG_CII = "xrechnung-cii"  # CII, XRechnung 3.0
    XRECHNUNG_UBL = "xrechnung-ubl"  # UBL 2.1 Invoice/CreditNote, XRechnung 3.0

    @property
    def syntax(self) -> str:
        return "ubl" if self is Flavour.XRECHNUNG_UBL else "cii"

    @property
    def xrechnung(self) -> bool:
        return self is not Flavour.FACTURX_EN16931


@dataclass(frozen=True)
class Address:
    """BG-5 (seller), BG-8 (buyer), BG-15 (deliver-to)."""
    lines: tuple[str, ...]  # BT-35/36/162, BT-50/51/163, BT-75/76/165: street, then more (at most 3)
    postcode: str  # BT-38 / BT-53 / BT-78
    city: str  # BT-37 / BT-52 / BT-77
    country_code: str  # BT-40 / BT-55 / BT-80, ISO 3166-1 alpha-2


@dataclass(frozen=True)
class Contact:
    """BG-6 (seller contact, required by XRechnung: BR-DE-2/5/6/7) and BG-9 (buyer contact)."""
    name: str  # BT-41 / BT-56
    phone: str | None = None  # BT-42 / BT-57
    email: str | None = None  # BT-43 / BT-58


@dataclass(frozen=True)
class ElectronicAddress:
    """BT-34 (seller) / BT-49 (buyer) with its scheme (CEF EAS code list): "EM" an e-mail address,
    "0204" a Leitweg-ID, "9930" a German VAT ID."""
    value: str
    scheme: str = "EM"


@dataclass(frozen=True)
class Party:
    """BG-4 seller / BG-7 buyer."""
    name: str  # BT-27 / BT-44 (legal name)
    address: Address  # BG-5 / BG-8
    vat_id: str | None = None  # BT-31 / BT-48, e.g. DE123456789
    tax_number: str | None = None  # BT-32 (seller only; scheme FC), e.g. 201/113/40209
    electronic_address: ElectronicAddress | None = None  # BT-34 / BT-49
    contact: Contact | None = None  # BG-6 / BG-9
    registration_id: str | None = None  # BT-30 / BT-47, e.g. "HRB 12345, Amtsgericht Köln"
    trading_name: str | None = None  # BT-28 / BT-45


@dataclass(frozen=True)
class Delivery:
    """BG-13 delivery information and BG-14 invoicing period."""
    actual_delivery_date: date | None = None  # BT-72
    period_start: date | None = None  # BT-73
    period_end: date | None = None  # BT-74
    deliver_to_name: str | None = None  # BT-70
    deliver_to_address: Address | None = None  # BG-15 (its country is BT-80)


@dataclass(frozen=True)
class Skonto:
    """An early-payment discount: `percent` off when paid within `days` of the issue date. Written
    into the payment terms (BT-20): machine-readable for XRechnung, as a sentence for people."""
    days: int
    percent: Decimal
    basis_amount: Decimal | None = None  # when not the amount due (BT-115)


@dataclass(frozen=True)
class Payment:
    """BG-16 payment instructions and the payment terms."""
    means: PaymentMeans = PaymentMeans.SEPA_CREDIT_TRANSFER  # BT-81
    due_date: date | None = None  # BT-9
    terms: str | None = None  # BT-20, free text; Skonto lines are added by the generator
    skonto: tuple[Skonto, ...] = ()  # part of BT-20
    remittance_information: str | None = None  # BT-83, usually the invoice number
    seller_iban: str | None = None  # BT-84 (credit transfer)
    seller_account_name: str | None = None  # BT-85
    seller_bic: str | None = None  # BT-86
    mandate_reference: str | None = None  # BT-89 (direct debit)
    creditor_id: str | None = None  # BT-90, SEPA creditor identifier (direct debit)
    debtor_iban: str | None = None  # BT-91 (direct debit)


@dataclass(frozen=True)
class InvoiceLine:
    """BG-25."""
    id: str  # BT-126
    name: str  # BT-153
    quantity: Decimal  # BT-129 (negative on an invoice only to correct; positive on a credit note)
    unit_code: str  # BT-130, UN/ECE Rec. 20 (units.unit_code_for maps Kontor's units)
    net_price: Decimal  # BT-146, per unit, after any price discount
    net_amount: Decimal  # BT-131 = quantity x net price (less line allowances), rounded to cents
    tax_category: TaxCategory  # BT-151
    tax_rate: Decimal  # BT-152, percent (0 for AE, K, G, E, Z)
    description: str | None = None  # BT-154
    note: str | None = None  # BT-127, e.g. the original unit when no code matched it
    seller_item_id: str | None = None  # BT-155, the product number
    period_start: date | None = None  # BT-134 (BG-26)
    period_end: date | None = None  # BT-135 (BG-26)
    order_line_reference: str | None = None  # BT-132


@dataclass(frozen=True)
class DocumentAllowance:
    """BG-20: a discount on the whole document (the header discount), one per tax category and rate."""
    amount: Decimal  # BT-92
    tax_category: TaxCategory  # BT-95
    tax_rate: Decimal  # BT-96
    reason: str | None = "Rabatt"  # BT-97
    reason_code: str | None = "95"  # BT-98, UNTDID 5189 (95 = discount)
    basis_amount: Decimal | None = None  # BT-93
    percent: Decimal | None = None  # BT-94


@dataclass(frozen=True)
class TaxBreakdown:
    """BG-23: one row per tax category and rate."""
    category: TaxCategory  # BT-118
    rate: Decimal  # BT-119
    basis_amount: Decimal  # BT-116: lines less allowances of this category and rate
    tax_amount: Decimal  # BT-117
    exemption_reason: str | None = None  # BT-120 (required for AE, K, G, E)
    exemption_reason_code: str | None = None  # BT-121, e.g. VATEX-EU-AE, VATEX-EU-IC, VATEX-EU-G


@dataclass(frozen=True)
class Totals:
    """BG-22."""
    line_total: Decimal  # BT-106, sum of BT-131
    allowance_total: Decimal  # BT-107, sum of BT-92
    tax_exclusive: Decimal  # BT-109 = BT-106 - BT-107
    tax_total: Decimal  # BT-110, sum of BT-117
    tax_inclusive: Decimal  # BT-112 = BT-109 + BT-110
    amount_due: Decimal  # BT-115 = BT-112 - BT-113
    prepaid: Decimal = Decimal("0.00")  # BT-113, e.g. down payments a final invoice deducts


@dataclass(frozen=True)
class PrecedingInvoice:
    """BG-3: the invoice a credit note corrects (or a final invoice's down-payment invoices)."""
    number: str  # BT-25
    issue_date: date | None = None  # BT-26


@dataclass(frozen=True)
class EInvoice:
    """One invoice or credit note (BT-3) as EN 16931 sees it."""
    type_code: DocumentType  # BT-3
    number: str  # BT-1
    issue_date: date  # BT-2
    seller: Party  # BG-4
    buyer: Party  # BG-7
    lines: tuple[InvoiceLine, ...]  # BG-25
    tax_breakdown: tuple[TaxBreakdown, ...]  # BG-23
    totals: Totals  # BG-22
    payment: Payment = field(default_factory=Payment)  # BG-16, BT-9, BT-20
    currency: str = "EUR"  # BT-5
    buyer_reference: str | None = None  # BT-10, the Leitweg-ID of a public buyer (XRechnung: required)
    order_reference: str | None = None  # BT-13, the buyer's purchase order number
    contract_reference: str | None = None  # BT-12
    notes: tuple[str, ...] = ()  # BG-1/BT-22, e.g. the reverse-charge sentence
    preceding_invoices: tuple[PrecedingInvoice, ...] = ()  # BG-3
    delivery: Delivery = field(default_factory=Delivery)  # BG-13, BG-14
    allowances: tuple[DocumentAllowance, ...] = ()  # BG-20
    language: str = "de"  # not a business term: the language of the texts the generator adds (de, en)

    @property
    def is_credit_note(self) -> bool:
        return self.type_code is DocumentType.CREDIT_NOTE
