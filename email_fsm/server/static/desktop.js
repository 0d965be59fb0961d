// A small GWS email desktop: the login sequence of Genesys' sample clients, the official
// CometD client (vendored from npm's `cometd`), and one button per capability.
//
// 1. GET /api/v2/me?subresources=* with HTTP Basic: the answer sets JSESSIONID (and,
//    with CSRF protection on, names the token later POSTs carry); the password is first
//    checked without cookies, so that a wrong one gets no browser password dialog;
// 2. CometD handshake at /api/v2/notifications, subscription to /v2/me/*;
// 3. POST /api/v2/me StartContactCenterSession; then GET /api/v2/me/emails?fields=*.
// Every EmailStateChangeMessage replaces the email it carries; the operations offered are
// exactly its `capabilities`. Each answer's statusCode is shown; refusals are listed.

import {CometD} from "/static/vendor/cometd/cometd.js";

const TERMINAL = new Set(["Completed", "Canceled", "Sent", "Revoked"]);

const state = {
    user: null,        // the `user` of GET /api/v2/me
    base: "",          // where the users' and emails' uris start
    csrf: null,        // [header, token] with CSRF protection on
    cometd: null,
    emails: new Map(), // id -> the email object of the last notification
    finished: new Map(),
    selected: null,
    pendingReply: null, // the referenceId of a Reply whose draft is to be selected
    drafts: new Map(),  // referenceId -> the draft its notification showed (it may come first)
};

const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
        node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
}

function basic(user, password) {
    const bytes = new TextEncoder().encode(`${user}:${password}`);
    return "Basic " + btoa(String.fromCharCode(...bytes));
}

// ------------------------------------------------------------------ HTTP

async function post(path, body) {
    const headers = {"Content-Type": "application/json"};
    if (state.csrf) {
        headers[state.csrf[0]] = state.csrf[1];
    }
    const response = await fetch(path, {
        method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin",
    });
    const text = await response.text();
    let answer;
    try {
        answer = JSON.parse(text);
    } catch {
        answer = {statusCode: null, statusMessage: `HTTP ${response.status}: ${text}`};
    }
    show(body.operationName, path, answer);
    return answer;
}

function show(operation, path, answer) {
    const code = answer.statusCode;
    const line = code === 0
        ? `${operation}: statusCode 0` + (answer.referenceId ? `, referenceId ${answer.referenceId}` : "")
        : `${operation}: statusCode ${code}: ${answer.statusMessage}`;
    const target = $("#answer");
    target.textContent = line;
    target.dataset.statusCode = String(code);
    target.dataset.operation = operation;
    if (code !== 0) {
        $("#refusals").prepend(element("li", {
            "data-status-code": String(code), "data-operation": operation,
        }, `${operation} ${path.replace(/^\/api\/v2\/me\/?/, "") || "me"}: statusCode ${code}: ${answer.statusMessage}`));
    }
}

// ------------------------------------------------------------------ login

async function logIn(event) {
    event.preventDefault();
    const user = $("#user").value.trim();
    const password = $("#password").value;
    $("#login-error").textContent = "";
    const authorization = {Authorization: basic(user, password)};
    // Checked first without cookies: a browser answers a 401 with its own password
    // dialog, except to a request that sends no credentials of its own.
    let response = await fetch("/api/v2/me", {headers: authorization, credentials: "omit"});
    if (response.status === 200) {
        response = await fetch("/api/v2/me?subresources=*", {
            headers: authorization, credentials: "same-origin",
        });
    }
    const answer = await response.json().catch(() => ({statusCode: null, statusMessage: response.statusText}));
    if (response.status !== 200 || answer.statusCode !== 0) {
        $("#login-error").textContent = `GET /api/v2/me: HTTP ${response.status}, statusCode ${answer.statusCode}: ${answer.statusMessage}`;
        return;
    }
    state.user = answer.user;
    state.base = answer.user.uri.replace(/\/api\/v2\/users\/[^/]*$/, "");
    const header = response.headers.get("X-CSRF-HEADER");
    state.csrf = header ? [header, response.headers.get(header)] : null;
    $("#agent-name").textContent = answer.user.userName;
    document.body.dataset.agent = answer.user.userName;
    connect();
}

