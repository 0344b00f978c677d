"""E-mail in and out: the transactional outbox and the IMAP intake (see DESIGN.md §3)."""
