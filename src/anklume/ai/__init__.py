"""Exclusive access to the ``ai-tools`` domain: who holds it, and moving it live."""