function connect() {
    const cometd = new CometD();
    state.cometd = cometd;
    cometd.configure({
        url: new URL("/api/v2/notifications", location.href).href,
        logLevel: "warn",
    });
    let started = false;
    cometd.addListener("/meta/connect", (message) => {
        setOnline(message.successful === true && !cometd.isDisconnected());
    });
    cometd.addListener("/meta/handshake", (message) => {
        if (!message.successful) {
            setOnline(false);
            return;
        }
        // Subscriptions do not survive a new handshake (the server forgot the session).
        cometd.clearSubscriptions();
        cometd.subscribe("/v2/me/*", received, async (reply) => {
            if (!reply.successful) {
                $("#login-error").textContent = `subscribe: ${reply.error}`;
                return;
            }
            if (!started) {
                started = true;
                await post("/api/v2/me", {operationName: "StartContactCenterSession", channels: ["email"]});
                $("#login-form").hidden = true;
                $("#workspace").hidden = false;
                $("#logout").hidden = false;
                $("#new-email").hidden = false;
                document.body.dataset.ready = "true";
            }
            await reload();
        });
    });
    cometd.handshake();
}

function setOnline(online) {
    const badge = $("#connection");
    badge.dataset.state = online ? "online" : "offline";
    badge.textContent = online ? "CometD connected" : "offline";
}

async function logOut() {
    const cometd = state.cometd;
    await post("/api/v2/me", {operationName: "EndContactCenterSession"});
    if (cometd) {
        cometd.clearSubscriptions();
        cometd.disconnect();
    }
    location.reload();
}

// The truth after a (re)connect: notifications missed meanwhile are not sent again.
async function reload() {
    const response = await fetch("/api/v2/me/emails?fields=*", {credentials: "same-origin"});
    const answer = await response.json();
    if (answer.statusCode !== 0) {
        return;
    }
    state.emails = new Map(answer.emails.map((email) => [email.id, email]));
    render();
}

// ------------------------------------------------------------------ notifications

function received(message) {
    const data = message.data || {};
    if (data.messageType !== "EmailStateChangeMessage" || !data.email) {
        return;
    }
    const email = data.email;
    const log = $("#notifications");
    log.prepend(element("li", {"data-email-id": email.id, "data-state": email.state},
        `${data.notificationType} ${email.id} ${email.state}` +
        (data.referenceId ? ` (referenceId ${data.referenceId})` : "")));
    while (log.children.length > 100) {
        log.lastChild.remove();
    }
    if (TERMINAL.has(email.state)) {
        state.emails.delete(email.id);
        state.finished.set(email.id, email);
    } else {
        state.emails.set(email.id, email);
        state.finished.delete(email.id);
    }
    if (email.state === "Composing" && data.referenceId) {
        state.drafts.set(data.referenceId, email.id);
        while (state.drafts.size > 20) {
            state.drafts.delete(state.drafts.keys().next().value);
        }
    }
    if (state.pendingReply !== null && data.referenceId === state.pendingReply && email.state === "Composing") {
        state.pendingReply = null;
        state.selected = email.id;
    }
    if (state.selected === null && !TERMINAL.has(email.state) && email.state !== "Invited") {
        state.selected = email.id;
    }
    render();
}

// ------------------------------------------------------------------ operations

function parameters(operation, email) {
    const body = {operationName: operation};
    const key = $("#ud-key").value.trim();
    const value = $("#ud-value").value;
    switch (operation) {
    case "Transfer": {
        const target = $("#transfer-target").value.trim();
        if ($("#transfer-kind").value === "queue") {
            body.queueName = target;
        } else {
            body.userUri = `${state.base}/api/v2/users/${encodeURIComponent(target)}`;
        }
        break;
    }
    case "AttachUserData":
    case "UpdateUserData":
        body.userData = {[key]: value};
        break;
    case "DeleteUserData":
        body.keys = [key];
        break;
    case "SetDisposition":
        body.disposition = $("#disposition").value;
        break;
    case "AddComment":
        body.comment = $("#comment").value;
        break;
    case "Send":
        body.queueName = $("#compose-queue").value.trim();
        body.email = composed(email);
        break;
    default:
        break;
    }
    return body;
}

function composed(email) {
    const fields = {};
    const to = $("#compose-to").value.split(",").map((s) => s.trim()).filter(Boolean);
    if (to.length) {
        fields.to = to;
    }
    fields.subject = $("#compose-subject").value;
    fields.body = $("#compose-body").value;
    return fields;
}

