"""Persistence adapter: SQLAlchemy 2 tables, repositories, the unit of work and Alembic migrations.

SQLite is the embedded default; PostgreSQL is the production target (row locks and
``SELECT … FOR UPDATE SKIP LOCKED`` for batch work). Nothing above ``store`` imports SQLAlchemy.
"""
