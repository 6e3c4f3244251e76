"""Persistence: SQLAlchemy 2 Core tables, engines, migrations and repositories.

SQLite (WAL) is the embedded default; PostgreSQL through psycopg 3 behaves identically.
"""
