"""Bank statement import at volume: a CAMT.053 statement of 10,000 lines read and matched against
10,000 open items, pure (no database). Lines are a realistic mix: invoice numbers in the spellings
bank software produces, several invoices in one transfer, Skonto in time and too late, payments
without a number found by the payer's IBAN and amount, a batch entry of direct debits and a few
returns, and money nobody can place. Target (brief): parse + match well under 10 s."""
from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

from schwifty import IBAN

from bench.common import peak_rss_mib, stopwatch
from domain.payments.camt053 import read_camt053
from domain.payments.matching import match_statement_lines
from domain.payments.open_items import OpenItem, TaxPortion

DAY = date(2026, 12, 4)
SPELLINGS = ("INV-{y}-{n:04d}", "INV {y} {n}", "INV-{y}-{n}", "Rechnung INV-{y}-{n:04d}", "inv{y}{n:04d}")


def open_items(count: int, rng: random.Random) -> tuple[list[OpenItem], dict[int, str]]:
    """`count` invoices of count/5 customers, each customer paying from one known IBAN."""
    customers = max(1, count // 5)
    ibans = {c: IBAN.generate("DE", bank_code="37040044", account_code=str(1_000_000 + c)).compact
             for c in range(customers)}
    items = []
    for n in range(1, count + 1):
        customer = rng.randrange(customers)
        net = Decimal(rng.randrange(1_000, 500_000)) / 100
        gross = (net * Decimal("1.19")).quantize(Decimal("0.01"))
        skonto = n % 10 == 0
        items.append(OpenItem(
            item_id=n, number=f"INV-2026-{n:05d}", customer_id=customer, currency="EUR", open_amount=gross,
            gross=gross, due_date=DAY + timedelta(days=14), customer_ibans=frozenset({ibans[customer]}),
            issue_date=DAY - timedelta(days=rng.randrange(60)), gross_by_rate=(TaxPortion(Decimal(19), gross),),
            skonto_percent=Decimal(2) if skonto else Decimal(0), skonto_until=DAY if skonto else None,
            mandate_reference=f"M-{customer:05d}"))
    return items, ibans


def _detail(amount: Decimal, text: str, iban: str, end_to_end: str = "NOTPROVIDED", mandate: str = "",
            reason: str = "", side: str = "CRDT") -> str:
    mandate_xml = f"<MndtId>{mandate}</MndtId>" if mandate else ""
    return_xml = f"<RtrInf><Rsn><Cd>{reason}</Cd></Rsn></RtrInf>" if reason else ""
    return (f"<TxDtls><Refs><EndToEndId>{end_to_end}</EndToEndId>{mandate_xml}</Refs>"
            f'<Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
            f"<RltdPties><Dbtr><Pty><Nm>Kunde Müller &amp; Söhne</Nm></Pty></Dbtr>"
            f"<DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct></RltdPties>"
            f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf>{return_xml}</TxDtls>")


def _entry(number: int, amount: Decimal, details: list[str], side: str = "CRDT", reversal: bool = False) -> str:
    return (f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
            f"{'<RvslInd>true</RvslInd>' if reversal else ''}<Sts><Cd>BOOK</Cd></Sts>"
            f"<BookgDt><Dt>{DAY}</Dt></BookgDt><ValDt><Dt>{DAY}</Dt></ValDt>"
            f"<AcctSvcrRef>REF{number:08d}</AcctSvcrRef>"
            f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls>{''.join(details)}</NtryDtls></Ntry>")


def statement(lines: int, items: list[OpenItem], ibans: dict[int, str], rng: random.Random) -> bytes:
    """A CAMT.053.001.08 statement with `lines` lines (one batch entry of ten collections among them)."""
    entries, made, number = [], 0, 0
    pool = list(items)
    rng.shuffle(pool)
    by_customer: dict[int | str, list[OpenItem]] = {}
    for item in items:
        by_customer.setdefault(item.customer_id, []).append(item)
    returnable: list[OpenItem] = []
    while made < lines:
        number += 1
        item = pool[number % len(pool)]
        iban = ibans[item.customer_id]
        kind = rng.random()
        spelling = rng.choice(SPELLINGS).format(y=2026, n=item.item_id)
        if made + 10 <= lines and number == 7:  # our direct debits, collected as one batch entry
            batch = pool[:10]
            details = [_detail(i.gross, i.number, ibans[i.customer_id], i.number, i.mandate_reference or "")
                       for i in batch]
            entries.append(_entry(number, sum((i.gross for i in batch), Decimal(0)), details))
            returnable = batch[:5]  # five of them come back later
            made += 10
            continue
        if kind < 0.45:
            amount, text = item.gross, spelling
        elif kind < 0.55 and item.skonto_percent:
            amount, text = item.gross - item.skonto_amount(), spelling
        elif kind < 0.65:
            amount, text = (item.gross / 2).quantize(Decimal("0.01")), spelling
        elif kind < 0.72:  # two invoices of the same customer in one transfer
            other = rng.choice(by_customer[item.customer_id])
            amount, text = item.gross + other.gross, f"{spelling}, {other.number}"
        elif kind < 0.88:
            amount, text = item.gross, "Zahlung laut Rechnung, danke"
        elif kind < 0.90 and returnable:
            batch_item = returnable.pop()
            entries.append(_entry(number, batch_item.gross, [_detail(
                batch_item.gross, "RUECKLASTSCHRIFT", ibans[batch_item.customer_id], batch_item.number,
                batch_item.mandate_reference or "", "AM04", "DBIT")], side="DBIT", reversal=True))
            made += 1
            continue
        else:
            amount, text = Decimal(rng.randrange(100, 99_999)) / 100, "Spende Sommerfest"
            iban = IBAN.generate("DE", bank_code="50010517", account_code=str(5_000_000 + number)).compact
        entries.append(_entry(number, amount, [_detail(amount, text, iban)]))
        made += 1
    head = ('<?xml version="1.0" encoding="UTF-8"?>'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>'
            "<GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-12-05T06:00:00</CreDtTm></GrpHdr>"
            "<Stmt><Id>BENCH-1</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>2026-12-05T06:00:00</CreDtTm>"
            "<Acct><Id><IBAN>DE02120300000000202051</IBAN></Id><Ccy>EUR</Ccy></Acct>"
            '<Bal><Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
            f"<Dt><Dt>{DAY}</Dt></Dt></Bal>")
    return (head + "".join(entries) + "</Stmt></BkToCstmrStmt></Document>").encode("utf-8")


def statement_matching(lines: int = 10_000) -> dict:
    """Generate `lines` statement lines and as many open items, then time parse and match."""
    rng = random.Random(20261204)
    items, ibans = open_items(lines, rng)
    document = statement(lines, items, ibans, rng)
    with stopwatch() as parsing:
        statements = read_camt053(document)
    parsed = statements[0].lines
    with stopwatch() as matching:
        decisions = match_statement_lines(parsed, items)
    total = parsing() + matching()
    return {
        "lines": len(parsed), "open items": len(items), "statement MiB": round(len(document) / 2**20, 1),
        "parse s": round(parsing(), 3), "match s": round(matching(), 3), "parse + match s": round(total, 3),
        "lines/s": round(len(parsed) / total), "outcomes": dict(sorted(Counter(d.outcome for d in decisions).items())),
        "rules": dict(sorted(Counter(d.rule for d in decisions).items())),
        "reasons": dict(sorted(Counter(d.reason for d in decisions if d.reason).items())),
        "peak rss MiB": peak_rss_mib(),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(statement_matching(), indent=2))
