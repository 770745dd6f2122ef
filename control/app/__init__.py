"""The application layer: what every front end (CLI, REST, Telegram, web) may do.

Typed operations scoped to a tenant; front ends only call these."""
