"""Orders: what an accepted offer becomes."""
