// The live inspector: the lifecycle diagram (the SVG generated from the lifecycle table),
// a marker per email on its phase, each agent's notifications, and an email's history.
//
// GET /inspector/state gives the picture and the number of its last entry (`seq`);
// /inspector/feed (Server-Sent Events) the entries after it. The markers are placed by
// reading the position of each phase's node (<g class="node"><title>Phase</title>) in
// the SVG, so the page follows whatever layout Graphviz chose.

const SVG = "http://www.w3.org/2000/svg";
const MAX_SHOWN = {live: 15, terminal: 8};

const view = {
    seq: 0,
    terminal: new Set(),
    emails: new Map(),   // id -> summary (with `seen`: the seq that last changed it)
    nodes: new Map(),    // phase -> bounding box in the diagram's coordinates
    layer: null,         // the <g> of the markers
    markers: new Map(),  // id -> <g class="marker">
    selected: null,
    agents: new Map(),   // agent -> <ol>
    source: null,
    waiting: [],         // entries received while the state loads (null: none loading)
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

function svgElement(tag, attributes = {}) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) {
        node.setAttribute(key, value);
    }
    return node;
}

// ------------------------------------------------------------------ the diagram

async function loadDiagram() {
    const text = await (await fetch("/static/lifecycle.svg")).text();
    const holder = $("#diagram");
    holder.innerHTML = text.replace(/^[\s\S]*?(<svg)/, "$1");
    const svg = holder.querySelector("svg");
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    // Room under the lowest nodes (the terminal phases) for their markers.
    const [x, y, width, height] = svg.getAttribute("viewBox").split(/\s+/).map(Number);
    svg.setAttribute("viewBox", `${x} ${y} ${width} ${height + 70}`);
    const graph = svg.querySelector("g.graph");
    for (const node of svg.querySelectorAll("g.node")) {
        const title = node.querySelector("title");
        if (title) {
            node.dataset.phase = title.textContent.trim();
            view.nodes.set(node.dataset.phase, node.getBBox());
        }
    }
    view.layer = svgElement("g", {id: "markers"});
    graph.append(view.layer);
}

function placeMarkers() {
    const byPhase = new Map();
    for (const email of view.emails.values()) {
        if (!byPhase.has(email.phase)) {
            byPhase.set(email.phase, []);
        }
        byPhase.get(email.phase).push(email);
    }
    const keep = new Set();
    for (const overflow of view.layer.querySelectorAll(".overflow")) {
        overflow.remove();
    }
    for (const [phase, emails] of byPhase) {
        const box = view.nodes.get(phase);
        if (!box) {
            continue;
        }
        const terminal = view.terminal.has(phase);
        emails.sort((a, b) => b.seen - a.seen || a.id.localeCompare(b.id));
        const limit = terminal ? MAX_SHOWN.terminal : MAX_SHOWN.live;
        const shown = emails.slice(0, limit);
        const perRow = Math.max(3, Math.floor(Math.max(box.width, 60) / 20));
        shown.forEach((email, index) => {
            const x = box.x + 10 + (index % perRow) * 20;
            const y = box.y + box.height + 12 + Math.floor(index / perRow) * 20;
            const marker = markerOf(email);
            marker.dataset.phase = phase;
            marker.dataset.terminal = String(terminal);
            marker.style.transform = `translate(${x}px, ${y}px)`;
            marker.querySelector("title").textContent = describe(email);
            keep.add(email.id);
        });
        if (emails.length > limit) {
            const rows = Math.ceil(limit / perRow);
            const note = svgElement("text", {
                class: "overflow", x: box.x + 2, y: box.y + box.height + 14 + rows * 20,
            });
            note.textContent = `+${emails.length - limit} more`;
            view.layer.append(note);
        }
    }
    for (const [id, marker] of view.markers) {
        if (!keep.has(id)) {
            marker.remove();
            view.markers.delete(id);
        }
    }
    const live = [...view.emails.values()].filter((e) => !view.terminal.has(e.phase)).length;
    $("#counts").textContent = `${live} live emails, ${view.seq} decisions`;
}

function markerOf(email) {
    let marker = view.markers.get(email.id);
    if (!marker) {
        marker = svgElement("g", {class: "marker", "data-email-id": email.id});
        marker.append(svgElement("circle", {r: 9}));
        const label = svgElement("text", {"text-anchor": "middle", dy: "3"});
        label.textContent = email.id.length > 4 ? email.id.slice(-3) : email.id;
        marker.append(label, svgElement("title"));
        marker.addEventListener("click", () => select(email.id));
        view.layer.append(marker);
        view.markers.set(email.id, marker);
    }
    marker.classList.toggle("selected", email.id === view.selected);
    return marker;
}

function describe(email) {
    const who = email.owner ? `owner ${email.owner}` : email.invitee ? `invitee ${email.invitee}` : `queue ${email.queue}`;
    return `${email.id} ${email.phase}, ${who}: ${email.subject || "(no subject)"}`;
}

