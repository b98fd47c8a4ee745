"""The sorted P&L of one portfolio and the exact k worst P&L after an order (the historical tail search).

:func:`build_tail` sorts the T portfolio P&L rows once (O(T log T)); :func:`historical_tail` then finds
the k worst P&L after an order that changes one or two factor exposures:

* the rows worst *now* bound the new k-th worst P&L from above (``U``), and a row's P&L moves by at most
  ``B = Σ|δ_j|·max|r_j|``, so only rows with P&L at most ``U + B`` can reach the tail;
* they are a prefix of the rows sorted by P&L; of those, only rows whose new P&L is at most ``U`` are kept
  and sorted. Exact, not approximate, and usually a few dozen rows.

The result is the list of the k smallest new P&L values (ascending), whatever the order of rows with equal
P&L: every candidate's new P&L is computed the same way (``p + c·δ₀ [+ e·δ₁]``) in both branches.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from gekko_agent.risk.snapshot import FloatArray

__all__ = ["SortedTail", "build_tail", "historical_tail"]

_PY_ROWS = 48  # candidate rows beyond the tail priced with Python floats (numpy past that)


@dataclass(frozen=True, slots=True)
class SortedTail:
    """The P&L rows of a portfolio sorted worst first, with the factor returns in the same order.

    Attributes:
        k: rows in the tail.
        head: the k worst P&L now (ascending).
        head_columns: per factor, its returns on those k rows.
        sorted_list: every row's P&L, ascending (for bisection).
        neg_loss_sorted: the same as an array.
        sorted_columns: N × T returns with the rows in that order.
    """

    k: int
    head: list[float]
    head_columns: list[list[float]]
    sorted_list: list[float]
    neg_loss_sorted: FloatArray
    sorted_columns: FloatArray


def build_tail(pnl: FloatArray, columns: FloatArray, k: int) -> SortedTail:
    """Sort ``pnl`` (one value per row of ``columns``, N × T) and keep the ``k`` worst rows apart."""
    order = np.argsort(pnl, kind="stable")  # worst P&L (largest loss) first
    sorted_columns = np.ascontiguousarray(columns[:, order])
    srt = pnl[order]
    return SortedTail(
        k=k,
        head=srt[:k].tolist(),
        head_columns=sorted_columns[:, :k].tolist(),
        sorted_list=srt.tolist(),
        neg_loss_sorted=srt,
        sorted_columns=sorted_columns,
    )


def historical_tail(tail: SortedTail, legs: list[int], deltas: list[float], bound: float) -> list[float]:
    """The k worst P&L (ascending) after adding ``deltas`` to factors ``legs`` (see the module).

    Few candidates (the usual case) are priced with Python floats, many with numpy.
    """
    k, d0, a0 = tail.k, deltas[0], legs[0]
    two = len(legs) > 1
    d1, a1 = (deltas[1], legs[1]) if two else (0.0, a0)
    if two:
        h0, h1 = tail.head_columns[a0], tail.head_columns[a1]
        worst = [p + c * d0 + e * d1 for p, c, e in zip(tail.head, h0, h1, strict=True)]
    else:
        worst = [p + c * d0 for p, c in zip(tail.head, tail.head_columns[a0], strict=True)]
    upper = max(worst)  # the new k-th worst P&L is at most this
    reach = upper + bound
    n = bisect_right(tail.sorted_list, reach + 1e-9 * (abs(reach) + bound))
    if n - k > _PY_ROWS:
        x = tail.neg_loss_sorted[k:n] + tail.sorted_columns[a0, k:n] * d0
        if two:
            x += tail.sorted_columns[a1, k:n] * d1
        sel = x[x <= upper]
        if sel.shape[0] > _PY_ROWS:  # a large move (e.g. closing the position): select, do not sort all
            sel = np.partition(sel, k - 1)[:k]
        worst += sel.tolist()
    elif n > k:
        rows, c0 = tail.sorted_list[k:n], tail.sorted_columns[a0, k:n].tolist()
        if two:
            c1 = tail.sorted_columns[a1, k:n].tolist()
            more = [p + c * d0 + e * d1 for p, c, e in zip(rows, c0, c1, strict=True)]
        else:
            more = [p + c * d0 for p, c in zip(rows, c0, strict=True)]
        worst += [v for v in more if v <= upper]
    worst.sort()
    return worst[:k]
