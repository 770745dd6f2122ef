"""Finding the same question on Polymarket and Kalshi."""
