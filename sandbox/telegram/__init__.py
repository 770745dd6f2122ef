"""A local Telegram Bot API server with the real JSON shapes, and an admin side that plays the human."""
