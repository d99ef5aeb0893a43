"""The store: SQLModel tables, the async engine (SQLite or PostgreSQL), sessions and migrations."""
