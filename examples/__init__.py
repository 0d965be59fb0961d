"""Worked examples from the documentation; each one runs as a test."""
