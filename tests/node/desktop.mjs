// A scripted GWS email desktop for two agents, each with its own official CometD client.
//
//   node desktop.mjs '{"base": "http://127.0.0.1:PORT", "transport": "websocket",
//                      "agents": {"a": "password-a", "b": "password-b"}}'
//
// Each agent logs in as Genesys' iOS sample client does: GET /api/v2/me?subresources=*
// with HTTP Basic (the JSESSIONID cookie and, with CSRF on, the X-CSRF-TOKEN header),
// a CometD handshake at <base>/api/v2/notifications, a subscription to /v2/me/*, and
// StartContactCenterSession once the subscription succeeded (with CSRF on, it is first
// sent once without the token, which the server must refuse). Then the contact center
// is sent two emails: the invitee of the first accepts it, replies, saves and sends the
// reply and completes the original; the invitee of the second accepts it and transfers
// it to the other agent, who accepts it. Last, each agent disconnects while its client
// has a connect out.
//
// "transport" is "websocket" (the client's default order) or "long-polling" (the
// websocket transport unregistered, as a public GWS widget does). Every step prints one
// JSON line on stdout; tests/test_server_cometd_js.py checks them. The script waits for
// each notification a step causes, and exits with status 1, naming what it waited for,
// when one does not come.

import {adapt} from "cometd-nodejs-client";
import {CometD} from "cometd";

adapt();

const WAIT_MS = 10000;
const CUSTOMER = "customer@example.com";

const options = JSON.parse(process.argv[2]);
const base = options.base;
const useWebSocket = options.transport === "websocket";

function emit(record) {
    process.stdout.write(JSON.stringify(record) + "\n");
}

function fail(message) {
    process.stderr.write(`desktop.mjs: ${message}\n`);
    process.exit(1);
}

process.on("unhandledRejection", (error) => fail(error && error.stack ? error.stack : String(error)));

function basic(user, password) {
    return "Basic " + Buffer.from(`${user}:${password}`).toString("base64");
}

class Agent {
    constructor(name, password) {
        this.name = name;
        this.password = password;
        this.cookie = null;
        this.csrf = null;
        this.notifications = [];
        this.waiters = [];
        this.connectPending = false;
        this.onConnectSent = null;
        this.cometd = new CometD(name);
        this.cometd.registerExtension("connect-watch", {
            outgoing: (message) => {
                if (message.channel === "/meta/connect") {
                    this.connectPending = true;
                    const notify = this.onConnectSent;
                    this.onConnectSent = null;
                    if (notify !== null) {
                        notify();
                    }
                }
                return message;
            },
        });
        this.cometd.addListener("/meta/connect", () => {
            this.connectPending = false;
        });
    }

    async login() {
        const response = await fetch(`${base}/api/v2/me?subresources=*`, {
            headers: {Authorization: basic(this.name, this.password)},
        });
        const body = await response.json();
        const session = response.headers
            .getSetCookie()
            .map((header) => header.split(";")[0].trim())
            .find((pair) => pair.startsWith("JSESSIONID="));
        this.cookie = session || null;
        this.csrf = response.headers.get("X-CSRF-TOKEN");
        emit({
            event: "login",
            agent: this.name,
            status: response.status,
            statusCode: body.statusCode,
            userName: body.user && body.user.userName,
            channels: body.user && body.user.channels,
            cookie: this.cookie !== null,
            csrfToken: this.csrf !== null,
        });
        if (response.status !== 200 || this.cookie === null) {
            fail(`${this.name}: login answered ${response.status} without a session`);
        }
    }

    // POST a GWS request with the session cookie (and the CSRF token when one was given).
    async post(path, body) {
        const headers = {"Content-Type": "application/json", Cookie: this.cookie};
        if (this.csrf !== null) {
            headers["X-CSRF-TOKEN"] = this.csrf;
        }
        const response = await fetch(`${base}${path}`, {
            method: "POST",
            headers,
            body: JSON.stringify(body),
        });
        const text = await response.text();
        let answer;
        try {
            answer = JSON.parse(text);
        } catch (error) {
            answer = {text};
        }
        emit({
            event: "answer",
            agent: this.name,
            path,
            operation: body.operationName,
            status: response.status,
            body: answer,
        });
        if (response.status !== 200 || answer.statusCode !== 0) {
            fail(`${this.name}: ${body.operationName} on ${path} answered ${response.status} ${text}`);
        }
        return answer;
    }

