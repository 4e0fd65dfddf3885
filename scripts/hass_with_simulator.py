"""Start Home Assistant with pydexcom's region table pointed at the Share simulator.

Only the demo uses this: the integration itself has no URL override. The simulator's
address comes from SHARE_SIMULATOR_URL, e.g. http://127.0.0.1:8125.
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
    sys.exit(main())