// ------------------------------------------------------------------ entries

function entryText(entry) {
    const who = entry.agent === null ? "system" : entry.agent;
    const on = entry.emailId ? ` ${entry.emailId}` : "";
    const answer = entry.answer;
    let what;
    if (entry.accepted) {
        const phases = entry.emails.map((e) => `${e.id} ${e.phase}`).join(", ");
        what = `${entry.events.join(", ")} -> ${phases}`;
    } else {
        what = `refused: statusCode ${answer.statusCode}: ${answer.statusMessage}`;
    }
    const time = new Date(entry.time * 1000).toLocaleTimeString();
    return [`#${entry.seq} ${time} ${who} ${entry.operation}${on}: `, what];
}

function entryItem(entry) {
    const [head, what] = entryText(entry);
    return element("li", {
        "data-seq": String(entry.seq), "data-accepted": String(entry.accepted),
        "data-operation": entry.operation, "data-status-code": String(entry.answer.statusCode),
    }, head, element("span", {class: "what"}, what));
}

function prependBounded(list, item, limit = 200) {
    list.prepend(item);
    while (list.children.length > limit) {
        list.lastChild.remove();
    }
}

function agentLog(agent) {
    let log = view.agents.get(agent);
    if (!log) {
        log = element("ol");
        const box = element("div", {class: "agent-log", "data-agent": agent}, element("h3", {}, agent), log);
        $("#agents").append(box);
        view.agents.set(agent, log);
    }
    return log;
}

function notificationItem(n) {
    return element("li", {"data-email-id": n.emailId, "data-state": n.state, "data-type": n.type},
        `${n.type} ${n.emailId} ${n.state}` + (n.capabilities.length ? ` [${n.capabilities.join(", ")}]` : ""));
}

function apply(entry) {
    if (entry.seq <= view.seq) {
        return;
    }
    view.seq = entry.seq;
    for (const email of entry.emails) {
        view.emails.set(email.id, {...email, seen: entry.seq});
    }
    for (const n of entry.notifications) {
        prependBounded(agentLog(n.agent), notificationItem(n), 100);
    }
    prependBounded($("#entries"), entryItem(entry));
    const ids = new Set(entry.emails.map((e) => e.id));
    if (entry.emailId) {
        ids.add(entry.emailId);
    }
    if (view.selected && ids.has(view.selected)) {
        $("#history-entries").append(entryItem(entry));
        const email = view.emails.get(view.selected);
        if (email) {
            showSummary(email);
        }
    }
    placeMarkers();
}

// ------------------------------------------------------------------ history

function showSummary(email) {
    $("#history").dataset.phase = email.phase;
    $("#history-phase").textContent = email.phase;
    $("#history-summary").textContent = describe(email);
}

async function select(id) {
    view.selected = id;
    for (const [other, marker] of view.markers) {
        marker.classList.toggle("selected", other === id);
    }
    const response = await fetch(`/inspector/emails/${encodeURIComponent(id)}`);
    const found = await response.json();
    const panel = $("#history");
    panel.hidden = false;
    panel.dataset.emailId = id;
    $("#history-id").textContent = id;
    if (found.email) {
        showSummary(found.email);
    }
    $("#history-entries").replaceChildren(...(found.history || []).map(entryItem));
    panel.dataset.loaded = "true";
}

// ------------------------------------------------------------------ state and feed

async function loadState() {
    view.waiting = [];  // the entries that arrive meanwhile, applied after the picture
    const picture = await (await fetch("/inspector/state")).json();
    view.terminal = new Set(picture.terminal);
    view.seq = picture.seq;
    view.emails = new Map(picture.emails.map((e) => [e.id, {...e, seen: 0}]));
    for (const entry of picture.entries) {
        for (const email of entry.emails) {
            const known = view.emails.get(email.id);
            if (known) {
                known.seen = entry.seq;
            }
        }
    }
    $("#entries").replaceChildren(...picture.entries.slice().reverse().map(entryItem));
    $("#agents").replaceChildren();
    view.agents.clear();
    for (const [agent, notifications] of Object.entries(picture.agents)) {
        const log = agentLog(agent);
        log.replaceChildren(...notifications.slice().reverse().map(notificationItem));
    }
    placeMarkers();
    const waiting = view.waiting;
    view.waiting = null;
    waiting.forEach(apply);
    document.body.dataset.ready = "true";
}

function listen() {
    const source = new EventSource("/inspector/feed");
    view.source = source;
    source.onopen = () => {
        $("#feed").dataset.state = "online";
        $("#feed").textContent = "live";
        loadState();  // what happened while the feed was closed
    };
    source.onerror = () => {
        $("#feed").dataset.state = "offline";
        $("#feed").textContent = "feed offline";
    };
    source.onmessage = (message) => {
        const entry = JSON.parse(message.data);
        if (view.waiting) {
            view.waiting.push(entry);
        } else {
            apply(entry);
        }
    };
}

await loadDiagram();
listen();
window.inspector = view;
