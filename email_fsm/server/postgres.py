"""The server on PostgreSQL: several processes, on one machine or several, sharing one store.

``email-fsm serve --store postgresql://…`` (the ``postgres`` extra: psycopg 3). Every
process serves any client: a desktop's requests and CometD connects may land on any of
them, as behind an ordinary load balancer, with no sticky sessions
(``docs/server.md``, "Several processes on PostgreSQL").

What lives in the database, and why:

- ``email_events``: the log, as in SQLite: one row per event, ``(email_id, version)``
  unique, so a decision is stored only on the version it was decided on; each row also
  has a global ``seq`` and the id of the transaction that wrote it (``xid``). Before it
  decides, and before it answers a read, a process **catches up** with the rows other
  processes appended, tailing ``(xid, seq)`` below the oldest transaction still running
  (``pg_snapshot_xmin``): a row that commits after one with a higher ``seq`` is not
  skipped. On a conflict it reads the email's newer rows and decides again.
- ``cometd_sessions``, ``notifications`` and ``agent_counters``: the CometD sessions
  (client id → agent, subscriptions, the last notification acknowledged) and each
  agent's notifications, numbered by a counter row per agent updated in the transaction
  that stores the events (so an agent's notifications commit in the order of their
  numbers). A connect, on any process, answers the notifications after the session's
  cursor, and the cursor moves only when the session's next connect arrives (a client
  sends it once it has the answer): an answer lost with a killed process is sent again.
- ``contact_center_sessions``: which agents are Ready, for the router.
- a sequence for the ``referenceId`` of the answers (one numbering for every process,
  as one server has), and the secret that signs the HTTP session cookies, so that a
  cookie one process set is good at every other.

``LISTEN``/``NOTIFY`` only wakes: each change sends a payload-free ``NOTIFY email_fsm``;
a process holding a long-poll re-reads the tables (the notification carries nothing,
and a missed one costs at most the one-second recheck). The router runs in one process
at a time, the holder of a session-level advisory lock on a connection of its own; the
others try every second and take over when the holder's connection drops.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ..codec import events_from_jsonl
from ..events import Event
from .auth import Agent, Directory, Session, Sessions
from .bayeux import Client, Hub, Message, Reply, matches
from .eventlog import CONFLICT, LogClosedError, Row

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

__all__ = ["PostgresLog", "SharedHub", "SignedSessions", "is_postgres_url"]

log = logging.getLogger("email_fsm.server")

CHANNEL: Final = "email_fsm"
"""The ``LISTEN``/``NOTIFY`` channel of every change: a wake-up, with no payload."""

SESSIONS_CHANNEL: Final = "email_fsm_sessions"
"""The channel of a contact-center session's start or end (the router re-reads them)."""

ROUTER_LOCK: Final = 0x454D_4653_4D52
"""The advisory lock whose holder is the router."""

RECHECK_SECONDS: Final = 1.0
"""How often a process re-reads for its held connects even with no ``NOTIFY``, and how
often a process that is not the router tries to become it."""

Outgoing = tuple[str, str, str]
"""A notification to store: the agent, its CometD channel, the message as JSON text."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS email_events (
    seq bigserial PRIMARY KEY,
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    email_id text NOT NULL,
    version integer NOT NULL,
    event text NOT NULL,
    UNIQUE (email_id, version)
);
CREATE INDEX IF NOT EXISTS email_events_tail ON email_events (xid, seq);
CREATE SEQUENCE IF NOT EXISTS email_references;
CREATE SEQUENCE IF NOT EXISTS email_processes;
CREATE TABLE IF NOT EXISTS agent_counters (
    agent text PRIMARY KEY,
    seq bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    agent text NOT NULL,
    seq bigint NOT NULL,
    channel text NOT NULL,
    message text NOT NULL,
    created timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (agent, seq)
);
CREATE INDEX IF NOT EXISTS notifications_created ON notifications (created);
CREATE TABLE IF NOT EXISTS cometd_sessions (
    client_id text PRIMARY KEY,
    agent text NOT NULL,
    transport text NOT NULL,
    subscriptions text[] NOT NULL DEFAULT '{}',
    acked bigint NOT NULL,
    sent bigint NOT NULL,
    token bigint NOT NULL DEFAULT 0,
    held boolean NOT NULL DEFAULT false,
    disconnected boolean NOT NULL DEFAULT false,
    expires timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS contact_center_sessions (
    agent text PRIMARY KEY,
    channels text[] NOT NULL
);
CREATE TABLE IF NOT EXISTS server_settings (
    name text PRIMARY KEY,
    value text NOT NULL
);
"""

