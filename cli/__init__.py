"""The `kontor` command: the entry points that start Kontor's processes (the API server, the
worker, the embedded all-in-one start, user administration, migrations). It sits on top: it builds
Kontor through the wiring (kontor.bootstrap) and starts the API and the flows."""
