"""Letters: the business letter every document to a customer is printed as (offer, order
confirmation, invoice, credit note, dunning letter). One look, one template, one stylesheet, one
renderer that fetches nothing but its own assets; each document fills in its heading, lines, totals
and notes.

How a document is written (the offer in domain/offers/document.py is the example):

    from domain.letters.render import environment, render_pdf
    _TEMPLATES = environment(Path(__file__).parent / "templates")  # its own folder first
    html = _TEMPLATES.get_template("invoice.html").render(**context)  # {% extends "letter.html" %}
    pdf = render_pdf(html, pdf_variant="pdf/a-3b")  # outside any transaction

The blocks of `letter.html` a document may fill: `title`, `info` (the rows of the info block beside
the address), `heading`, `intro`, `lines`, `totals`, `notes`, `closing`. The context it needs:

- from `context.letter_context(session, settings, record, lang, salesperson_username)`: `lang`,
  `company`, `company_country`, `customer`, `billing`, `contact`, `salutation`, `site`, `delivery`,
  `salesperson`;
- `t`: the words (`texts.words({...})[lang]`: the letter's and the document's own);
- `title` (the PDF's title), `heading`, `meta` (list of (label, value): the document's rows of the
  info block, e.g. number and date), `intro` and `closing` (text or None);
- `lines` (list of dicts: `position`, `name`, `sku`, `description` (either may be None), `quantity`,
  `unit_price`, `discount`, `tax_rate`, `net`, and `period` with the period column: formatted texts)
  and `columns` (`columns.line_columns(lines, t, period=…, discount=…)`);
- `totals` (`context.totals_context(...)`) and `notes` (list of texts: payment terms, Skonto, legal
  notes) unless the document's template fills those blocks itself.
"""