_TAIL = """
SELECT xid::text, seq, email_id, version, event FROM email_events
WHERE (xid, seq) > (%s::text::xid8, %s) AND xid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY xid, seq
"""

_READ_HELD = """
SELECT s.token, s.disconnected, s.subscriptions, n.seq, n.channel, n.message
FROM cometd_sessions s
LEFT JOIN LATERAL (
    SELECT seq, channel, message FROM notifications
    WHERE agent = s.agent AND seq > %s ORDER BY seq LIMIT %s
) n ON true
WHERE s.client_id = %s
ORDER BY n.seq
"""

_APPEND = """
WITH stored AS (
    INSERT INTO email_events (email_id, version, event)
    SELECT * FROM unnest(%(ids)s::text[], %(versions)s::int[], %(events)s::text[])
    RETURNING 1
), counted AS (
    INSERT INTO agent_counters AS c (agent, seq)
    SELECT agent, n FROM unnest(%(agents)s::text[], %(counts)s::int[]) AS t(agent, n)
    ORDER BY agent
    ON CONFLICT (agent) DO UPDATE SET seq = c.seq + EXCLUDED.seq
    RETURNING agent, seq
), noted AS (
    INSERT INTO notifications (agent, seq, channel, message)
    SELECT m.agent, counted.seq - m.total + m.ord, m.channel, m.message
    FROM unnest(%(to)s::text[], %(ords)s::int[], %(totals)s::int[], %(channels)s::text[],
                %(messages)s::text[]) AS m(agent, ord, total, channel, message)
    JOIN counted ON counted.agent = m.agent
    RETURNING 1
)
SELECT (SELECT count(*) FROM stored), (SELECT count(*) FROM noted), pg_notify('email_fsm', '')
"""


def is_postgres_url(spec: str) -> bool:
    """Whether a ``--store`` value names a PostgreSQL database."""
    return spec.startswith(("postgresql://", "postgres://"))


def _psycopg() -> tuple[Any, Any]:
    """psycopg and psycopg_pool, or an error saying how to install them."""
    try:
        import psycopg
        import psycopg_pool
    except ImportError as error:  # pragma: no cover - the extra is installed in the tests
        raise RuntimeError(
            "a postgresql:// store needs the postgres extra: pip install 'email-fsm[postgres]'"
            f" ({error})"
        ) from None
    return psycopg, psycopg_pool


