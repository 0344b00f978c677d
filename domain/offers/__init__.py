"""Offers (quotes): priced from the customer's defaults, approved by rules, rendered, sent, answered."""
