"""The catalog: products and services, price lists with tiers, customers' special conditions."""
