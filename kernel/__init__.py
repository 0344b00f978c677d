"""The ground floor of Kontor: what every other package builds on and what imports nothing of
Kontor itself: errors, who is acting (principal and groups), time, money, the declarative base and
database access, lists and pages, private files, settings infrastructure."""
