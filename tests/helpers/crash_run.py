"""Run route-inbound in this process and kill the process (os._exit, no cleanup) at a chosen point.

Used by the crash tests: `python tests/helpers/crash_run.py after_record|after_write`.
"""

import os
import sys

import leadrouter.store.watermarks
import leadrouter.writeback
from flows.route_inbound import route_inbound


def die(*_args: object, **_kwargs: object) -> None:
    os._exit(137)


point = sys.argv[1]
if point == "after_record":  # decisions committed, nothing written to the CRM
    leadrouter.writeback.write_back = die
elif point == "after_write":  # owners written and recorded, watermark not moved
    leadrouter.store.watermarks.advance_watermark = die
else:
    sys.exit(f"unknown crash point {point!r}")
route_inbound()
sys.exit("the crash point was never reached")
