"""Finding the same question on Polymarket and Kalshi, and the store of the pairs found (shared by arbitrage and copy trading)."""
