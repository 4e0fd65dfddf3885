"""Start Home Assistant with pydexcom's region table pointed at the Share simulator.

Only the demo uses this: the integration itself has no URL override. The simulator's
address comes from SHARE_SIMULATOR_URL, e.g. http://127.0.0.1:8125. For the
end-to-end check, SHARE_DEMO_AUTH_RETRY_SECONDS shortens the 10-minute wait before a
rejected password is tried again (and reauthentication is asked for).
"""

import os
import sys

from homeassistant.__main__ import main
from pydexcom import Region
import pydexcom.const

if __name__ == "__main__":
    simulator = os.environ["SHARE_SIMULATOR_URL"].rstrip("/")
    for region in Region:
        pydexcom.const.DEXCOM_BASE_URLS[region] = (
            f"{simulator}/{region.value}/ShareWebServices/Services/"
        )
    if retry := os.environ.get("SHARE_DEMO_AUTH_RETRY_SECONDS"):
        config = sys.argv[sys.argv.index("--config") + 1]
        sys.path.insert(0, config)
        from custom_components.dexcom_share.glucose import share

        share.AUTH_RETRY_DELAY = float(retry)
    sys.exit(main())
