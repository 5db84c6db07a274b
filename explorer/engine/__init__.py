"""The worker thread: torch, checkpoints, trainer's data sets and metrics; and the headless command path."""
