"""Finding the same question on Polymarket and Kalshi, and the store of the pairs found.

Shared by arbitrage and copy trading (a cross-venue copy goes to the confirmed twin)."""
