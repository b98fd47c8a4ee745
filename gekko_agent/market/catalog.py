"""The catalog of real market data shipped with Gekko (files under ``gekko_agent/data``).

Every dataset is a real venue's (or data vendor's) bars, kept byte for byte as published and only
gzip-compressed; ``data/README.md`` credits each source and describes rows, range and gaps. The row
counts and ranges here are the documented facts the tests hold the files to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from gekko_agent.domain.instruments import AssetClass, InstrumentId, instrument_id
from gekko_agent.errors import DataNotFound

__all__ = ["DATASETS", "Dataset", "data_dir", "get_dataset", "list_datasets"]

_IAQF = "Binance.US public API, via GitHub cl8550-crypto/iaqf_analysis (data/binance/raw)"
_IAQF_TERMS = "the repository states no licence; Binance.US terms of use apply to the data"
_KRAKEN = "Kraken public API, via GitHub cl8550-crypto/iaqf_analysis (data/kraken/raw)"
_KRAKEN_TERMS = "the repository states no licence; Kraken terms of use apply to the data"
_ANYTRADING = "gym-anytrading 2.0.0 on PyPI, FOREX_EURUSD_1H_ASK.csv (Dukascopy export format)"
_ANYTRADING_TERMS = (
    "shipped under the MIT licence, (c) 2019 Mohammad Amin Haghpanah (data/LICENSE-gym-anytrading.txt); "
    "the original vendor's terms may apply"
)


@dataclass(frozen=True, slots=True)
class Dataset:
    """One bundled file of bars.

    Attributes:
        name: catalog name, ``<venue>-<pair>-<interval>`` (``binanceus-btcusd-1m``).
        venue: the venue the bars stand for; with ``symbol`` it makes the instrument id.
        symbol: canonical ``BASE/QUOTE``.
        asset_class: crypto spot or FX.
        interval: bar length in seconds.
        file: file name inside the data folder.
        rows: number of bars in the file.
        start: open time of the first bar (UTC).
        end: open time of the last bar (UTC).
        source: where the prices come from (short credit).
        terms: under which licence or terms they are shipped.
        notes: what a user should know (gaps, side of the book, quirks).
    """

    name: str
    venue: str
    symbol: str
    asset_class: AssetClass
    interval: int
    file: str
    rows: int
    start: datetime
    end: datetime
    source: str
    terms: str
    notes: str = ""

    @property
    def instrument_id(self) -> InstrumentId:
        """``SYMBOL@venue``, e.g. ``BTC/USD@binanceus``."""
        return instrument_id(self.symbol, self.venue)

    @property
    def path(self) -> Path:
        """Where the file is on disk (source tree or installed wheel)."""
        return data_dir() / self.file


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        name="binanceus-btcusd-1m",
        venue="binanceus",
        symbol="BTC/USD",
        asset_class=AssetClass.CRYPTO_SPOT,
        interval=60,
        file="binanceus_BTCUSD_1m_2023-03-01_2023-03-21.csv.gz",
        rows=30_240,
        start=_utc("2023-03-01 00:00"),
        end=_utc("2023-03-21 23:59"),
        source=_IAQF,
        terms=_IAQF_TERMS,
        notes="every minute present; 72 minutes with zero volume",
    ),
    Dataset(
        name="binanceus-btcusdt-1m",
        venue="binanceus",
        symbol="BTC/USDT",
        asset_class=AssetClass.CRYPTO_SPOT,
        interval=60,
        file="binanceus_BTCUSDT_1m_2023-03-01_2023-03-21.csv.gz",
        rows=30_240,
        start=_utc("2023-03-01 00:00"),
        end=_utc("2023-03-21 23:59"),
        source=_IAQF,
        terms=_IAQF_TERMS,
        notes="every minute present; 658 minutes with zero volume",
    ),
    Dataset(
        name="binanceus-btcusdc-1m",
        venue="binanceus",
        symbol="BTC/USDC",
        asset_class=AssetClass.CRYPTO_SPOT,
        interval=60,
        file="binanceus_BTCUSDC_1m_2023-03-01_2023-03-21.csv.gz",
        rows=30_240,
        start=_utc("2023-03-01 00:00"),
        end=_utc("2023-03-21 23:59"),
        source=_IAQF,
        terms=_IAQF_TERMS,
        notes="every minute present; 12,971 minutes with zero volume (thin market); USDC depeg 2023-03-10/11",
    ),
    Dataset(
        name="kraken-btcusdc-1m",
        venue="kraken",
        symbol="BTC/USDC",
        asset_class=AssetClass.CRYPTO_SPOT,
        interval=60,
        file="kraken_BTCUSDC_1m_2023-01-01_2023-03-31.csv.gz",
        rows=56_717,
        start=_utc("2023-01-01 00:00"),
        end=_utc("2023-03-31 23:59"),
        source=_KRAKEN,
        terms=_KRAKEN_TERMS,
        notes="only minutes with trades (sparse: gaps are minutes without a trade); Jan-Mar 2023",
    ),
    Dataset(
        name="oanda-eurusd-1h",
        venue="oanda",
        symbol="EUR/USD",
        asset_class=AssetClass.FX,
        interval=3600,
        file="FOREX_EURUSD_1H_ASK_2017.csv.gz",
        rows=6_225,
        start=_utc("2017-01-01 22:00"),
        end=_utc("2017-12-29 21:00"),
        source=_ANYTRADING,
        terms=_ANYTRADING_TERMS,
        notes=(
            "ask prices, UTC; no bars from Friday ~21:00 to Sunday ~21:00 nor on 2017-12-25 08:00-21:00; "
            "not OANDA's own prices: stands in for EUR/USD@oanda in replays"
        ),
    ),
)
"""Every bundled dataset, in display order."""

_BY_NAME = {d.name: d for d in DATASETS}


def list_datasets() -> tuple[Dataset, ...]:
    """Every bundled dataset."""
    return DATASETS


def get_dataset(name: str) -> Dataset:
    """The dataset called ``name`` (case-insensitive).

    Raises:
        DataNotFound: no such dataset; the message lists the known names.
    """
    found = _BY_NAME.get(name.strip().lower())
    if found is None:
        raise DataNotFound(f"no dataset {name!r}; known: {', '.join(_BY_NAME)} (see `gekko data list`)")
    return found


def data_dir() -> Path:
    """The bundled data folder: ``gekko_agent/data`` (a link to the repository's ``data/`` in a checkout).

    Raises:
        DataNotFound: the package is imported from a zip, so its data is not on the filesystem.
    """
    folder = resources.files("gekko_agent") / "data"
    if not isinstance(folder, Path):
        raise DataNotFound(f"bundled market data is not on the filesystem ({folder}); install Gekko unzipped")
    return folder
