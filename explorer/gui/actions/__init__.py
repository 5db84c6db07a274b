"""Mixins of the main window: opening files, and acting on the current code."""
