"""The ``anklume`` command line: one module per command group."""
