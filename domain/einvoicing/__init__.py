"""E-invoices (EN 16931): see module.py."""
