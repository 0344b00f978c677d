"""Letters: the business letter every document to a customer is printed as (offer, order
confirmation, invoice, credit note, dunning letter). One look, one template, one stylesheet, one
renderer that fetches nothing but its own assets; each document fills in its heading, lines, totals
and notes."""