    // With CSRF protection on, a POST without the token is refused (HTTP 403).
    async postWithoutToken(path, body) {
        const response = await fetch(`${base}${path}`, {
            method: "POST",
            headers: {"Content-Type": "application/json", Cookie: this.cookie},
            body: JSON.stringify(body),
        });
        emit({
            event: "without-token",
            agent: this.name,
            path,
            status: response.status,
            text: await response.text(),
        });
    }

    // The handshake, the subscription, then StartContactCenterSession.
    connect() {
        const cometd = this.cometd;
        const url = new URL(`${base}/api/v2/notifications`);
        if (useWebSocket) {
            // A browser sends its cookies on the WebSocket upgrade; Node's WebSocket does
            // not, so the upgrade authenticates with HTTP Basic instead.
            url.username = this.name;
            url.password = this.password;
        } else {
            cometd.unregisterTransport("websocket");
        }
        cometd.configure({
            url: url.href,
            logLevel: "warn",
            requestHeaders: {Cookie: this.cookie},
        });
        cometd.addListener("/meta/handshake", (message) => {
            emit({
                event: "handshake",
                agent: this.name,
                successful: message.successful,
                transport: cometd.getTransport() && cometd.getTransport().type,
                supportedConnectionTypes: message.supportedConnectionTypes,
            });
        });
        cometd.addListener("/meta/unsuccessful", (message) => {
            emit({event: "unsuccessful", agent: this.name, message});
        });
        return new Promise((resolve) => {
            cometd.handshake((reply) => {
                if (!reply.successful) {
                    fail(`${this.name}: handshake failed: ${JSON.stringify(reply)}`);
                }
                cometd.subscribe(
                    "/v2/me/*",
                    (message) => this.received(message),
                    (subscribed) => {
                        emit({
                            event: "subscribed",
                            agent: this.name,
                            successful: subscribed.successful,
                            subscription: subscribed.subscription,
                        });
                        if (!subscribed.successful) {
                            fail(`${this.name}: subscribe failed: ${JSON.stringify(subscribed)}`);
                        }
                        const start = {
                            operationName: "StartContactCenterSession",
                            channels: ["email"],
                        };
                        const probe = this.csrf === null
                            ? Promise.resolve()
                            : this.postWithoutToken("/api/v2/me", start);
                        probe.then(() => this.post("/api/v2/me", start)).then(resolve);
                    },
                );
            });
        });
    }

    received(message) {
        emit({event: "notification", agent: this.name, channel: message.channel, data: message.data});
        this.notifications.push(message.data);
        for (const waiter of [...this.waiters]) {
            if (waiter.matches(message.data)) {
                this.waiters.splice(this.waiters.indexOf(waiter), 1);
                waiter.resolve(message.data);
            }
        }
    }

