"""Utilities: input validation, FLOP counts."""
