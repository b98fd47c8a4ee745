"""The oandapyV20 modules the adapter uses, imported once with their compile warnings silenced.

oandapyV20 0.7.2 has regex literals with invalid escapes (``'\\['``); Python reports them as a
``SyntaxWarning`` while compiling, which a ``filterwarnings = error`` test run turns into a
``SyntaxError``. Importing through this module keeps that out of every caller.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", SyntaxWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    import oandapyV20
    from oandapyV20.endpoints import accounts, instruments, orders, positions, pricing, transactions
    from oandapyV20.endpoints.apirequest import APIRequest

__all__ = [
    "APIRequest",
    "accounts",
    "instruments",
    "oandapyV20",
    "orders",
    "positions",
    "pricing",
    "transactions",
]
