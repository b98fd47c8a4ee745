"""Composition root: modes (backtest, paper, live) are chosen here by wiring clock, feed and venue."""
