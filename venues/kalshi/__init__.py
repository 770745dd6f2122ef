"""Kalshi venue: request signing, wire parsing, book maintenance, REST client and WebSocket stream."""
