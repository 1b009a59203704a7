"""The wallet backend: one interface, a seeded SQLite sandbox, and (later) an HTTP client."""
