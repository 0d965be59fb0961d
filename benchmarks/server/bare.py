"""The bare endpoint: Starlette under uvicorn answering ``{"statusCode": 0}`` to the
agents' POSTs, with the uvicorn settings of ``email-fsm serve``: the stack's own limit.

``python -m benchmarks.server.bare --port P`` serves it on 127.0.0.1.
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from email_fsm.server.run import GRACEFUL_SECONDS

__all__ = ["create_app", "main"]

_ANSWER = b'{"statusCode": 0}'


async def _post(request: Request) -> Response:
    await request.body()  # read, as the server reads the request
    return Response(_ANSWER, media_type="application/json")


async def _get(request: Request) -> Response:
    return Response(_ANSWER, media_type="application/json")


def create_app() -> Starlette:
    """The bare application: POST ``/api/v2/me/emails/{id}``; GET ``/api/v2/me`` (ready)."""
    return Starlette(
        routes=[
            Route("/api/v2/me/emails/{id}", _post, methods=["POST"]),
            Route("/api/v2/me", _get, methods=["GET"]),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server.bare")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    # The settings of email_fsm.server.run.uvicorn_server.
    config = uvicorn.Config(
        create_app(),
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        ws="websockets-sansio",
        lifespan="on",
        # uvicorn's defaults, as for the server: httptools and uvloop where installed
        http="auto",
        loop="auto",
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
