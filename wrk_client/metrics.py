"""What the WRK client measures: the latency of every HTTP request to WRK (each attempt).

Observed in whichever process calls WRK (a web process deploying, the scheduler
reconciling and polling). Under gunicorn, and across the processes of one machine, the
values meet in prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR).
"""

from prometheus_client import Histogram

# Up to the read timeout (10 s by default) and beyond, for the slow tail.
WRK_CALL_SECONDS = Histogram(
    "deployflow_wrk_call_seconds",
    "Latency of HTTP requests to WRK, each attempt on its own.",
    ["op", "outcome"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
