"""One pace for Share requests across all entries of one Home Assistant."""

from dataclasses import dataclass
from datetime import datetime
import math
from typing import Final

# Seconds past its handed second after which an absent held-back entry loses its place.
PACER_GRACE: Final = 5


@dataclass(slots=True)
class _Waiting:
    """An entry held back: the requests it will send and the second it was handed."""

    requests: int
    handed: int


class SharePacer:
    """At most `per_second` Share requests in any one second, for all entries together.

    One per Home Assistant, asked before every read with the requests that read will
    send. An entry held back is not made to wait in place (a wait could outlive an
    unload): it is handed a later second and keeps its place in line, first come,
    first served, however early or late its refresh comes back. Each ask hands every
    entry in line, in order, the earliest second with room; an entry is let through
    when that is the current second. So an entry late for its second goes in the
    second it comes back, before any entry that asked after it, and one that never
    comes back stops holding the others `PACER_GRACE` seconds after its second.
    """

    def __init__(self, per_second: int = 3) -> None:
        """No requests yet."""
        self.per_second = per_second
        self._sent: dict[int, int] = {}
        """Requests let through per whole second (epoch), from the current one on."""
        self._line: dict[str, _Waiting] = {}
        """Entries held back, first come first."""
        self._second = 0
        """The latest second asked in."""

    def admit(self, entry_id: str, now: datetime, requests: int) -> datetime | None:
        """Count `requests` for now and return None, or the start of the second handed."""
        second = math.floor(now.timestamp())
        if second < self._second:
            # The clock went back: seconds counted and handed are not to come soon.
            self._sent.clear()
            for waiting in self._line.values():
                waiting.handed = second
        self._second = second
        self._sent = {at: count for at, count in self._sent.items() if at >= second}
        self._line = {
            waiting_id: waiting
            for waiting_id, waiting in self._line.items()
            if waiting.handed >= second - PACER_GRACE or waiting_id == entry_id
        }
        requests = max(1, min(requests, self.per_second))
        waiting = self._line.setdefault(entry_id, _Waiting(requests, second))
        waiting.requests = requests
        at = self._handed(entry_id, second)
        if at == second:
            del self._line[entry_id]
            self._sent[second] = self._sent.get(second, 0) + requests
            return None
        waiting.handed = at
        return datetime.fromtimestamp(at, now.tzinfo)

    def _handed(self, entry_id: str, second: int) -> int:
        """The second the entry gets when everyone ahead of it gets theirs first."""
        room: dict[int, int] = {}
        at = second
        for waiting_id, waiting in self._line.items():
            at = second
            while room.setdefault(at, self.per_second - self._sent.get(at, 0)) < waiting.requests:
                at += 1
            room[at] -= waiting.requests
            if waiting_id == entry_id:
                break
        return at

    def release(self, entry_id: str) -> None:
        """Give up the entry's place in line (it is unloaded)."""
        self._line.pop(entry_id, None)

    def charge(self, entry_id: str, now: datetime, requests: int) -> None:
        """Count requests sent now without asking (held back too long): others wait for them."""
        self._line.pop(entry_id, None)
        second = math.floor(now.timestamp())
        self._sent[second] = self._sent.get(second, 0) + max(1, requests)