async function operate(emailId, operation) {
    const email = state.emails.get(emailId);
    const body = parameters(operation, email);
    const answer = await post(`/api/v2/me/emails/${encodeURIComponent(emailId)}`, body);
    if (answer.statusCode === 0 && (operation === "Reply" || operation === "ReplyAll")) {
        selectDraft(answer.referenceId);
    }
    if (answer.statusCode === 0 && operation === "Accept") {
        state.selected = emailId;
        render();
    }
}

async function save() {
    const emailId = state.selected;
    await post(`/api/v2/me/emails/${encodeURIComponent(emailId)}`, {
        operationName: "Save", email: composed(state.emails.get(emailId)),
    });
}

async function create() {
    const answer = await post("/api/v2/me/emails", {operationName: "Create"});
    if (answer.statusCode === 0) {
        selectDraft(answer.referenceId);
    }
}

// Select the draft a Reply or Create made: its notification carries the request's
// referenceId, and may arrive before the answer or after it.
function selectDraft(referenceId) {
    const draft = state.drafts.get(referenceId);
    if (draft !== undefined) {
        state.selected = draft;
        render();
    } else {
        state.pendingReply = referenceId;
    }
}

// ------------------------------------------------------------------ rendering

function capabilityButtons(email) {
    return (email.capabilities || []).map((operation) => {
        const button = element("button", {type: "button", "data-operation": operation, "data-email-id": email.id}, operation);
        button.addEventListener("click", () => operate(email.id, operation));
        return button;
    });
}

function render() {
    const invitations = $("#invitations");
    invitations.replaceChildren(...[...state.emails.values()]
        .filter((email) => email.state === "Invited")
        .map((email) => element("div", {class: "invitation", "data-email-id": email.id},
            element("span", {}, `Invitation: ${email.id} from ${email.from || "?"}: ${email.subject || "(no subject)"}`),
            ...capabilityButtons(email))));

    const list = $("#emails");
    const rows = [];
    for (const [map, finished] of [[state.emails, false], [state.finished, true]]) {
        for (const email of map.values()) {
            const row = element("li", {
                "data-email-id": email.id, "data-state": email.state,
                "aria-selected": String(email.id === state.selected),
                class: finished ? "finished" : "",
            }, `${email.id} `, element("span", {class: "state"}, email.state), ` ${email.subject || ""}`);
            row.addEventListener("click", () => {
                state.selected = email.id;
                render();
            });
            rows.push(row);
        }
    }
    list.replaceChildren(...rows.slice(0, 50));
    $("#no-emails").hidden = rows.length > 0;
    renderDetail();
}

let shownDraft = null;

function renderDetail() {
    const email = state.emails.get(state.selected) || state.finished.get(state.selected);
    const detail = $("#detail");
    if (!email) {
        detail.hidden = true;
        delete detail.dataset.emailId;
        return;
    }
    detail.hidden = false;
    detail.dataset.emailId = email.id;
    detail.dataset.state = email.state;
    $("#detail-id").textContent = email.id;
    $("#detail-state").textContent = email.state;
    const fields = [];
    for (const [name, value] of [["from", email.from], ["to", (email.to || []).join(", ")],
        ["subject", email.subject], ["body", email.body], ["parent", email.parentId]]) {
        if (value) {
            fields.push(element("dt", {}, name), element("dd", {"data-field": name}, value));
        }
    }
    $("#detail-fields").replaceChildren(...fields);
    $("#capabilities").replaceChildren(...capabilityButtons(email));
    const composing = email.state === "Composing";
    $("#compose").hidden = !composing;
    if (composing && shownDraft !== email.id) {
        shownDraft = email.id;
        $("#compose-to").value = (email.to || []).join(", ");
        $("#compose-subject").value = email.subject || "";
        $("#compose-body").value = email.body || "";
    }
    $("#parameters").hidden = TERMINAL.has(email.state) || email.state === "Invited";
    const userData = email.userData || {};
    $("#user-data tbody").replaceChildren(...Object.entries(userData).map(([key, value]) =>
        element("tr", {"data-key": key}, element("td", {}, key), element("td", {}, JSON.stringify(value)))));
}

$("#login-form").addEventListener("submit", (event) => {
    logIn(event).catch((error) => {
        $("#login-error").textContent = String(error);
    });
});
$("#logout").addEventListener("click", () => logOut());
$("#new-email").addEventListener("click", () => create());
$("#compose-save").addEventListener("click", () => save());
window.desktop = state;
