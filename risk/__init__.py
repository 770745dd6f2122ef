"""The risk domain: pre-trade checks, circuit breaker, kill-switch gate and P&L, all exact Decimal."""
