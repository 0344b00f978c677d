"""The payment terms of an e-invoice (BT-20): the agreed terms, and each Skonto (early-payment
discount) the law asks the invoice to state (§14 (4) Nr. 7 UStG).

XRechnung wants a Skonto machine-readable, each on a line of its own at the start of BT-20 (KoSIT rule
BR-DE-18): `#SKONTO#TAGE=10#PROZENT=2.00#`, with `BASISBETRAG=…#` when the discount applies to less
than the amount due (BT-115), every line ended by a line break. People read a sentence after it; a
Factur-X invoice carries only the sentence: the percentage, the amount it saves and the last day."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from domain.einvoicing.model import EInvoice, Skonto
from kernel import formatting
from kernel.money import HUNDRED, to_cents

_TWO_PLACES = Decimal("0.01")


def skonto_line(skonto: Skonto) -> str:
    """The XRechnung form of one Skonto, without its line break."""
    line = f"#SKONTO#TAGE={skonto.days}#PROZENT={skonto.percent.quantize(_TWO_PLACES)}#"
    if skonto.basis_amount is not None:
        line += f"BASISBETRAG={skonto.basis_amount.quantize(_TWO_PLACES)}#"
    return line


def skonto_sentence(invoice: EInvoice, skonto: Skonto) -> str:
    """"Bei Zahlung bis 16. Dezember 2026 (10 Tage) 2 % Skonto: 23,80 € (Sie zahlen 1.166,20 €)." and
    its English twin, in the invoice's language."""
    lang = invoice.language if invoice.language in formatting.LANGUAGES else "de"
    basis = skonto.basis_amount if skonto.basis_amount is not None else invoice.totals.amount_due
    discount = to_cents(basis * skonto.percent / HUNDRED)
    last_day = formatting.day(invoice.issue_date + timedelta(days=skonto.days), lang)
    percent = formatting.percent(skonto.percent, lang)
    amount = formatting.money(discount, invoice.currency, lang)
    remaining = formatting.money(invoice.totals.amount_due - discount, invoice.currency, lang)
    if lang == "en":
        return (f"{percent} early payment discount ({amount}) if paid by {last_day} ({skonto.days} days): "
                f"you pay {remaining}.")
    return (f"Bei Zahlung bis zum {last_day} ({skonto.days} Tage) {percent} Skonto ({amount}): "
            f"Sie zahlen {remaining}.")


def payment_terms_text(invoice: EInvoice, machine_readable: bool) -> str | None:
    """BT-20: the Skonto lines (XRechnung: `machine_readable`), the Skonto sentences and the agreed
    terms, or None when there is nothing to say."""
    payment = invoice.payment
    parts: list[str] = []
    if machine_readable and payment.skonto:
        parts.append("".join(skonto_line(skonto) + "\n" for skonto in payment.skonto).rstrip("\n"))
    parts.extend(skonto_sentence(invoice, skonto) for skonto in payment.skonto)
    if payment.terms:
        parts.append(payment.terms)
    return "\n".join(parts) or None
