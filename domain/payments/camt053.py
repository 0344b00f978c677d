"""Reading CAMT.053 bank statements (ISO 20022 BankToCustomerStatement, camt.053.001.02 to .08).

Streams the file with lxml's iterparse: each entry is read and dropped, so 10,000 entries cost
linear time and little memory. The parser is closed to hostile files: no DTD, no entity expansion,
no network, no huge-tree mode, and a size limit. A batch entry with several transaction details
gives one line per detail. Anything the reader cannot make sense of is refused with a
StatementFormatError naming the statement, the entry and the element."""
from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

from lxml import etree

from domain.payments.statements import (
    BankStatement,
    Direction,
    StatementFormatError,
    StatementLine,
    join_text,
    make_statement,
    none_if_placeholder,
)

MAX_BYTES = 200 * 1024 * 1024  # a year of a busy account is far below; a bigger upload is refused unread
NAMESPACE = re.compile(r"^urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d\d)$")
AMOUNT = re.compile(r"^\d{1,18}(\.\d{1,5})?$")


def read_camt053(source: bytes | Path | IO[bytes], *, max_bytes: int = MAX_BYTES) -> tuple[BankStatement, ...]:
    """The statements of a CAMT.053 document (one per Stmt element), in document order."""
    data = _read(source, max_bytes)
    if _declares_doctype(data):
        raise StatementFormatError("the document declares a DTD (<!DOCTYPE>); bank statements have none")
    reader = _Reader()
    try:
        return tuple(reader.read(data))
    except etree.XMLSyntaxError as error:
        raise StatementFormatError(f"not well-formed XML (line {error.lineno}): {error.msg}") from None


def _read(source: bytes | Path | IO[bytes], max_bytes: int) -> bytes:
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, Path):
        if source.stat().st_size > max_bytes:
            raise StatementFormatError(f"the file is larger than {max_bytes} bytes")
        data = source.read_bytes()
    else:
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise StatementFormatError(f"the file is larger than {max_bytes} bytes")
    return data


def _declares_doctype(data: bytes) -> bool:
    """A DOCTYPE can only stand before the root element: the prolog is all that needs a look."""
    head = data[:65536]
    root = re.search(rb"<[A-Za-z_]", head)
    prolog = head if root is None else head[:root.start()]
    return b"<!DOCTYPE" in prolog.upper()