    // The first notification (already received or still to come) that `matches`.
    waitFor(what, matches) {
        const seen = this.notifications.find(matches);
        if (seen !== undefined) {
            return Promise.resolve(seen);
        }
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
                this.waiters.splice(this.waiters.indexOf(waiter), 1);
                reject(new Error(`${this.name}: no ${what} within ${WAIT_MS} ms`));
            }, WAIT_MS);
            const waiter = {
                matches,
                resolve: (data) => {
                    clearTimeout(timer);
                    resolve(data);
                },
            };
            this.waiters.push(waiter);
        });
    }

    // A request on an email, and the notification that answers it (its referenceId).
    async operate(emailId, body) {
        const answer = await this.post(`/api/v2/me/emails/${emailId}`, body);
        const notification = await this.waitFor(
            `notification with referenceId ${answer.referenceId} (${body.operationName})`,
            (data) => data.referenceId === answer.referenceId,
        );
        return notification;
    }

    // Resolves once a /meta/connect is out, unanswered (the client sends the next one as
    // soon as the last one is answered).
    connectSent() {
        if (this.connectPending) {
            return Promise.resolve();
        }
        return new Promise((resolve, reject) => {
            const timer = setTimeout(
                () => reject(new Error(`${this.name}: no /meta/connect sent within ${WAIT_MS} ms`)),
                WAIT_MS,
            );
            this.onConnectSent = () => {
                clearTimeout(timer);
                resolve();
            };
        });
    }

    // The disconnect, sent while a connect is out. Over a WebSocket the server gets the
    // two in the order sent, so it holds that connect when the disconnect comes, and the
    // disconnect ends it: the script waits for its answer. Over long-polling the two go
    // on different connections, so the connect may come second (and find no session).
    async disconnect() {
        await this.connectSent();
        const connectEnded = new Promise((resolve) => {
            const listener = this.cometd.addListener("/meta/connect", (message) => {
                this.cometd.removeListener(listener);
                emit({
                    event: "connect-ended",
                    agent: this.name,
                    successful: message.successful,
                    advice: message.advice,
                });
                resolve();
            });
        });
        const disconnected = new Promise((resolve) => {
            emit({event: "disconnecting", agent: this.name});
            this.cometd.disconnect((reply) => {
                emit({event: "disconnected", agent: this.name, successful: reply.successful});
                resolve();
            });
        });
        if (!useWebSocket) {
            await disconnected;
            return;
        }
        const timeout = new Promise((resolve, reject) =>
            setTimeout(
                () => reject(new Error(`${this.name}: the held connect did not end within ${WAIT_MS} ms`)),
                WAIT_MS,
            ),
        );
        await Promise.race([Promise.all([disconnected, connectEnded]), timeout]);
    }
}

function isInvitation(emailId) {
    return (data) =>
        data.notificationType === "StatusChange" &&
        data.email.id === emailId &&
        data.email.state === "Invited";
}

// The agent the contact center invites to `emailId` (whoever it is).
async function invitee(agents, emailId) {
    const invited = await Promise.any(
        agents.map((agent) =>
            agent.waitFor(`invitation to ${emailId}`, isInvitation(emailId)).then(() => agent),
        ),
    ).catch(() => fail(`nobody was invited to ${emailId} within ${WAIT_MS} ms`));
    return invited;
}

async function arrive(subject) {
    const response = await fetch(`${base}/sim/events`, {
        method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({
            event: "Arrive",
            queueName: "inbound",
            email: {from: CUSTOMER, to: ["support@example.com"], subject},
        }),
    });
    const body = await response.json();
    emit({event: "arrived", status: response.status, body});
    if (response.status !== 200 || body.statusCode !== 0) {
        fail(`Arrive answered ${response.status} ${JSON.stringify(body)}`);
    }
    return body.emailId;
}

async function main() {
    const agents = Object.entries(options.agents).map(([name, password]) => new Agent(name, password));
    for (const agent of agents) {
        await agent.login();
        await agent.connect();
    }

    // The first email: accepted, replied to, the reply saved and sent, completed.
    const first = await arrive("Where is my order?");
    const owner = await invitee(agents, first);
    await owner.operate(first, {operationName: "Accept"});
    const draft = await owner.operate(first, {operationName: "Reply"});
    const draftId = draft.email.id;
    await owner.operate(draftId, {
        operationName: "Save",
        email: {body: "It left the warehouse today."},
    });
    await owner.operate(draftId, {operationName: "Send", queueName: "outbound"});
    await owner.operate(first, {operationName: "Complete"});

    // The second email: accepted, transferred to the other agent, accepted there.
    const second = await arrive("Change my address");
    const sender = await invitee(agents, second);
    const receiver = agents.find((agent) => agent !== sender);
    await sender.operate(second, {operationName: "Accept"});
    await sender.operate(second, {
        operationName: "Transfer",
        userUri: `${base}/api/v2/users/${receiver.name}`,
    });
    await receiver.waitFor(`invitation to ${second}`, isInvitation(second));
    await receiver.operate(second, {operationName: "Accept"});

    for (const agent of agents) {
        await agent.disconnect();
    }
    emit({event: "done"});
    // The other agent's wait for each invitation is still pending: do not wait it out.
    process.exit(0);
}

main().catch((error) => fail(error && error.stack ? error.stack : String(error)));