class PostgresLog:
    """The event log, the shared sessions and the router's lock in one PostgreSQL
    database (see the module's documentation).

    ``url`` is a libpq connection URI (``postgresql://user@host:5432/db``); the tables
    are made on :meth:`load` if missing. ``pool_size`` is the connections this process
    opens for its appends; half as many more serve the reads and the CometD sessions
    (committing with ``synchronous_commit`` off: a cursor lost with the database's crash
    only sends notifications again), and two more the ``LISTEN`` and the router's lock.
    """

    durable = True
    shared = True
    """Several processes serve from this log (the service catches up before deciding)."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        psycopg, _ = _psycopg()
        self.url = url
        self.path = _redacted(url)
        """The database, for messages (no password)."""
        self.pool_size = pool_size
        self._psycopg = psycopg
        self._pools: dict[bool, psycopg_pool.AsyncConnectionPool] = {}
        """By durability: the appends' connections commit durably; the others (the
        CometD sessions' cursors, the reads) with ``synchronous_commit`` off, so that
        no connect waits for a disk flush."""
        self._opening: asyncio.Lock | None = None
        self._cursor: tuple[str, int] = ("0", 0)
        self._closed = False
        self._secret = b""
        self._tasks: set[asyncio.Task[Any]] = set()
        self._wakers: list[Callable[[], None]] = []
        self._router_callbacks: list[Callable[[bool], None]] = []
        self.is_router = False
        """Whether this process holds the router's lock now."""
        self.process_slot = 0
        """This process's number among those that opened the database (from a sequence)."""
        self.wakes = 0
        """How many ``NOTIFY`` wake-ups this process received."""
        self.sessions_changed = True
        """Whether a contact-center session may have changed since the router read them
        (a ``NOTIFY`` on :data:`SESSIONS_CHANNEL`, or a second passed)."""

    # ------------------------------------------------------------ the log

    def load(self) -> list[Event]:
        """Make the tables if missing, and every event stored so far, in order."""
        with self._psycopg.connect(self.url, autocommit=True) as connection:
            with connection.transaction():
                # Processes starting at once must not make the same table twice.
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (ROUTER_LOCK + 1,))
                connection.execute(_SCHEMA.encode())
                connection.execute(
                    "INSERT INTO server_settings (name, value) VALUES ('cookie_secret', %s) "
                    "ON CONFLICT (name) DO NOTHING",
                    (secrets.token_hex(32),),
                )
            (secret,) = connection.execute(
                "SELECT value FROM server_settings WHERE name = 'cookie_secret'"
            ).fetchone()
            self._secret = bytes.fromhex(secret)
            (slot,) = connection.execute("SELECT nextval('email_processes')").fetchone()
            self.process_slot = int(slot)
            records = connection.execute(_TAIL, ("0", 0)).fetchall()
        if records:
            last = records[-1]
            self._cursor = (last[0], last[1])
        return events_from_jsonl("\n".join(record[4] for record in records))

    def count(self) -> int:
        """How many events the database holds."""
        with self._psycopg.connect(self.url, autocommit=True) as connection:
            (number,) = connection.execute("SELECT count(*) FROM email_events").fetchone()
        return int(number)

    async def append(self, rows: Sequence[Row]) -> bool:
        """Append ``rows`` as one transaction (see :meth:`append_delivering`)."""
        return await self.append_delivering(rows, ())

    async def append_delivering(self, rows: Sequence[Row], outgoing: Sequence[Outgoing]) -> bool:
        """Append ``rows`` and store ``outgoing`` notifications in one transaction; True
        once committed, :data:`~email_fsm.server.eventlog.CONFLICT` if a row's
        ``(email_id, version)`` is taken (then nothing is stored)."""
        errors = self._psycopg.errors
        totals: dict[str, int] = {}
        ords: list[int] = []
        for agent, _, _ in outgoing:
            totals[agent] = totals.get(agent, 0) + 1
            ords.append(totals[agent])
        agents = sorted(totals)  # one order of counter locks: no deadlock
        parameters = {
            "ids": [row.email_id for row in rows],
            "versions": [row.version for row in rows],
            "events": [row.event for row in rows],
            "agents": agents,
            "counts": [totals[agent] for agent in agents],
            "to": [agent for agent, _, _ in outgoing],
            "ords": ords,
            "totals": [totals[agent] for agent, _, _ in outgoing],
            "channels": [channel for _, channel, _ in outgoing],
            "messages": [text for _, _, text in outgoing],
        }
        try:
            # One statement, so one transaction and one round trip: the events, the
            # agents' counters, their notifications and the wake-up.
            async with self._connection(durable=True) as connection:
                await connection.execute(_APPEND, parameters)
        except (errors.UniqueViolation, errors.DeadlockDetected):
            return CONFLICT
        return True

    async def catch_up(self) -> list[Row]:
        """The rows other processes (and this one) committed since the last call, in an
        order that keeps each email's versions in order."""
        async with self._connection() as connection:
            cursor = await connection.execute(_TAIL, self._cursor)
            records = await cursor.fetchall()
        if not records:
            return []
        last = records[-1]
        self._cursor = (last[0], last[1])
        return [Row(email_id, version, event) for _, _, email_id, version, event in records]

    async def rows_since(self, email_id: str, version: int) -> list[Row]:
        """The committed rows of ``email_id`` after ``version``, in order (after a conflict)."""
        async with self._connection() as connection:
            cursor = await connection.execute(
                "SELECT version, event FROM email_events WHERE email_id = %s AND version > %s "
                "ORDER BY version",
                (email_id, version),
            )
            records = await cursor.fetchall()
        return [Row(email_id, number, event) for number, event in records]

    async def next_reference(self) -> int:
        """The next ``referenceId``: one numbering for every process."""
        async with self._connection() as connection:
            cursor = await connection.execute("SELECT nextval('email_references')")
            (number,) = await cursor.fetchone()  # type: ignore[misc]
        return int(number)

    # ------------------------------------------------------------ contact-center sessions

    async def save_session(self, agent: str, channels: Iterable[str] | None) -> None:
        """StartContactCenterSession (``channels``) or EndContactCenterSession (None)."""
        async with self._connection(durable=True) as connection, connection.transaction():
            if channels is None:
                await connection.execute(
                    "DELETE FROM contact_center_sessions WHERE agent = %s", (agent,)
                )
            else:
                await connection.execute(
                    "INSERT INTO contact_center_sessions (agent, channels) VALUES (%s, %s) "
                    "ON CONFLICT (agent) DO UPDATE SET channels = EXCLUDED.channels",
                    (agent, sorted(set(channels))),
                )
            await connection.execute(f"NOTIFY {SESSIONS_CHANNEL}")  # a wake-up too

    async def sessions(self) -> dict[str, frozenset[str]]:
        """The agents in a contact-center session, and its channels."""
        async with self._connection() as connection:
            cursor = await connection.execute("SELECT agent, channels FROM contact_center_sessions")
            records = await cursor.fetchall()
        return {agent: frozenset(channels) for agent, channels in records}

    # ------------------------------------------------------------ life

    def close(self) -> None:
        """Stop the background work; the connections close with their loop."""
        self._closed = True
        for task in tuple(self._tasks):
            task.cancel()
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().create_task(_close_pool(pool))

    async def aclose(self) -> None:
        """Close, waiting for the background work and the connections to end."""
        tasks = tuple(self._tasks)
        pools = list(self._pools.values())
        self._pools.clear()
        self.close()
        await asyncio.gather(*tasks, return_exceptions=True)
        for pool in pools:
            await _close_pool(pool)

    def start_background(
        self, *, wake: Callable[[], None], router: Callable[[bool], None] | None
    ) -> None:
        """Listen for wake-ups (``wake`` is called on each, and every second), and, with
        ``router``, compete for the router's role (``router(True)`` when this process
        takes it, ``router(False)`` if it loses it). Call in the serving loop."""
        self._wakers.append(wake)
        self._spawn(self._listen())
        if router is not None:
            self._router_callbacks.append(router)
            self._spawn(self._elect())

    def add_waker(self, wake: Callable[[], None]) -> None:
        """Also call ``wake`` on each wake-up."""
        self._wakers.append(wake)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _wake_all(self) -> None:
        for wake in tuple(self._wakers):
            try:
                wake()
            except Exception:  # pragma: no cover - a bug in a waker
                log.exception("a wake-up failed")

    async def _listen(self) -> None:
        psycopg = self._psycopg
        while not self._closed:
            try:
                connection = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                async with connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    await connection.execute(f"LISTEN {SESSIONS_CHANNEL}")
                    self.sessions_changed = True
                    self._wake_all()  # anything missed while not listening
                    while not self._closed:
                        woken = False
                        # stop_after=1 yields every notification of the packet read (a
                        # break would drop those that came with the first).
                        async for notify in connection.notifies(
                            timeout=RECHECK_SECONDS, stop_after=1
                        ):
                            self.wakes += 1
                            woken = True
                            if notify.channel == SESSIONS_CHANNEL:
                                self.sessions_changed = True
                        if not woken:
                            self.sessions_changed = True  # the one-second recheck
                        self._wake_all()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("LISTEN connection lost (%s); reconnecting", error)
                await asyncio.sleep(RECHECK_SECONDS)

    async def _elect(self) -> None:
        psycopg = self._psycopg
        while not self._closed:
            try:
                connection = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                async with connection:
                    while not self._closed:
                        cursor = await connection.execute(
                            "SELECT pg_try_advisory_lock(%s)", (ROUTER_LOCK,)
                        )
                        row = await cursor.fetchone()
                        if row is not None and row[0]:
                            break
                        await asyncio.sleep(RECHECK_SECONDS)
                    self._set_router(True)
                    while not self._closed:  # hold it while the connection lives
                        await asyncio.sleep(RECHECK_SECONDS)
                        await connection.execute("SELECT 1")
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("router lock connection lost (%s); retrying", error)
            finally:
                self._set_router(False)
            await asyncio.sleep(RECHECK_SECONDS)

    def _set_router(self, value: bool) -> None:
        if self.is_router == value:
            return
        self.is_router = value
        for callback in tuple(self._router_callbacks):
            callback(value)

    @contextlib.asynccontextmanager
    async def _connection(
        self, *, durable: bool = False
    ) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        if self._closed:
            raise LogClosedError(f"the log {self.path} is closed")
        pool = self._pools.get(durable)
        if pool is None:
            pool = await self._open(durable)
        try:
            async with pool.connection() as connection:
                yield connection
        except self._psycopg.OperationalError as error:
            raise LogClosedError(f"the database {self.path} failed: {error}") from error

    async def _open(self, durable: bool) -> psycopg_pool.AsyncConnectionPool:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            pool = self._pools.get(durable)
            if pool is None:
                _, psycopg_pool = _psycopg()
                options: dict[str, Any] = {"autocommit": True}
                if not durable:
                    options["options"] = "-c synchronous_commit=off"
                pool = psycopg_pool.AsyncConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.pool_size if durable else max(2, self.pool_size // 2),
                    kwargs=options,
                    open=False,
                )
                await pool.open(wait=True, timeout=30)
                self._pools[durable] = pool
            return pool

    # ------------------------------------------------------------ what the server builds

    def make_hub(self, **settings: Any) -> SharedHub:
        """The CometD hub over this database (``settings`` as :class:`~.bayeux.Hub`'s)."""
        return SharedHub(self, **settings)

    def make_sessions(self, directory: Directory) -> SignedSessions:
        """HTTP sessions whose cookie any process sharing this database accepts."""
        return SignedSessions(lambda: self._secret, directory)


