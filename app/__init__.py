"""Gembalog: journey logging for the customer gemba."""

__version__ = "0.1.0"
