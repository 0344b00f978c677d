"""Accounting hand-over: bookings of invoices, credit notes, payments and Skonto as a DATEV
Buchungsstapel for the tax advisor. Pure: rows from dataclasses, the file as bytes."""
