/* RATC Ops — the frontline tablet: works with a weak network or none.

   Every result goes into an outbox in IndexedDB first, with an idempotency key made here, and is then
   sent; if the network is gone it stays there (photos included) and is sent when the network returns,
   on the next page load, or when the officer taps "Send now". The server stores a key once, so a
   result sent twice (a reply lost on the way back) is still one result. */
(function () {
  "use strict";

  const app = document.getElementById("fl-app");
  if (!app) return;
  const USER = app.dataset.user;
  const DB_NAME = "ratc-frontline";
  const STORE = "outbox";
  const RETRY_MS = 20000;
  let syncing = false;

  // ------------------------------------------------------------------ service worker

  if ("serviceWorker" in navigator && app.dataset.sw) {
    navigator.serviceWorker.register(app.dataset.sw, { scope: app.dataset.scope }).catch(() => {});
    // Another officer signed in on this tablet: the pages kept for the last one are not theirs.
    if (localStorage.getItem("fl-user") && localStorage.getItem("fl-user") !== USER && "caches" in window) {
      caches.delete("fl-pages");
    }
    localStorage.setItem("fl-user", USER);
    keepOpenInstructions();
  }

  function keepOpenInstructions(extra) {
    const listed = document.getElementById("fl-keep");
    if (!listed || !navigator.onLine || !("serviceWorker" in navigator)) return;
    const urls = [location.pathname + location.search, app.dataset.scope].concat(JSON.parse(listed.textContent), extra || []);
    navigator.serviceWorker.ready.then((registration) => {
      if (registration.active) registration.active.postMessage({ type: "keep", urls: urls });
    });
  }

  navigator.serviceWorker && navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data && event.data.type === "kept") app.dataset.kept = String(event.data.count);
  });

  document.querySelectorAll('form[action$="/logout/"]').forEach((form) => {
    form.addEventListener("submit", () => {
      if ("caches" in window) caches.delete("fl-pages");
    });
  });

  // ------------------------------------------------------------------ the outbox (IndexedDB)

  function openDb() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "key" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  async function withStore(mode, work) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
    });
  }

  const outbox = {
    all: () => withStore("readonly", (store) => store.getAll()),
    put: (entry) => withStore("readwrite", (store) => store.put(entry)),
    remove: (key) => withStore("readwrite", (store) => store.delete(key)),
  };

  // Results this tablet sent, by instruction, for a day: a page kept from before the sync (or a list not
  // yet re-fetched) still says "Result sent" instead of "Dispatched", and offers no second recording.
  const SENT_KEY = `fl-sent-${USER}`;
  const SENT_FOR_MS = 24 * 3600 * 1000;

  function sentResults() {
    let found = {};
    try { found = JSON.parse(localStorage.getItem(SENT_KEY) || "{}") || {}; } catch (error) { found = {}; }
    const now = Date.now();
    Object.keys(found).forEach((id) => { if (!(now - Date.parse(found[id].at) < SENT_FOR_MS)) delete found[id]; });
    return found;
  }

  function noteSent(entry) {
    const action = (entry.fields.find(([name]) => name === "action") || [])[1] || "record";
    if (action !== "record") return;
    const found = sentResults();
    found[entry.instruction] = { at: new Date().toISOString(), reference: entry.reference, outcome: entry.outcomeLabel };
    try { localStorage.setItem(SENT_KEY, JSON.stringify(found)); } catch (error) { /* storage full: the list re-fetch says it */ }
  }

  function clock(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function actionOf(form) {
    // Not ``form.action``: the form's own <input name="action"> shadows that property.
    return new URL(form.getAttribute("action") || location.href, location.href).href;
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function localIso(value) {
    // A datetime-local value is the tablet's own time: send it with its offset.
    if (!value) return "";
    const moment = new Date(value);
    if (isNaN(moment)) return value;
    return isoWithOffset(moment);
  }

  function isoWithOffset(moment) {
    const pad = (n) => String(Math.abs(Math.trunc(n))).padStart(2, "0");
    const offset = -moment.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    return `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}T${pad(moment.getHours())}:` +
      `${pad(moment.getMinutes())}:${pad(moment.getSeconds())}${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
  }

  function localInputValue(moment) {
    return isoWithOffset(moment).slice(0, 16);
  }

  // ------------------------------------------------------------------ sending

  async function send(entry) {
    const body = new FormData();
    entry.fields.forEach(([name, value]) => body.append(name, value));
    entry.files.forEach((file) => body.append(file.field, file.blob, file.name));
    let response;
    try {
      response = await fetch(entry.url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      });
    } catch (error) {
      return "offline";
    }
    if (response.status === 200 || response.status === 201) {
      await outbox.remove(entry.key);
      localStorage.removeItem(`fl-start-${entry.instruction}`);
      noteSent(entry);
      return "sent";
    }
    if (response.status === 400 || response.status === 409) {
      let errors = {};
      try { errors = (await response.json()).errors || {}; } catch (error) { /* not JSON */ }
      entry.status = "refused";
      entry.error = Object.values(errors).join(" ") || "The server refused this result.";
      await outbox.put(entry);
      return "refused";
    }
    if (response.redirected || response.status === 403 || response.status === 401) {
      entry.status = "signin";
      entry.error = "Sign in again to send it.";
      await outbox.put(entry);
      return "signin";
    }
    entry.status = "waiting";
    entry.error = `Not sent yet (server answered ${response.status}); it will be tried again.`;
    await outbox.put(entry);
    return "retry";
  }

  async function sync() {
    if (syncing) return;
    syncing = true;
    const sent = [];
    try {
      const entries = (await outbox.all()).filter((e) => e.user === USER && e.status !== "refused");
      entries.sort((a, b) => (a.enteredAt < b.enteredAt ? -1 : 1));
      for (const entry of entries) {
        const outcome = await send(entry);
        if (outcome === "offline") { setNetwork(false); break; }
        setNetwork(true);
        if (outcome === "sent") sent.push(entry);
        if (outcome === "sent" && app.dataset.page === "instruction" && entry.instruction === app.dataset.instruction) {
          location.reload();
        }
      }
    } finally {
      syncing = false;
      await render();
    }
    if (sent.length) {
      // The list now says what the server has: those instructions were worked, their results recorded.
      await refreshList();
      keepOpenInstructions(sent.map((entry) => new URL(entry.url, location.href).pathname));
    }
  }

  // ------------------------------------------------------------------ the list, live

  async function refreshList(highlight) {
    const holder = document.querySelector("[data-fl-list]");
    if (!holder || app.dataset.page !== "home") return;
    const query = new URLSearchParams(location.search);
    query.set("part", "list");
    let response;
    try {
      response = await fetch(`${location.pathname}?${query}`, {
        credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" },
      });
    } catch (error) {
      return; // offline: the socket's reconnection or the next sync fetches it again
    }
    if (!response.ok || response.redirected) return;
    const box = document.createElement("div");
    box.innerHTML = await response.text();
    const fresh = box.querySelector("[data-fl-list]");
    if (!fresh) return;
    const before = new Set(Array.from(holder.querySelectorAll("[data-instruction]"), (card) => card.dataset.instruction));
    holder.replaceWith(fresh);
    if (highlight) {
      fresh.querySelectorAll("[data-instruction]").forEach((card) => {
        if (!before.has(card.dataset.instruction)) card.classList.add("is-new");
      });
    }
    const count = document.querySelector("[data-testid=open-count]");
    if (count) count.textContent = fresh.dataset.open;
    await render();
  }

  // A new instruction for this officer's port (static/js/notifications.js relays the socket's message).
  document.addEventListener("ratc:notification", (event) => {
    const message = event.detail || {};
    if (message.kind === "instruction.dispatched" && app.dataset.page === "home") {
      refreshList(true).then(() => keepOpenInstructions());
    }
  });

  // ------------------------------------------------------------------ what the officer sees

  function setNetwork(online) {
    document.querySelectorAll("[data-net]").forEach((net) => {
      net.classList.toggle("is-offline", !online);
      net.querySelector("[data-net-text]").textContent = online ? "Online" : "Offline — work is kept on this tablet";
    });
  }

  const STATUS_TEXT = {
    waiting: "Waiting for the network",
    signin: "Sign in again to send",
    refused: "Refused by the server",
  };

  async function render() {
    let entries = [];
    try { entries = await outbox.all(); } catch (error) { return; }
    const mine = entries.filter((e) => e.user === USER);
    const panel = document.querySelector("[data-outbox]");
    const list = document.querySelector("[data-outbox-list]");
    const badge = document.querySelector("[data-outbox-badge]");
    if (panel && list) {
      panel.hidden = mine.length === 0;
      list.replaceChildren(...mine.map((entry) => {
        const item = document.createElement("li");
        item.className = `fl-outbox-item is-${entry.status}`;
        item.dataset.testid = "outbox-item";
        const title = document.createElement("strong");
        title.textContent = `${entry.reference} · ${entry.outcomeLabel}`;
        const meta = document.createElement("span");
        const when = new Date(entry.enteredAt);
        meta.textContent = ` saved ${when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" })}` +
          `${entry.files.length ? ` · ${entry.files.length} photo${entry.files.length > 1 ? "s" : ""}` : ""} — ` +
          (entry.error || STATUS_TEXT[entry.status] || "");
        item.append(title, meta);
        if (entry.status === "refused") {
          const drop = document.createElement("button");
          drop.type = "button";
          drop.className = "fl-btn fl-btn-secondary";
          drop.textContent = "Discard";
          drop.addEventListener("click", async () => {
            if (confirm("Discard this result from the tablet? It was refused by the server.")) {
              await outbox.remove(entry.key);
              render();
            }
          });
          item.append(drop);
        }
        return item;
      }));
    }
    if (badge) {
      badge.hidden = mine.length === 0;
      badge.textContent = `${mine.length} waiting`;
    }
    const pending = new Set(mine.map((e) => e.instruction));
    const sent = sentResults();
    document.querySelectorAll(".fl-card[data-instruction]").forEach((card) => {
      const id = card.dataset.instruction;
      const note = card.querySelector("[data-pending-note]");
      if (note) note.hidden = !pending.has(id);
      card.classList.toggle("is-pending", pending.has(id));
      card.classList.toggle("is-sent", !pending.has(id) && id in sent);
      const pill = card.querySelector("[data-state-pill]");
      if (!pill) return;
      if (!pill.dataset.serverText) {
        pill.dataset.serverText = pill.textContent;
        pill.dataset.serverClass = pill.className;
      }
      if (pending.has(id)) {
        pill.textContent = "Saved, not sent";
        pill.className = "fl-state fl-state-pending";
      } else if (id in sent) {
        pill.textContent = `Result sent ${clock(sent[id].at)}`;
        pill.className = "fl-state fl-state-sent";
      } else {
        pill.textContent = pill.dataset.serverText;
        pill.className = pill.dataset.serverClass;
      }
    });
    const form = document.querySelector('form[data-outbox-form="record"]');
    if (form && pending.has(form.dataset.instruction)) lockForm(form, "Saved on this tablet. It will be sent when the network returns.");
    if (form && !pending.has(form.dataset.instruction) && form.dataset.instruction in sent) {
      showSent(form, sent[form.dataset.instruction]);
    }
  }

  // A page kept from before the result was sent: no second recording, say what happened instead.
  function showSent(form, record) {
    if (form.dataset.sentShown) return;
    form.dataset.sentShown = "1";
    form.hidden = true;
    form.querySelectorAll("input, select, textarea, button").forEach((el) => { el.disabled = true; });
    const start = document.querySelector("[data-start-form]");
    if (start) start.hidden = true;
    const note = document.createElement("p");
    note.className = "fl-sent-note";
    note.setAttribute("role", "status");
    note.dataset.testid = "sent-note";
    note.textContent = `Result sent from this tablet at ${clock(record.at)} (${record.outcome}). It is recorded; a supervisor can correct it.`;
    form.after(note);
  }

  function lockForm(form, text) {
    form.classList.add("is-saved");
    form.querySelectorAll("input, select, textarea, button").forEach((el) => { el.disabled = true; });
    const saved = form.querySelector("[data-saved]");
    if (saved) { saved.hidden = false; saved.textContent = text; }
  }

  document.querySelectorAll("[data-sync-now], [data-outbox-badge]").forEach((button) => {
    button.addEventListener("click", () => {
      const panel = document.querySelector("[data-outbox]");
      if (panel) panel.scrollIntoView({ behavior: "smooth", block: "start" });
      sync();
    });
  });

  // ------------------------------------------------------------------ the result form

  function showGoods(form) {
    const outcome = form.querySelector("[data-outcome]:checked");
    const section = form.querySelector("[data-goods-section]");
    if (section) section.hidden = !outcome || outcome.value === "no_finding";
  }

  document.querySelectorAll("form[data-outbox-form]").forEach((form) => {
    const extras = form.querySelectorAll("[data-goods-row][data-extra]");
    extras.forEach((row) => { row.hidden = true; });
    const add = form.querySelector("[data-add-goods]");
    if (add && extras.length) {
      add.hidden = false;
      add.addEventListener("click", () => {
        const next = form.querySelector("[data-goods-row][data-extra][hidden]");
        if (next) { next.hidden = false; next.querySelector("select").focus(); }
        if (!form.querySelector("[data-goods-row][data-extra][hidden]")) add.hidden = true;
      });
    }
    form.querySelectorAll("[data-outcome]").forEach((radio) => radio.addEventListener("change", () => showGoods(form)));
    showGoods(form);

    const photos = form.querySelector("[data-photos]");
    const thumbs = form.querySelector("[data-thumbs]");
    if (photos && thumbs) {
      photos.addEventListener("change", () => {
        thumbs.replaceChildren(...Array.from(photos.files).map((file) => {
          const img = document.createElement("img");
          img.src = URL.createObjectURL(file);
          img.alt = file.name;
          return img;
        }));
      });
    }

    form.addEventListener("submit", async (event) => {
      if (form.dataset.busy) { event.preventDefault(); return; } // a second tap while the first is handled
      if (!window.indexedDB) {
        // No storage: the plain form post still works; the button is disabled once it is on its way.
        form.dataset.busy = "1";
        setTimeout(() => form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; }), 0);
        return;
      }
      event.preventDefault();
      if (form.classList.contains("is-saved")) return;
      form.dataset.busy = "1";
      form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; });
      const keyField = form.querySelector("[data-key]");
      // One key per result entered: a double tap or a retry sends the same key.
      if (!form.dataset.key) form.dataset.key = newKey();
      keyField.value = form.dataset.key;
      const ended = form.querySelector("[name=ended_at]");
      if (ended && !ended.value) ended.value = localInputValue(new Date());
      const started = form.querySelector("[name=started_at]");
      if (started && !started.value) started.value = localStorage.getItem(`fl-start-${form.dataset.instruction}`) || ended.value;
      const data = new FormData(form);
      const fields = [];
      const files = [];
      for (const [name, value] of data.entries()) {
        if (name === "csrfmiddlewaretoken") continue; // the cookie's token is sent when it goes
        if (value instanceof File) {
          if (value.size) files.push({ field: name, name: value.name, blob: value });
        } else if (name === "started_at" || name === "ended_at") {
          fields.push([name, localIso(value)]);
        } else if (name === "entered_at") {
          fields.push([name, isoWithOffset(new Date())]);
        } else {
          fields.push([name, value]);
        }
      }
      const outcome = form.querySelector("[data-outcome]:checked");
      const entry = {
        key: form.dataset.key,
        user: USER,
        url: actionOf(form),
        instruction: form.dataset.instruction,
        reference: form.dataset.reference,
        outcomeLabel: outcome ? outcome.parentElement.textContent.trim() : "Result",
        fields: fields,
        files: files,
        enteredAt: new Date().toISOString(),
        status: "waiting",
        error: "",
      };
      await outbox.put(entry);
      if (form.dataset.outboxForm === "record") lockForm(form, "Saved on this tablet. Sending…");
      const result = await send(entry);
      if (result === "sent") {
        location.reload();
        return;
      }
      if (result === "offline") {
        setNetwork(false);
        lockForm(form, "Saved on this tablet. It will be sent when the network returns.");
      } else if (result === "refused") {
        // Give the officer the form back with the server's reason; the entry leaves the outbox.
        await outbox.remove(entry.key);
        form.classList.remove("is-saved");
        form.querySelectorAll("input, select, textarea, button").forEach((el) => { el.disabled = false; });
        delete form.dataset.key;
        delete form.dataset.busy;
        const saved = form.querySelector("[data-saved]");
        saved.hidden = false;
        saved.textContent = `Not recorded: ${entry.error}`;
        saved.classList.add("is-error");
      }
      render();
    });
  });

  // ------------------------------------------------------------------ start examination

  const startForm = document.querySelector("[data-start-form]");
  if (startForm) {
    startForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const now = new Date();
      const id = app.dataset.instruction;
      localStorage.setItem(`fl-start-${id}`, localInputValue(now));
      const started = document.querySelector("form[data-outbox-form] [data-started]");
      if (started && !started.value) started.value = localInputValue(now);
      const note = document.querySelector("[data-started-note]");
      if (note) {
        note.hidden = false;
        note.querySelector("[data-started-text]").textContent = now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      }
      startForm.hidden = true;
      const body = new FormData();
      body.append("action", "start");
      try {
        await fetch(actionOf(startForm), {
          method: "POST", body: body, credentials: "same-origin",
          headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        });
      } catch (error) {
        setNetwork(false); // recorded with the result when it is sent
      }
    });
    const id = app.dataset.instruction;
    const kept = localStorage.getItem(`fl-start-${id}`);
    const started = document.querySelector("form[data-outbox-form] [data-started]");
    if (kept && started && !started.value) started.value = kept;
  }

  // ------------------------------------------------------------------ network changes

  window.addEventListener("online", () => { setNetwork(true); sync(); keepOpenInstructions(); });
  window.addEventListener("offline", () => setNetwork(false));
  setNetwork(navigator.onLine);
  render().then(() => { if (navigator.onLine) sync(); });
  setInterval(() => { if (navigator.onLine) sync(); }, RETRY_MS);
})();
