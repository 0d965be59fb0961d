"""CometD (Bayeux 1.0) sessions: handshake, long-polling connect, subscriptions, expiry.

This is the protocol without the transport: :meth:`Hub.handle` takes the messages of one
HTTP POST (or one WebSocket frame) from an authenticated agent and returns the replies,
holding a ``/meta/connect`` until a message arrives for the client or the advised timeout
passes. :meth:`Hub.publish` queues a message for every session of one agent whose
subscriptions match its channel: an agent never receives another agent's messages.

What the two clients this was tested with need (``docs/server.md``, "CometD"):

- replies echo the request's ``id`` and always carry ``successful``;
- a handshake is alone in its request: other messages beside it are ignored;
- an unknown ``clientId`` gets ``402::session_unknown`` with advice
  ``{"reconnect": "handshake", "interval": 0}``;
- the advice's ``interval`` is 0 (a client library reads it in seconds, not ms);
- a connect that asks for ``advice.timeout`` 0 is answered at once (the first after a
  handshake does), others are held up to :attr:`Hub.timeout_ms`;
- subscriptions may use ``*`` (one segment) and ``**`` (any number) wildcards.

A session that has no connect held for :attr:`Hub.max_interval_ms` is expired
(:meth:`Hub.expire`), and one whose queue passes :attr:`Hub.max_queue` messages is
dropped at once: a client that stops polling costs nothing for long.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

__all__ = ["BayeuxError", "Client", "Hub", "matches"]

Message = dict[str, Any]

VERSION: Final = "1.0"
_META = "/meta/"


class BayeuxError(ValueError):
    """A request that is not Bayeux at all (not JSON messages): answered HTTP 400."""


def matches(pattern: str, channel: str) -> bool:
    """Whether subscription ``pattern`` covers ``channel`` (Bayeux globbing).

    >>> matches("/v2/me/*", "/v2/me/emails"), matches("/v2/me/*", "/v2/me/a/b")
    (True, False)
    >>> matches("/v2/**", "/v2/me/emails"), matches("/v2/me/emails", "/v2/me/emails")
    (True, True)
    """
    if pattern == channel:
        return True
    head, _, last = pattern.rpartition("/")
    if last == "**":
        return channel.startswith(head + "/")
    if last == "*":
        prefix, _, rest = channel.rpartition("/")
        return prefix == head and rest != ""
    return False


def _valid_subscription(name: str) -> bool:
    """An agent may subscribe to its own channels (``/v2/me/...``), with wildcards."""
    segments = name.split("/")
    if len(segments) < 2 or segments[0] != "" or "" in segments[1:]:
        return False
    if any(("*" in s and s not in ("*", "**")) for s in segments) or "**" in segments[:-1]:
        return False
    if name in ("/**", "/v2/**", "/v2/*"):
        return True
    return segments[1:3] == ["v2", "me"]


class Client:
    """One CometD session of one agent."""

    __slots__ = (
        "agent",
        "disconnected",
        "held",
        "id",
        "last_seen",
        "queue",
        "subscriptions",
        "transport",
        "wake",
    )

    def __init__(self, client_id: str, agent: str, transport: str, now: float) -> None:
        self.id = client_id
        self.agent = agent
        self.transport = transport
        self.subscriptions: set[str] = set()
        self.queue: deque[str] = deque()
        """The messages waiting for the next connect, as JSON text."""
        self.wake = asyncio.Event()
        self.held = 0
        """How many connects of this client are being held (0 or 1)."""
        self.last_seen = now
        self.disconnected = False
        """Whether the client sent ``/meta/disconnect`` (its held connect then ends)."""

    def wants(self, channel: str) -> bool:
        return any(matches(pattern, channel) for pattern in self.subscriptions)


class Reply:
    """A reply whose messages are partly pre-rendered JSON text (the notifications)."""

    __slots__ = ("messages", "texts")

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.texts: list[str] = []


class Hub:
    """Every CometD session of the server, and the messages waiting for them."""

    def __init__(
        self,
        *,
        timeout_ms: int = 30_000,
        max_interval_ms: int = 10_000,
        max_queue: int = 1_000,
        connection_types: Sequence[str] = ("long-polling",),
        clock: Callable[[], float] = time.monotonic,
        answer_first_connect: bool = False,
    ) -> None:
        self.timeout_ms = timeout_ms
        """How long a connect is held when nothing arrives (the advice's ``timeout``)."""
        self.max_interval_ms = max_interval_ms
        """How long a session lives with no connect held."""
        self.max_queue = max_queue
        """A session with more messages waiting than this is dropped."""
        self.connection_types = tuple(connection_types)
        self.clock = clock
        self.clients: dict[str, Client] = {}
        self._by_agent: dict[str, dict[str, Client]] = {}
        self._closing = False
        self.answer_first_connect = answer_first_connect
        """Answer a session's first connect at once, as CometD's own server does, also for
        clients that do not ask for ``advice.timeout`` 0 (aiocometd): they wait for it."""
        self._unconnected: set[str] = set()
        """The sessions that have had no connect yet."""
        self.dropped = 0
        """Sessions dropped for an overflowing queue."""
        self.expired = 0
        """Sessions expired for want of connects."""

    # --------------------------------------------------------------- delivery

    def publish(self, agent: str, channel: str, text: str) -> int:
        """Queue the message ``text`` (a JSON object with ``channel``) for every session
        of ``agent`` subscribed to ``channel``; returns how many."""
        sessions = self._by_agent.get(agent)
        if not sessions:
            return 0
        delivered = 0
        for client in tuple(sessions.values()):
            if not client.wants(channel):
                continue
            client.queue.append(text)
            delivered += 1
            if len(client.queue) > self.max_queue:
                self._drop(client)
                self.dropped += 1
            else:
                client.wake.set()
        return delivered

    def sessions_of(self, agent: str) -> tuple[Client, ...]:
        """The agent's live sessions."""
        return tuple(self._by_agent.get(agent, {}).values())

    def expire(self) -> int:
        """Drop the sessions with no connect held for :attr:`max_interval_ms`."""
        limit = self.clock() - self.max_interval_ms / 1000
        stale = [c for c in self.clients.values() if not c.held and c.last_seen < limit]
        for client in stale:
            self._drop(client)
        self.expired += len(stale)
        return len(stale)

    def close(self) -> None:
        """Answer every held connect now (the server is stopping)."""
        self._closing = True
        for client in self.clients.values():
            client.wake.set()

    def _drop(self, client: Client) -> None:
        self.clients.pop(client.id, None)
        self._unconnected.discard(client.id)
        sessions = self._by_agent.get(client.agent)
        if sessions is not None:
            sessions.pop(client.id, None)
            if not sessions:
                del self._by_agent[client.agent]
        client.queue.clear()
        client.wake.set()

    # --------------------------------------------------------------- requests

    @staticmethod
    def messages_of(payload: object) -> list[Message]:
        """The messages of a request's JSON: an array of objects (or one object), each
        with a string ``channel``. Raises :class:`BayeuxError` otherwise."""
        if isinstance(payload, Mapping):
            payload = [payload]
        if not isinstance(payload, list) or not payload:
            raise BayeuxError("a Bayeux request is a non-empty JSON array of messages")
        for message in payload:
            if not isinstance(message, dict):
                raise BayeuxError("each Bayeux message must be a JSON object")
            if not isinstance(message.get("channel"), str):
                raise BayeuxError("each Bayeux message must have a string 'channel'")
        return payload

    async def handle(self, messages: Sequence[Message], agent: str, transport: str) -> Reply:
        """The replies to one request's ``messages`` from ``agent``."""
        reply = Reply()
        handshake = next((m for m in messages if m["channel"] == "/meta/handshake"), None)
        if handshake is not None:
            reply.messages.append(self._handshake(handshake, agent, transport))
            return reply
        connect: Message | None = None
        for message in messages:
            channel = message["channel"]
            if channel == "/meta/connect" and connect is None:
                connect = message  # answered last, after the others
                continue
            reply.messages.append(self._one(message, agent))
        if connect is not None:
            await self._connect(connect, agent, reply)
        return reply

    def _client(self, message: Message, agent: str) -> Client | None:
        """The message's session, if it is ``agent``'s."""
        client_id = message.get("clientId")
        client = self._known(client_id) if isinstance(client_id, str) else None
        if client is None or client.agent != agent:
            return None
        return client

    def _known(self, client_id: str) -> Client | None:
        """The session ``client_id`` names, among those this hub holds."""
        return self.clients.get(client_id)

    def _answer(self, message: Message, **fields: Any) -> Message:
        answer: Message = {"channel": message["channel"]}
        if "id" in message:
            answer["id"] = message["id"]
        answer.update(fields)
        return answer

    def _unknown(self, message: Message) -> Message:
        return self._answer(
            message,
            successful=False,
            error="402::session_unknown",
            advice={"reconnect": "handshake", "interval": 0},
        )

    def _advice(self) -> dict[str, Any]:
        return {"reconnect": "retry", "interval": 0, "timeout": self.timeout_ms}

    def _handshake(self, message: Message, agent: str, transport: str) -> Message:
        offered = message.get("supportedConnectionTypes")
        offered = offered if isinstance(offered, list) else []
        common = [t for t in self.connection_types if t in offered]
        if message.get("version") is None or not common:
            return self._answer(
                message,
                successful=False,
                error="403::handshake_denied",
                version=VERSION,
                supportedConnectionTypes=list(self.connection_types),
                advice={"reconnect": "none"},
            )
        if self._closing:
            return self._answer(
                message, successful=False, error="503::shutting_down", advice={"reconnect": "none"}
            )
        client = Client(secrets.token_hex(20), agent, transport, self.clock())
        self.clients[client.id] = client
        self._by_agent.setdefault(agent, {})[client.id] = client
        self._unconnected.add(client.id)
        return self._answer(
            message,
            successful=True,
            version=VERSION,
            supportedConnectionTypes=list(self.connection_types),
            clientId=client.id,
            advice=self._advice(),
        )

    def _one(self, message: Message, agent: str) -> Message:
        channel = message["channel"]
        if channel in ("/meta/subscribe", "/meta/unsubscribe"):
            client = self._client(message, agent)
            if client is None:
                return self._unknown(message)
            subscription = message.get("subscription")
            given = subscription if isinstance(subscription, list) else [subscription]
            names = [n for n in given if isinstance(n, str)]
            if not names or len(names) != len(given):
                return self._answer(
                    message,
                    successful=False,
                    subscription=subscription,
                    error="400::subscription_missing",
                )
            denied = [n for n in names if not _valid_subscription(n)]
            if denied:
                return self._answer(
                    message,
                    successful=False,
                    subscription=subscription,
                    error=f"403:{client.id},{denied[0]}:subscribe_denied",
                )
            if channel == "/meta/subscribe":
                client.subscriptions.update(names)
            else:
                client.subscriptions.difference_update(names)
            return self._answer(message, successful=True, subscription=subscription)
        if channel == "/meta/disconnect":
            client = self._client(message, agent)
            if client is None:
                return self._unknown(message)
            client.disconnected = True
            self._drop(client)
            return self._answer(message, successful=True)
        if channel.startswith(_META):
            return self._answer(message, successful=False, error=f"404:{channel}:unknown_channel")
        # A GWS desktop only listens; nothing is published by clients.
        client = self._client(message, agent)
        if client is None:
            return self._unknown(message)
        return self._answer(message, successful=False, error=f"403:{channel}:publish_denied")

    async def _connect(self, message: Message, agent: str, reply: Reply) -> None:
        client = self._client(message, agent)
        if client is None:
            reply.messages.append(self._unknown(message))
            return
        if client.held:
            # One connect at a time: the one held is answered now, this one waits.
            client.wake.set()
            await asyncio.sleep(0)
        timeout = self.timeout_ms / 1000
        if client.id in self._unconnected:
            self._unconnected.discard(client.id)
            if self.answer_first_connect:
                timeout = 0
        advice = message.get("advice")
        if isinstance(advice, dict):
            asked = advice.get("timeout")
            if isinstance(asked, int | float) and not isinstance(asked, bool) and asked >= 0:
                timeout = min(timeout, asked / 1000)
        if not client.queue and timeout > 0 and not self._closing:
            client.held += 1
            client.wake.clear()
            try:
                await asyncio.wait_for(client.wake.wait(), timeout)
            except TimeoutError:
                pass
            finally:
                client.held -= 1
        client.last_seen = self.clock()
        if self.clients.get(client.id) is not client:
            if client.disconnected:
                # As CometD's own server answers the connect a disconnect ends: successful,
                # no reconnect (the JavaScript client reports an unsuccessful one to its
                # /meta/unsuccessful listeners, which may log in again).
                answer = self._answer(message, successful=True, advice={"reconnect": "none"})
                reply.messages.append(answer)
                return
            reply.messages.append(self._unknown(message))
            return
        reply.texts.extend(client.queue)
        client.queue.clear()
        advice_out = self._advice() if not self._closing else {"reconnect": "none"}
        reply.messages.append(self._answer(message, successful=True, advice=advice_out))
