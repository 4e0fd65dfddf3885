"""Run the simulator on its own: `python -m share_simulator --port 8125`.

It serves one demo account with 24 hours of history and readings that keep arriving
every five minutes (with realistic upload delays) for the next days.
"""

import argparse
import signal
import time

from .model import ShareState
from .server import ShareSimulator
from .trace import TraceProfile, generate_trace

DEMO_USERNAME = "demo@example.com"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - the simulator's published demo login
# A second sharer, to show more than one account in Home Assistant.
SECOND_USERNAME = "alex@example.com"


def main() -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8125)
    parser.add_argument("--username", default=DEMO_USERNAME)
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--days", type=float, default=7, help="days of future readings")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    now = time.time()
    state = ShareState()
    account = state.add_account(
        username=args.username,
        password=args.password,
        readings=generate_trace(
            now - 24 * 3600, now + args.days * 86400, TraceProfile(), seed=args.seed
        ),
    )
    second = state.add_account(
        username=SECOND_USERNAME,
        password=args.password,
        readings=generate_trace(
            now - 24 * 3600,
            now + args.days * 86400,
            TraceProfile(start_value=95),
            seed=args.seed + 1,
        ),
    )
    simulator = ShareSimulator(state, host=args.host).start(args.port)
    print(f"Share simulator on {simulator.base_url('us')} (all regions: /us /ous /jp)")  # noqa: T201
    print(f"Demo account: {args.username} / {args.password} (ID {account.account_id})")  # noqa: T201
    print(f"Second account: {SECOND_USERNAME} / {args.password} (ID {second.account_id})")  # noqa: T201

    signal.signal(signal.SIGTERM, lambda *_: simulator.stop())
    try:
        while simulator.port and simulator._server is not None:  # noqa: SLF001
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()


if __name__ == "__main__":
    main()
