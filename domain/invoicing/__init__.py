"""Invoicing: invoices, down-payment invoices and credit notes, from draft to issue."""
