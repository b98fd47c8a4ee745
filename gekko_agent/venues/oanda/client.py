"""The OANDA v20 transport: oandapyV20 requests run off the event loop, errors translated at the edge.

oandapyV20 is synchronous (``requests``), so every call runs in a worker thread through
:func:`asyncio.to_thread`. What comes back is either the decoded JSON body or one of our errors:

* no answer (timeout, connection reset, a body that is not JSON, an unexpected 2xx status) and
  any 5xx → :class:`~gekko_agent.errors.VenueUnavailable`;
* 429 → :class:`~gekko_agent.errors.RateLimited`, carrying the ``Retry-After`` header;
* any other 4xx → :class:`OandaRequestError` with the status, OANDA's ``errorCode`` and the body,
  for the venue to turn into a rejected order, a ``DataNotFound`` or an ``OrderNotFound``.

The access token lives only in the oandapyV20 session headers; it is never logged or repr'd.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import requests

from gekko_agent.errors import InvalidInput, RateLimited, VenueRejected, VenueUnavailable
from gekko_agent.venues.oanda._v20 import APIRequest, oandapyV20

__all__ = ["OandaClient", "OandaConfig", "OandaRequestError"]

_PRACTICE = "https://api-fxpractice.oanda.com"
_LIVE = "https://api-fxtrade.oanda.com"


@dataclass(frozen=True, slots=True)
class OandaConfig:
    """How to reach one OANDA v20 account.

    Attributes:
        account_id: the v20 account id (``101-001-1234567-001``).
        token: the personal access token (from the environment; never logged).
        api_url: REST base URL: practice, live, or a loopback simulator.
        stream_url: streaming base URL (unused by the REST adapter, kept for oandapyV20).
        name: venue name used in instrument ids.
        timeout_s: per-request timeout; a submit that times out is looked up before any resend.
        submit_attempts: how many times a submit is sent when the venue does not answer.
        max_client_order_id_length: longest client order id sent as ``clientExtensions.id``.
    """

    account_id: str
    token: str = field(repr=False)
    api_url: str = _PRACTICE
    stream_url: str = ""
    name: str = "oanda"
    timeout_s: float = 10.0
    submit_attempts: int = 3
    max_client_order_id_length: int = 64

    def __post_init__(self) -> None:
        if not self.account_id or not self.token:
            raise InvalidInput("oanda: account_id and token are required")
        if self.timeout_s <= 0 or self.submit_attempts < 1:
            raise InvalidInput("oanda: timeout_s must be > 0 and submit_attempts >= 1")

    @classmethod
    def live(cls, account_id: str, token: str) -> OandaConfig:
        """A config for the live (fxTrade) environment."""
        return cls(account_id, token, api_url=_LIVE)


class OandaRequestError(VenueRejected):
    """OANDA answered a 4xx other than 429.

    Args:
        status: the HTTP status.
        body: the decoded JSON body (empty when it was not JSON).
    """

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        self.error_code = str(body.get("errorCode", ""))
        message = str(body.get("errorMessage", "")) or f"HTTP {status}"
        super().__init__(f"oanda {status} {self.error_code}: {message}".replace("  ", " "))


_env_lock = threading.Lock()
_retry_after = threading.local()


def _remember_retry_after(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    """A requests hook: keep a 429's ``Retry-After`` where the calling thread can read it."""
    _retry_after.value = response.headers.get("Retry-After") if response.status_code == 429 else None


def _register_environment(api_url: str, stream_url: str) -> str:
    """Name an oandapyV20 trading environment for ``api_url`` (oandapyV20 keys URLs by name)."""
    name = f"gekko:{api_url.rstrip('/')}"
    with _env_lock:
        oandapyV20.oandapyV20.TRADING_ENVIRONMENTS.setdefault(
            name, {"api": api_url.rstrip("/"), "stream": (stream_url or api_url).rstrip("/")}
        )
    return name


def _json_body(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _seconds(raw: str | None) -> float | None:
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


class OandaClient:
    """Runs oandapyV20 endpoint requests for one account and translates their failures.

    Args:
        config: account, token, URL and timeout.
    """

    def __init__(self, config: OandaConfig) -> None:
        self._config = config
        env = _register_environment(config.api_url, config.stream_url)
        self._api = oandapyV20.API(
            access_token=config.token,
            environment=env,
            request_params={"timeout": config.timeout_s},
        )
        self._api.client.hooks["response"].append(_remember_retry_after)

    def __repr__(self) -> str:
        return f"OandaClient(account_id={self._config.account_id!r}, api_url={self._config.api_url!r})"

    async def request(self, endpoint: APIRequest) -> dict[str, Any]:
        """Send ``endpoint`` and return its JSON body, or raise one of our errors."""
        return await asyncio.to_thread(self._request, endpoint)

    def _request(self, endpoint: APIRequest) -> dict[str, Any]:
        what = f"oanda {endpoint.method} {endpoint}"
        try:
            body = self._api.request(endpoint)
        except oandapyV20.V20Error as err:
            raise self._translate(int(err.code), str(err.msg), what) from None
        except requests.Timeout:
            raise VenueUnavailable(f"{what}: no answer within {self._config.timeout_s}s") from None
        except requests.RequestException as err:
            raise VenueUnavailable(f"{what}: {type(err).__name__}") from None
        except ValueError as err:  # a body that is not JSON, or a status oandapyV20 did not expect
            raise VenueUnavailable(f"{what}: unusable answer ({err})") from None
        if not isinstance(body, dict):
            raise VenueUnavailable(f"{what}: answer is not a JSON object")
        return body

    def _translate(self, status: int, text: str, what: str) -> Exception:
        body = _json_body(text)
        message = str(body.get("errorMessage", "")) or text[:200]
        if status == 429:
            retry_after = _seconds(getattr(_retry_after, "value", None))
            return RateLimited(f"{what}: rate limited ({message})", retry_after)
        if status >= 500:
            return VenueUnavailable(f"{what}: HTTP {status} {message}")
        return OandaRequestError(status, body or {"errorMessage": message})

    async def close(self) -> None:
        """Close the HTTP session."""
        await asyncio.to_thread(self._api.close)
