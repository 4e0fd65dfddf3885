"""A local Dexcom Share server for tests, benchmarks and the demo.

It speaks the three endpoints pydexcom uses, with Share's real error bodies, its
LOW/HIGH encoding and its quirks, and can be told to misbehave in every way the
reference (`share-protocol.md`) records. Its clock is `time.time()`, so tests that
freeze or move time move the simulator with them.
"""

from .model import Account, Fault, Reading, RecordFormat, ShareState
from .server import ShareSimulator
from .trace import TraceProfile, generate_trace, trend_for_slope

__all__ = [
    "Account",
    "Fault",
    "Reading",
    "RecordFormat",
    "ShareSimulator",
    "ShareState",
    "TraceProfile",
    "generate_trace",
    "trend_for_slope",
]
