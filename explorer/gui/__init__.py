"""The GUI thread: PySide6, pyqtgraph, superqt and numpy, never torch. Talks to the engine through explorer.protocol."""
