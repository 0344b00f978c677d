"""What a customer, its main address and a contact must look like when they come in (form or import)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from domain.fields import (
    Amount,
    Consent,
    Country,
    Currency,
    DocumentKind,
    Email,
    Language,
    Percent,
    Phone,
    Size,
    Status,
    Strict,
    TaxTreatment,
    Text,
)


class AddressIn(Strict):
    kind: Literal["main", "billing", "delivery"] = "main"
    site_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    is_default: bool = False
    recipient: Text | None = Field(default=None, max_length=200)
    street: Text = Field(min_length=1, max_length=200)
    street2: Text | None = Field(default=None, max_length=200)
    postal_code: Text = Field(min_length=1, max_length=20)
    city: Text = Field(min_length=1, max_length=100)
    country: Country = "DE"


class MainAddressIn(AddressIn):
    kind: Literal["main"] = "main"


EInvoiceFormat = Literal["factur_x", "xrechnung_cii", "xrechnung_ubl"]


class CustomerFields(Strict):
    name: Text = Field(min_length=1, max_length=200)
    status: Status = "lead"
    industry: Text | None = Field(default=None, max_length=100)
    size: Size | None = None
    country: Country | None = Field(default=None, description="default: the company's own country")
    vat_id: Text | None = Field(default=None, max_length=20)
    tax_treatment: TaxTreatment = "domestic"
    currency: Currency = "EUR"
    price_list_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    payment_days: int = Field(default=14, ge=0, le=365)
    skonto_percent: Percent | None = None
    skonto_days: int | None = Field(default=None, ge=1, le=365)
    delivery_terms: Text | None = Field(default=None, max_length=200)
    credit_limit: Amount | None = None
    no_contact: bool = False
    owner: Text | None = Field(default=None, max_length=100, description="default: the salesperson creating it")
    consumer: bool = Field(default=False, description="a private person, not a business (§288 BGB, §33 UStDV)")
    collective_invoice: bool = Field(default=False, description="several orders on one invoice (Sammelrechnung)")
    einvoice_format: EInvoiceFormat = Field(default="factur_x", description="factur_x: a PDF with the EN 16931 "
                                                                           "XML inside; xrechnung_cii or "
                                                                           "xrechnung_ubl: the XML alone")
    buyer_reference: Text | None = Field(default=None, max_length=100, description="BT-10: the Leitweg-ID of a "
                                                                                   "public customer")


class CustomerIn(CustomerFields):
    main_address: MainAddressIn | None = None


class ContactIn(Strict):
    site_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    salutation: Text | None = Field(default=None, max_length=30)
    first_name: Text | None = Field(default=None, max_length=100)
    last_name: Text = Field(min_length=1, max_length=100)
    role: Text | None = Field(default=None, max_length=100)
    email: Email | None = None
    phone: Phone | None = None
    mobile: Phone | None = None
    language: Language = "de"
    marketing_consent: Consent = "unknown"
    receives: list[DocumentKind] | None = Field(
        default=None, max_length=3, description="default: every kind nobody at the customer receives by e-mail yet "
                                                "(a first contact receives everything); [] for nothing")
    no_contact: bool = False
