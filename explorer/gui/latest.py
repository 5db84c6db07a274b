"""`Latest`: the one stale-answer rule of the GUI (GUI thread only).

Per view key it remembers the id of the newest request sent and of the newest one answered; an
answer to anything older is stale and dropped. `is_idle()` is true once every key's newest request
has been answered (or given up), which is what screenshots wait for.
"""

from __future__ import annotations

import itertools

from explorer.protocol import ViewKey


class Latest:
    def __init__(self, ids: itertools.count[int]) -> None:
        self._ids = ids
        self._sent: dict[ViewKey, int] = {}
        self._answered: dict[ViewKey, int] = {}

    def next_id(self, key: ViewKey) -> int:
        """A fresh request id for `key`; any answer to an earlier request for it becomes stale."""
        self._sent[key] = request_id = next(self._ids)
        return request_id

    def wants(self, key: ViewKey, request_id: int) -> bool:
        """True when `request_id` is the newest request sent for `key`."""
        return self._sent.get(key) == request_id

    def accept(self, key: ViewKey, request_id: int) -> bool:
        """Mark `key` answered if this is its newest request; False (drop it) otherwise."""
        if not self.wants(key, request_id):
            return False
        self._answered[key] = request_id
        return True

    def give_up(self, key: ViewKey) -> None:
        """No answer is wanted for `key` any more (cancelled): it no longer keeps the view busy."""
        if key in self._sent:
            self._answered[key] = self._sent[key]

    def waiting(self, key: ViewKey) -> bool:
        """A request for `key` was sent and its answer has not come."""
        return key in self._sent and self._answered.get(key) != self._sent[key]

    def keys(self) -> list[ViewKey]:
        return list(self._sent)

    def is_idle(self) -> bool:
        return not any(self.waiting(key) for key in self._sent)