class _Reader:
    """One pass over one document."""

    def __init__(self) -> None:
        self.ns = ""
        self.version = ""
        self.paths: dict[str, str] = {}

    def q(self, path: str) -> str:
        """A path of local names as a namespaced path ("Bal/Amt" → "{ns}Bal/{ns}Amt"), built once."""
        found = self.paths.get(path)
        if found is None:
            found = self.paths[path] = "/".join(f"{{{self.ns}}}{part}" for part in path.split("/"))
        return found

    def read(self, data: bytes) -> Iterator[BankStatement]:
        options = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                       remove_comments=True, remove_pis=True)
        for _, root in etree.iterparse(io.BytesIO(data), events=("start",), **options):
            self._check_root(root)  # the first event is the root element: looked at, then the pass ends
            break
        stmt_tag, entry_tag = self.q("Stmt"), self.q("Ntry")
        events = etree.iterparse(io.BytesIO(data), events=("start", "end"), tag=(stmt_tag, entry_tag), **options)
        lines: list[StatementLine] = []
        statements = entry_number = 0
        for event, element in events:
            if element.tag == entry_tag:
                if event == "end":
                    entry_number += 1
                    lines.extend(self._entry(element, statements + 1, entry_number))
                    element.getparent().remove(element)
            elif event == "start":
                lines, entry_number = [], 0
            else:
                statements += 1
                yield self._statement(element, statements, lines)
                element.getparent().remove(element)
        if not statements:
            raise StatementFormatError("the document holds no statement (Stmt)")

    def _check_root(self, root: etree._Element) -> None:
        if root.getroottree().docinfo.doctype:  # seen here too in encodings the byte check cannot read
            raise StatementFormatError("the document declares a DTD (<!DOCTYPE>); bank statements have none")
        qname = etree.QName(root)
        match = NAMESPACE.match(qname.namespace or "")
        if qname.localname != "Document" or match is None:
            raise StatementFormatError(
                f"not a CAMT.053 statement: root element {qname.localname!r} in namespace "
                f"{qname.namespace or '(none)'!r}; expected Document in urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN")
        self.ns, self.version = qname.namespace or "", f"camt.053.001.{match.group(1)}"

    # --- the statement ---------------------------------------------------------------------------

    def _statement(self, stmt: etree._Element, number: int, lines: list[StatementLine]) -> BankStatement:
        where = f"statement {number}"
        statement_id = self._text(stmt, "Id")
        if not statement_id:
            raise StatementFormatError(f"{where}: no statement id (Stmt/Id)")
        where = f"statement {statement_id!r}"
        iban = self._text(stmt, "Acct/Id/IBAN")
        if not iban:
            raise StatementFormatError(f"{where}: no account IBAN (Acct/Id/IBAN)")
        balances = self._balances(stmt, where)
        opening = balances.get("OPBD", balances.get("PRCD"))
        closing = balances.get("CLBD")
        currency = self._text(stmt, "Acct/Ccy") or self._balance_currency(stmt) or (lines[0].currency if lines else "")
        sequence = self._text(stmt, "ElctrncSeqNb") or self._text(stmt, "LglSeqNb")
        return make_statement(
            account_iban=iban.replace(" ", "").upper(), statement_id=statement_id, sequence=sequence,
            created_at=_datetime(self._text(stmt, "CreDtTm"), where, "CreDtTm"),
            from_date=_date_part(self._text(stmt, "FrToDt/FrDtTm"), where, "FrToDt/FrDtTm"),
            to_date=_date_part(self._text(stmt, "FrToDt/ToDtTm"), where, "FrToDt/ToDtTm"),
            currency=currency, opening_balance=opening, closing_balance=closing, lines=lines,
            source_format=self.version)

    def _balances(self, stmt: etree._Element, where: str) -> dict[str, Decimal]:
        found: dict[str, Decimal] = {}
        for balance in stmt.iterfind(self.q("Bal")):
            kind = self._text(balance, "Tp/CdOrPrtry/Cd") or self._text(balance, "Tp/CdOrPrtry/Prtry")
            amount = _amount(self._text(balance, "Amt"), f"{where}, balance {kind}")
            sign = self._text(balance, "CdtDbtInd")
            if sign not in ("CRDT", "DBIT"):
                raise StatementFormatError(f"{where}, balance {kind}: CdtDbtInd {sign!r} is neither CRDT nor DBIT")
            found.setdefault(kind or "", amount if sign == "CRDT" else -amount)
        return found

    def _balance_currency(self, stmt: etree._Element) -> str | None:
        amount = stmt.find(self.q("Bal/Amt"))
        return None if amount is None else amount.get("Ccy")

    # --- entries and their details ---------------------------------------------------------------

    def _values(self, element: etree._Element, skip: str | None = None) -> dict[str, str]:
        """The texts below `element` by path of local names ("RltdPties/Dbtr/Pty/Nm"), first occurrence
        each, in one walk in document order (much cheaper than a find per field); repeated remittance
        lines joined under "RmtInf/Ustrd". An element without text is present with "". `skip` leaves a
        child's subtree out."""
        values: dict[str, str] = {}
        remittance: list[str] = []
        self._collect(element, "", len(self.ns) + 2, skip, values, remittance)
        if remittance:
            values["RmtInf/Ustrd"] = join_text(remittance)
        return values

    def _collect(self, element: etree._Element, prefix: str, cut: int, skip: str | None, values: dict[str, str],
                 remittance: list[str]) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            path = prefix + tag[cut:]
            if path == skip:
                continue
            if path == "RmtInf/Ustrd":
                remittance.append((child.text or "").strip())
            elif path not in values:
                values[path] = (child.text or "").strip()
            if len(child):
                self._collect(child, path + "/", cut, skip, values, remittance)

    def _entry(self, entry: etree._Element, statement: int, number: int) -> list[StatementLine]:
        values = self._values(entry, skip="NtryDtls")
        reference = values.get("AcctSvcrRef") or values.get("NtryRef")
        where = f"statement {statement}, entry {number}" + (f" ({reference})" if reference else "")
        amount_element = entry.find(self.q("Amt"))
        if amount_element is None:
            raise StatementFormatError(f"{where}: no amount (Amt)")
        amount = _amount(amount_element.text, where)
        currency = amount_element.get("Ccy") or ""
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise StatementFormatError(f"{where}: amount without a currency (Amt/@Ccy)")
        direction = _direction(values.get("CdtDbtInd"), where)
        booked = values.get("BookgDt/Dt") or values.get("BookgDt/DtTm")
        if not booked:
            raise StatementFormatError(f"{where}: no booking date (BookgDt)")
        booking_date = _date_part(booked, where, "BookgDt")
        assert booking_date is not None
        value_date = _date_part(values.get("ValDt/Dt") or values.get("ValDt/DtTm"), where, "ValDt")
        reversal = values.get("RvslInd", "").lower() == "true"
        entry_code = _bank_code(values)
        info = join_text([values.get("AddtlNtryInf")])
        details = entry.findall(self.q("NtryDtls/TxDtls"))
        common = dict(currency=currency, booking_date=booking_date, value_date=value_date,
                      entry_reference=reference)
        if not details:
            return [StatementLine(position=0, amount=amount, direction=direction, remittance=info,
                                  bank_code=entry_code, is_return=reversal, **common)]  # type: ignore[arg-type]
        lines = []
        for index, detail in enumerate(details):
            detail_where = f"{where}, transaction detail {index + 1}"
            found = self._values(detail)
            detail_amount = _detail_amount(found, detail_where)
            if detail_amount is None:
                if len(details) > 1:
                    raise StatementFormatError(f"{detail_where}: a batch entry's detail has no amount")
                detail_amount = amount
            indicator = found.get("CdtDbtInd")
            detail_direction = _direction(indicator, detail_where) if indicator else direction
            returned = reversal or "RtrInf" in found
            name, iban, bic = _counterparty(found, detail_direction, returned)
            lines.append(StatementLine(
                position=0, amount=detail_amount, direction=detail_direction, detail=index,
                remittance=found.get("RmtInf/Ustrd") or info,
                creditor_reference=found.get("RmtInf/Strd/CdtrRefInf/Ref") or None,
                end_to_end_id=none_if_placeholder(found.get("Refs/EndToEndId")),
                mandate_reference=none_if_placeholder(found.get("Refs/MndtId")),
                counterparty_name=name, counterparty_iban=iban, counterparty_bic=bic,
                bank_code=_bank_code(found) or entry_code, is_return=returned,
                return_reason=found.get("RtrInf/Rsn/Cd") or found.get("RtrInf/Rsn/Prtry") or None,
                **common))  # type: ignore[arg-type]
        return lines

    def _text(self, element: etree._Element, path: str) -> str | None:
        found = element.find(self.q(path))
        if found is None or found.text is None:
            return None
        return found.text.strip() or None


