"""The Telegram front end: python-telegram-bot handlers that only call the application layer."""
