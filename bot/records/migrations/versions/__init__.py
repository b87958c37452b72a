"""Revision scripts, loaded by Alembic from their files (their names start with a digit)."""
