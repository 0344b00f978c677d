"""The customer center: customers, sites, addresses, contacts (and, as it grows, leads,
opportunities, catalog and traces)."""
