"""Re-export of :mod:`gekko_agent.secrets` (secret references live outside the config package so that
section models in other packages can use them without importing the whole config)."""

from gekko_agent.secrets import SecretRef, redact

__all__ = ["SecretRef", "redact"]