async def _close_pool(pool: psycopg_pool.AsyncConnectionPool) -> None:
    with contextlib.suppress(Exception):
        await pool.close(timeout=2)


def _redacted(url: str) -> str:
    head, at, tail = url.rpartition("@")
    if not at:
        return url
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{tail}"


# ---------------------------------------------------------------- HTTP sessions


class SignedSessions(Sessions):
    """HTTP sessions as signed cookies: ``JSESSIONID`` carries the agent and the CSRF
    token under an HMAC with the database's secret, so any process reads it with no
    lookup. A cookie is good for :attr:`max_age` seconds after it was made."""

    def __init__(
        self, secret: Callable[[], bytes], directory: Directory, *, max_age: float = 12 * 3600
    ) -> None:
        super().__init__()
        self.secret = secret
        """The key (read when needed: the database's, known once the log is loaded)."""
        self.directory = directory
        self.max_age = max_age

    def _sign(self, text: str) -> str:
        key = self.secret()
        if not key:
            raise RuntimeError("the HTTP sessions' secret is not loaded yet")
        digest = hmac.new(key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode()

    def create(self, agent: Agent) -> Session:
        name = base64.urlsafe_b64encode(agent.user_name.encode()).decode().rstrip("=")
        body = f"{name}.{uuid.uuid4().hex}.{int(time.time())}"
        session = Session(f"{body}.{self._sign(body)}", agent, "", self.clock())
        session.csrf_token = self._sign("csrf:" + session.id)
        remembered = self._sessions
        remembered[session.id] = session
        while len(remembered) > self.limit:
            remembered.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        if session_id is None:
            return None
        known = super().get(session_id)
        if known is not None:
            return known
        body, _, signature = session_id.rpartition(".")
        if not body or not hmac.compare_digest(signature, self._sign(body)):
            return None
        name, _, rest = body.partition(".")
        made = rest.rpartition(".")[2]
        if not made.isdigit() or time.time() - int(made) > self.max_age:
            return None
        try:
            user_name = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        agent = self.directory.agents.get(user_name)
        if agent is None:
            if not self.directory.is_open:
                return None
            agent = Agent(user_name)
        return Session(session_id, agent, self._sign("csrf:" + session_id), self.clock())


# ---------------------------------------------------------------- CometD


@dataclass(slots=True)
class _Held:
    """A connect this process holds: who it is for and where its reading stands."""

    agent: str
    token: int
    cursor: int
    wake: asyncio.Event


class SharedHub(Hub):
    """The CometD sessions in PostgreSQL: any process answers any connect (see the
    module's documentation). The protocol (answers, errors, advice) is :class:`Hub`'s;
    what a session is and what waits for it live in the database."""

    def __init__(self, store: PostgresLog, **settings: Any) -> None:
        super().__init__(**settings)
        self.store = store
        self._held: dict[str, _Held] = {}
        self._loaded: dict[str, Client] = {}
        self._dropped_now: list[Client] = []
        self._checking = False
        self._check_again = False
        self._sweeping = False
        self.delivered = 0
        """Notifications this process answered connects with."""
        store.add_waker(self.poke)

    # ------------------------------------------------------------ the Hub interface

    def publish(self, agent: str, channel: str, text: str) -> int:
        """Not used here: notifications are stored with their decision's events."""
        return 0

    def close(self) -> None:
        self._closing = True
        for held in self._held.values():
            held.wake.set()

    def expire(self) -> int:
        """Delete the sessions with no connect for :attr:`max_interval_ms` and the
        notifications no live session can still need (in the background)."""
        if not self._sweeping and not self._closing:
            self._sweeping = True
            self.store._spawn(self._sweep())
        return 0

    async def _sweep(self) -> None:
        keep = 2 * (self.timeout_ms + self.max_interval_ms) / 1000
        try:
            async with self.store._connection() as connection:
                cursor = await connection.execute(
                    "DELETE FROM cometd_sessions WHERE expires < clock_timestamp()"
                )
                self.expired += max(cursor.rowcount, 0)
                await connection.execute(
                    "DELETE FROM notifications "
                    "WHERE created < clock_timestamp() - make_interval(secs => %s)",
                    (keep,),
                )
        except LogClosedError:
            pass
        except Exception as error:  # pragma: no cover - a database that went away
            log.warning("sweeping CometD sessions failed: %s", error)
        finally:
            self._sweeping = False

    def poke(self) -> None:
        """Re-read for every held connect (a ``NOTIFY`` came, or a second passed)."""
        if not self._held:
            return
        if self._checking:
            self._check_again = True
            return
        self._checking = True
        self.store._spawn(self._check())

    async def _check(self) -> None:
        try:
            again = True
            while again and self._held:
                self._check_again = False
                ids = list(self._held)
                async with self.store._connection() as connection:
                    cursor = await connection.execute(
                        "SELECT h.id, s.token, s.disconnected, coalesce(c.seq, 0) "
                        "FROM unnest(%s::text[]) AS h(id) "
                        "LEFT JOIN cometd_sessions s ON s.client_id = h.id "
                        "LEFT JOIN agent_counters c ON c.agent = s.agent",
                        (ids,),
                    )
                    records = await cursor.fetchall()
                for client_id, token, disconnected, seq in records:
                    held = self._held.get(client_id)
                    if held is None:
                        continue
                    if token is None or disconnected or token != held.token or seq > held.cursor:
                        held.wake.set()
                again = self._check_again
        except LogClosedError:
            pass
        except Exception as error:  # pragma: no cover - a database that went away
            log.warning("re-reading for held connects failed: %s", error)
        finally:
            self._checking = False

    # ------------------------------------------------------------ requests

    async def handle(self, messages: Sequence[Message], agent: str, transport: str) -> Reply:
        reply = Reply()
        handshake = next((m for m in messages if m["channel"] == "/meta/handshake"), None)
        if handshake is not None:
            reply.messages.append(await self._shared_handshake(handshake, agent, transport))
            return reply
        connect: Message | None = None
        for message in messages:
            if message["channel"] == "/meta/connect" and connect is None:
                connect = message
                continue
            reply.messages.append(await self._shared_one(message, agent))
        if connect is not None:
            await self._shared_connect(connect, agent, reply)
        return reply

    async def _shared_handshake(self, message: Message, agent: str, transport: str) -> Message:
        answer = self._handshake(message, agent, transport)
        client_id = answer.get("clientId")
        if not answer.get("successful") or not isinstance(client_id, str):
            return answer
        # _handshake made an in-memory session: the database's replaces it.
        client = self.clients.pop(client_id)
        self._drop(client)
        async with self.store._connection() as connection:
            await connection.execute(
                "INSERT INTO cometd_sessions (client_id, agent, transport, acked, sent, expires) "
                "SELECT %(id)s, %(agent)s, %(transport)s, seq, seq, "
                "clock_timestamp() + make_interval(secs => %(life)s) "
                "FROM (SELECT coalesce((SELECT seq FROM agent_counters WHERE agent = %(agent)s),"
                " 0) AS seq) AS last",
                {
                    "id": client_id,
                    "agent": agent,
                    "transport": transport,
                    "life": self.max_interval_ms / 1000,
                },
            )
        return answer

    def _known(self, client_id: str) -> Client | None:
        # The sessions the message being handled named, as loaded from the database.
        return self._loaded.get(client_id)

    def _drop(self, client: Client) -> None:
        self._dropped_now.append(client)
        super()._drop(client)

    async def _shared_one(self, message: Message, agent: str) -> Message:
        client_id = message.get("clientId")
        loaded: dict[str, Client] = {}
        if isinstance(client_id, str) and message["channel"] in (
            "/meta/subscribe",
            "/meta/unsubscribe",
            "/meta/disconnect",
        ):
            async with self.store._connection() as connection:
                cursor = await connection.execute(
                    "SELECT agent, transport, subscriptions FROM cometd_sessions "
                    "WHERE client_id = %s AND NOT disconnected",
                    (client_id,),
                )
                row = await cursor.fetchone()
            if row is not None:
                client = Client(client_id, row[0], row[1], self.clock())
                client.subscriptions.update(row[2])
                loaded[client_id] = client
        elif isinstance(client_id, str):
            loaded[client_id] = Client(client_id, agent, "", self.clock())  # publish: denied
        # Hub's checks and answers, on the session as read (no await in between).
        self._loaded = loaded
        self._dropped_now = []
        try:
            answer = self._one(message, agent)
        finally:
            self._loaded = {}
        dropped = self._dropped_now
        self._dropped_now = []
        target = loaded.get(client_id) if isinstance(client_id, str) else None
        if target is None or not answer.get("successful"):
            return answer
        async with self.store._connection() as connection:
            if dropped:  # /meta/disconnect: a connect held elsewhere ends too
                await connection.execute(
                    "UPDATE cometd_sessions SET disconnected = true, "
                    "expires = clock_timestamp() + interval '5 seconds' WHERE client_id = %s",
                    (target.id,),
                )
                await connection.execute(f"NOTIFY {CHANNEL}")
            else:
                await connection.execute(
                    "UPDATE cometd_sessions SET subscriptions = %s WHERE client_id = %s",
                    (sorted(target.subscriptions), target.id),
                )
        return answer

    async def _shared_connect(self, message: Message, agent: str, reply: Reply) -> None:
        client_id = message.get("clientId")
        if not isinstance(client_id, str):
            reply.messages.append(self._unknown(message))
            return
        hold = self.timeout_ms / 1000
        async with self.store._connection() as connection:
            cursor = await connection.execute(
                "UPDATE cometd_sessions s SET acked = s.sent, token = s.token + 1, held = true, "
                "expires = clock_timestamp() + make_interval(secs => %s) "
                "FROM (SELECT client_id, held, token FROM cometd_sessions "
                "      WHERE client_id = %s AND agent = %s AND NOT disconnected FOR UPDATE) old "
                "WHERE s.client_id = old.client_id "
                "RETURNING s.token, s.sent, old.held",
                (hold + self.max_interval_ms / 1000, client_id, agent),
            )
            row = await cursor.fetchone()
            if row is not None and row[2]:
                # One connect at a time: the one held (on any process) is answered now.
                await connection.execute(f"NOTIFY {CHANNEL}")
        if row is None:
            reply.messages.append(self._unknown(message))
            return
        token, cursor_at, _ = row
        timeout = hold
        if token == 1 and self.answer_first_connect:
            timeout = 0
        advice = message.get("advice")
        if isinstance(advice, dict):
            asked = advice.get("timeout")
            if isinstance(asked, int | float) and not isinstance(asked, bool) and asked >= 0:
                timeout = min(timeout, asked / 1000)
        deadline = time.monotonic() + timeout
        held = _Held(agent, token, cursor_at, asyncio.Event())
        self._held[client_id] = held  # before the first read: no wake-up is missed
        try:
            while True:
                held.wake.clear()
                outcome = await self._read(client_id, held, final=False)
                if outcome is not None:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closing:
                    outcome = await self._read(client_id, held, final=True)
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(held.wake.wait(), remaining)
        finally:
            if self._held.get(client_id) is held:
                del self._held[client_id]
        assert outcome is not None  # a final read always answers
        state, texts = outcome
        if state == "gone":
            reply.messages.append(self._unknown(message))
            return
        if state == "disconnected":
            reply.messages.append(
                self._answer(message, successful=True, advice={"reconnect": "none"})
            )
            return
        reply.texts.extend(texts)
        self.delivered += len(texts)
        advice_out = self._advice() if not self._closing else {"reconnect": "none"}
        reply.messages.append(self._answer(message, successful=True, advice=advice_out))

    async def _read(
        self, client_id: str, held: _Held, *, final: bool
    ) -> tuple[str, list[str]] | None:
        """The answer to the held connect if it is due: its state (``ok``, ``gone``,
        ``disconnected``) and the notifications; None to keep holding."""
        async with self.store._connection() as connection:
            cursor = await connection.execute(
                _READ_HELD, (held.cursor, self.max_queue + 1, client_id)
            )
            records = await cursor.fetchall()
            if not records:
                return ("gone", [])
            token, disconnected, subscriptions = records[0][:3]
            if disconnected:
                return ("disconnected", [])
            if token != held.token:
                return ("ok", [])  # a newer connect of the session took over
            notes = [(seq, channel, text) for _, _, _, seq, channel, text in records if seq]
            if len(notes) > self.max_queue:
                await connection.execute(
                    "DELETE FROM cometd_sessions WHERE client_id = %s", (client_id,)
                )
                self.dropped += 1
                return ("gone", [])
            texts = [
                text
                for _, channel, text in notes
                if any(matches(pattern, channel) for pattern in subscriptions)
            ]
            if notes:
                held.cursor = notes[-1][0]
            if not texts and not final and not self._closing:
                return None
            cursor = await connection.execute(
                "UPDATE cometd_sessions SET sent = %s, held = false, "
                "expires = clock_timestamp() + make_interval(secs => %s) "
                "WHERE client_id = %s AND token = %s",
                (held.cursor, self.max_interval_ms / 1000, client_id, held.token),
            )
            if cursor.rowcount == 0:
                # A newer connect took over meanwhile: it answers these notifications.
                return ("ok", [])
        return ("ok", texts)

    def shared_sessions(self) -> Mapping[str, Any]:
        """The connects this process holds now, by client id (for tests and the status)."""
        return dict(self._held)
