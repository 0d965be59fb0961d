"""The server benchmark: ``python -m benchmarks.server`` (``make bench-server``).

A load driver (asyncio and a minimal HTTP/1.1 client, ``wire.py``, in this process)
logs N agents in to a GWS-compatible server run as a process of its own (``email-fsm
serve``), holds their CometD long-polls, and runs email lifecycles through them, against
the server with each store and a bare Starlette endpoint under the same uvicorn
settings. Then the restart: replaying a log of
100,000 emails against deciding them fresh. ``benchmarks/server/README.md`` says what is
measured and how.
"""
