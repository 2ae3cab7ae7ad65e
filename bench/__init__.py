"""bbbfleet's benchmark: the gateway against the simulator called directly and a bare 302 app.

Run it with ``make bench`` (or ``python -m bench --help``).  It is not a test: it starts every
server under test in its own process, drives each with an external load generator (``wrk``) for a
fixed time at a fixed concurrency, and prints throughput and latency figures and their ratios
against the targets of the performance issue.
"""
