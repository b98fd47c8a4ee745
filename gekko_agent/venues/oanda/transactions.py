"""The OANDA account's transaction stream, as far as orders need it: fills and cancel reasons.

OANDA reports an order's executions as ``ORDER_FILL`` transactions and why it ended as an
``ORDER_CANCEL`` transaction. :class:`TransactionBook` follows the stream with ``sinceid`` from the
last transaction id the account had when the venue started (so a long account history is never
replayed), absorbs the transactions a create-order answer carries, and fetches older ones by id
when an order names them. Transactions never change, so everything absorbed is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gekko_agent.domain.instruments import InstrumentId
from gekko_agent.domain.orders import Fill
from gekko_agent.errors import InvariantViolation
from gekko_agent.venues.oanda import wire
from gekko_agent.venues.oanda._v20 import accounts
from gekko_agent.venues.oanda._v20 import transactions as tx_endpoints
from gekko_agent.venues.oanda.client import OandaClient, OandaRequestError

__all__ = ["TransactionBook"]

_MAX_PAGES = 1000  # sinceid answers at most 1000 transactions a page


class TransactionBook:
    """Fills and cancel transactions per OANDA order id.

    Args:
        client: the account's transport.
        account_id: the v20 account id.
        to_iid: maps OANDA's ``EUR_USD`` to our instrument id.
    """

    def __init__(self, client: OandaClient, account_id: str, to_iid: Callable[[str], InstrumentId]) -> None:
        self._client = client
        self._account = account_id
        self._to_iid = to_iid
        self._cursor: str | None = None
        self._currency: str | None = None
        self._seen: set[str] = set()
        self._fills: dict[str, dict[str, Fill]] = {}
        self._cancels: dict[str, dict[str, Any]] = {}

    async def summary(self) -> dict[str, Any]:
        """The account summary (``GET /summary``); remembers the home currency and, the first time,
        the last transaction id as the point the stream is followed from."""
        body = await self._client.request(accounts.AccountSummary(self._account))
        account = dict(body["account"])
        self._currency = str(account["currency"])
        if self._cursor is None:
            self._cursor = str(account.get("lastTransactionID", "0"))
        return account

    async def start(self) -> None:
        """Fix the point the stream is followed from (the account's last transaction id), once."""
        if self._cursor is None:
            await self.summary()

    def absorb(self, transactions: Iterable[Mapping[str, Any] | None]) -> list[Fill]:
        """Record fills and cancels among ``transactions``; returns the fills, in order."""
        if self._currency is None:
            raise InvariantViolation("oanda: transactions absorbed before the account currency is known")
        fills: list[Fill] = []
        for tx in transactions:
            if not tx or "id" not in tx:
                continue
            tid, kind = str(tx["id"]), tx.get("type")
            order_id = str(tx.get("orderID", ""))
            if kind == "ORDER_FILL":
                cid = str(tx.get("clientOrderID") or order_id)
                fill = wire.parse_fill(tx, self._to_iid(str(tx["instrument"])), cid, self._currency)
                self._fills.setdefault(order_id, {})[tid] = fill
                fills.append(fill)
            elif kind == "ORDER_CANCEL" and tid not in self._seen:
                self._cancels[order_id] = dict(tx)
            self._seen.add(tid)
        return fills

    def fills_of(self, order_id: str) -> tuple[Fill, ...]:
        """Fills of one OANDA order, oldest first."""
        by_id = self._fills.get(order_id, {})
        return tuple(by_id[k] for k in sorted(by_id, key=int))

    def cancel_of(self, order_id: str) -> dict[str, Any] | None:
        """The ``ORDER_CANCEL`` transaction of one order, when it was cancelled."""
        return self._cancels.get(order_id)

    async def _since(self, start: str) -> tuple[list[Fill], str]:
        fills: list[Fill] = []
        cursor = start
        for _ in range(_MAX_PAGES):
            body = await self._client.request(
                tx_endpoints.TransactionsSinceID(self._account, params={"id": cursor})
            )
            page = [t for t in body.get("transactions", ()) if int(t["id"]) > int(cursor)]
            if not page:
                break
            fills.extend(self.absorb(page))
            cursor = str(page[-1]["id"])
            if int(cursor) >= int(body.get("lastTransactionID", cursor)):
                break
        if self._cursor is not None and int(start) <= int(self._cursor) < int(cursor):
            self._cursor = cursor
        return fills, cursor

    async def catch_up(self) -> None:
        """Absorb every transaction after the cursor."""
        await self.start()
        assert self._cursor is not None
        await self._since(self._cursor)

    async def fills_after(self, start: str) -> tuple[list[Fill], str]:
        """Fills in transactions after id ``start``, and the id of the last transaction read."""
        if self._currency is None:
            await self.summary()
        return await self._since(start)

    async def fetch(self, *transaction_ids: object) -> None:
        """Fetch and absorb named transactions not seen yet (ignores None and unknown ids)."""
        for raw in transaction_ids:
            tid = str(raw) if raw else ""
            if not tid or tid in self._seen:
                continue
            try:
                body = await self._client.request(tx_endpoints.TransactionDetails(self._account, tid))
            except OandaRequestError:
                continue
            self.absorb([body.get("transaction")])
