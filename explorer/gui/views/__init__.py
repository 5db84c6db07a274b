"""One module per panel; each deals only in numpy arrays and the dataclasses of explorer.protocol."""
