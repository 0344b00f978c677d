"""Payments: bank statements read (CAMT.053, MT940), matched to open items, and SEPA direct debits
written (pain.008). Pure: no database and no HTTP; the invoicing records call these functions."""
