"""The `inertial` command line: one module per command group, all on `control.cli.console` for output and errors."""
