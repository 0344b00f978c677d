"""Which account a booking goes to, as data: the standard charts SKR03 and SKR04 as defaults, and a
tax advisor's own chart configured by building another `ChartOfAccounts`.

Revenue and Skonto accounts here are DATEV "Automatikkonten": DATEV derives the output tax from
the account, so they need no BU-Schlüssel. A chart that uses plain accounts names the key per
revenue kind in `tax_keys`.

Down payments (Abschlagsrechnungen) are booked as DATEV books them through the debtor account: the
down-payment invoice asks for money but is no revenue and owes no tax yet (SKR03 1593 / SKR04 1495,
"Verrechnungskonto erhaltene Anzahlungen bei Buchung über Debitorenkonto"); the tax arises when the
money comes (§13 (1) Nr. 1a S. 4 UStG), so the payment moves its gross from that clearing account to
the taxed down payments (SKR03 1718 at 19 %, 1711 at 7 %, 1710 untaxed; SKR04 3272, 3260, 3250); the
final invoice books its whole revenue and releases the down payments it deducts from there back to
the debtor, so revenue and tax are counted once.

A customer's credit (an over-payment, booked to the customer's account without an invoice number
when the money came) applied later to an invoice moves on the customer's account through the transit
account (SKR03 1590 / SKR04 1370, Durchlaufende Posten) on the day it was applied: credited under the
invoice's number, debited against the credit, so both open items clear."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

# domestic: taxable in Germany at the portion's rate; reverse_charge_services: service to a business
# in another EU country, the recipient owes the tax (§13b, §3a (2) UStG); intra_community_supply:
# tax-free supply of goods to a business in another EU country (§4 Nr. 1b); export: tax-free export
# outside the EU (§4 Nr. 1a).
RevenueKind = Literal["domestic", "reverse_charge_services", "intra_community_supply", "export"]
ZERO_RATED: frozenset[str] = frozenset({"reverse_charge_services", "intra_community_supply", "export"})


class AccountingError(ValueError):
    """A booking the chart or the format cannot express; the message names what is missing."""


@dataclass(frozen=True)
class ChartOfAccounts:
    """Accounts by booking kind. `revenue` maps (kind, rate) to an account, the rate as a percent
    string ("19", "7", "0"); `skonto` maps the rate to the account of Skonto granted."""
    name: str
    skr: str
    bank: str
    revenue: dict[tuple[str, str], str]
    skonto: dict[str, str]
    down_payment_clearing: str = ""
    transit: str = ""  # Durchlaufende Posten: a customer's credit moved onto the invoice it settles
    down_payments: dict[str, str] = field(default_factory=dict)
    debtor_first: int = 10000
    debtor_last: int = 69999
    tax_keys: dict[tuple[str, str], str] = field(default_factory=dict)

    def debtor_account(self, customer_number: int) -> str:
        """The customer's personal account: the first debtor account plus the customer number."""
        account = self.debtor_first + customer_number
        if customer_number < 0 or account > self.debtor_last:
            raise AccountingError(f"customer number {customer_number} gives debtor account {account}, "
                                  f"outside {self.debtor_first}–{self.debtor_last} of {self.name}")
        return str(account)

    def revenue_account(self, kind: str, rate: Decimal) -> str:
        key = (kind, rate_key(rate))
        if key not in self.revenue:
            raise AccountingError(f"{self.name} has no revenue account for {kind} at {rate_key(rate)} %")
        return self.revenue[key]

    def skonto_account(self, rate: Decimal) -> str:
        if rate_key(rate) not in self.skonto:
            raise AccountingError(f"{self.name} has no account for Skonto granted at {rate_key(rate)} %")
        return self.skonto[rate_key(rate)]

    def down_payment_account(self, kind: str, rate: Decimal) -> str:
        """Where received down payments lie until the final invoice: taxed at the rate, or untaxed
        (key "0") for a zero-rated kind (reverse charge, intra-community supply, export)."""
        key = "0" if kind in ZERO_RATED else rate_key(rate)
        if key not in self.down_payments or not self.down_payment_clearing:
            raise AccountingError(f"{self.name} has no account for down payments received at {key} %")
        return self.down_payments[key]

    def tax_key(self, kind: str, rate: Decimal) -> str:
        return self.tax_keys.get((kind, rate_key(rate)), "")


def rate_key(rate: Decimal) -> str:
    """19 → "19", 7.00 → "7", 5.5 → "5.5"."""
    return format(rate.normalize(), "f")


SKR03 = ChartOfAccounts(
    name="SKR03", skr="03", bank="1200",
    revenue={("domestic", "19"): "8400", ("domestic", "7"): "8300", ("reverse_charge_services", "0"): "8336",
             ("intra_community_supply", "0"): "8125", ("export", "0"): "8120"},
    skonto={"19": "8736", "7": "8731"},
    down_payment_clearing="1593", down_payments={"19": "1718", "7": "1711", "0": "1710"}, transit="1590",
)

SKR04 = ChartOfAccounts(
    name="SKR04", skr="04", bank="1800",
    revenue={("domestic", "19"): "4400", ("domestic", "7"): "4300", ("reverse_charge_services", "0"): "4336",
             ("intra_community_supply", "0"): "4125", ("export", "0"): "4120"},
    skonto={"19": "4736", "7": "4731"},
    down_payment_clearing="1495", down_payments={"19": "3272", "7": "3260", "0": "3250"}, transit="1370",
)
