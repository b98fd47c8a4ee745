"""Gekko: an autonomous trading agent whose every order passes a deterministic risk engine."""

__version__ = "0.1.0"