def _detail_amount(values: dict[str, str], where: str) -> Decimal | None:
    for path in ("Amt", "AmtDtls/TxAmt/Amt", "AmtDtls/InstdAmt/Amt"):
        if values.get(path):
            return _amount(values[path], where)
    return None


def _counterparty(values: dict[str, str], direction: Direction,
                  returned: bool) -> tuple[str | None, str | None, str | None]:
    """The other side: the debtor of money that came in, the creditor of money that went out; for a
    returned direct debit the debtor of the original collection (the customer)."""
    side = "Dbtr" if (direction == "credit") != returned else "Cdtr"
    name = (values.get(f"RltdPties/{side}/Nm") or values.get(f"RltdPties/{side}/Pty/Nm")
            or values.get(f"RltdPties/Ultmt{side}/Nm") or values.get(f"RltdPties/Ultmt{side}/Pty/Nm"))
    iban = values.get(f"RltdPties/{side}Acct/Id/IBAN")
    agent = f"RltdAgts/{side}Agt/FinInstnId"
    bic = values.get(f"{agent}/BICFI") or values.get(f"{agent}/BIC")
    return name or None, iban.replace(" ", "").upper() if iban else None, bic or None


def _bank_code(values: dict[str, str]) -> str | None:
    domain = values.get("BkTxCd/Domn/Cd")
    if domain:
        parts = (domain, values.get("BkTxCd/Domn/Fmly/Cd"), values.get("BkTxCd/Domn/Fmly/SubFmlyCd"))
        return "/".join(part for part in parts if part)
    return values.get("BkTxCd/Prtry/Cd") or None


def _amount(text: str | None, where: str) -> Decimal:
    if text is None or not AMOUNT.match(text.strip()):
        raise StatementFormatError(f"{where}: amount {text!r} is not a positive decimal with a point")
    try:
        return Decimal(text.strip())
    except InvalidOperation:  # pragma: no cover - the pattern already refuses it
        raise StatementFormatError(f"{where}: amount {text!r} is not a number") from None


def _direction(text: str | None, where: str) -> Direction:
    if text == "CRDT":
        return "credit"
    if text == "DBIT":
        return "debit"
    raise StatementFormatError(f"{where}: CdtDbtInd {text!r} is neither CRDT nor DBIT")


def _date_part(text: str | None, where: str, element: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise StatementFormatError(f"{where}: {element} {text!r} is not a date") from None


def _datetime(text: str | None, where: str, element: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise StatementFormatError(f"{where}: {element} {text!r} is not a date and time") from None
