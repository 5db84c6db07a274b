"""A non-modal message strip at the top of the window: errors and notices, dismissable."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

STYLES = {
    "error": "background: #f8d7da; color: #58151c; border: 1px solid #f1aeb5;",
    "notice": "background: #fff3cd; color: #664d03; border: 1px solid #ffe69c;",
}


class MessageBanner(QFrame):
    """Shows the latest message; earlier ones stay listed in its tooltip until dismissed."""

    def __init__(self) -> None:
        super().__init__()
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        close = QToolButton(text="✕", autoRaise=True, toolTip="Dismiss")
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignTop)
        self.messages: list[str] = []
        self.hide()

    def show_message(self, text: str, level: str = "error") -> None:
        self.messages.append(text)
        self.label.setText(text if len(self.messages) == 1 else f"{text}   (+{len(self.messages) - 1} earlier)")
        self.setToolTip("\n".join(self.messages))
        self.setStyleSheet(f"MessageBanner {{ {STYLES[level]} border-radius: 4px; }}")
        self.show()

    def text(self) -> str:
        return self.messages[-1] if self.messages else ""

    def dismiss(self) -> None:
        self.messages.clear()
        self.hide()
