"""Dunning: reminders and dunning letters for overdue invoices, default interest, hand-over."""
