/*
 * RATC Ops — personal notifications in the header: new instructions for one's port, @mentions,
 * corrected examination results.
 *
 * Loaded on every signed-in page (templates/base.html). It puts a bell with the unread count into the
 * header, opens ws/notifications/ (through RatcLive, static/js/live.js, loaded here if the page has not)
 * and, whenever the socket says something happened, re-fetches the list from /live/notifications/:
 * the socket carries only kinds and ids, the list is drawn by the server from what the person may see
 * now. Lines that are new since the page loaded pop up as toasts; with "Sound and vibration" on (kept
 * in localStorage) a chime made with WebAudio plays and a tablet vibrates.
 *
 * For other scripts on the page it fires on document:
 *   "ratc:notification"  detail = the socket message ({kind, seq, target, instruction?})
 * (the tablet's list refreshes itself on an "instruction.dispatched").
 */
(function (window, document) {
  "use strict";
  if (window.RatcNotifications) return;
  var script = document.currentScript;
  var LIST_URL = (script && script.getAttribute("data-list")) || "/live/notifications/";
  var SEEN_URL = (script && script.getAttribute("data-seen")) || "/live/notifications/seen/";
  var LIVE_JS = script && script.getAttribute("data-live-js");
  var SOUND_KEY = "ratc-notify-sound";
  var TOAST_MS = 12000;
  var MAX_TOASTS = 3;

  var known = {};           // keys of lines already in the list (no toast for them again)
  var loaded = false;       // the first fetch fills ``known`` without toasts
  var fetching = null, again = false;
  var ui = null, audio = null;

  // ------------------------------------------------------------------ sound and vibration

  function soundOn() {
    try { return window.localStorage.getItem(SOUND_KEY) === "on"; } catch (e) { return false; }
  }

  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audio) audio = new Context();
    if (audio.state === "suspended" && audio.resume) audio.resume().catch(function () {});
    return audio;
  }

  /* Two short rising tones, made here: no sound file to fetch, nothing from outside. */
  function chime() {
    var ctx = audioContext();
    if (!ctx) return;
    var now = ctx.currentTime;
    [[880, 0], [1318.5, 0.16]].forEach(function (tone) {
      var osc = ctx.createOscillator(), gain = ctx.createGain(), at = now + tone[1];
      osc.type = "sine";
      osc.frequency.setValueAtTime(tone[0], at);
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.32);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(at);
      osc.stop(at + 0.35);
    });
  }

  function alertPerson() {
    if (!soundOn()) return;
    try { chime(); } catch (e) { /* no audio output */ }
    if (navigator.vibrate) { try { navigator.vibrate([180, 90, 180]); } catch (e) { /* not allowed */ } }
  }

  // Browsers start audio only after a touch or a key on the page: wake it on the first one.
  function unlockAudio() {
    if (soundOn()) audioContext();
    document.removeEventListener("pointerdown", unlockAudio, true);
    document.removeEventListener("keydown", unlockAudio, true);
  }
  document.addEventListener("pointerdown", unlockAudio, true);
  document.addEventListener("keydown", unlockAudio, true);

  // ------------------------------------------------------------------ the header's bell and list

  function csrfToken() {
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (e) { /* not JSON */ }
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function element(tag, attrs, text) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text) el.textContent = text;
    return el;
  }

  function build(host) {
    var root = element("div", { "class": "nt", "data-notifications": "" });
    var bell = element("button", {
      type: "button", "class": "btn btn-ghost nt-bell", "aria-expanded": "false", "aria-controls": "nt-panel",
      "aria-label": "Notifications", "data-testid": "notifications-bell"
    });
    bell.innerHTML = '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" ' +
      'd="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z"/></svg>';
    var count = element("span", { "class": "nt-count", "data-testid": "notifications-count", hidden: "" }, "0");
    bell.appendChild(count);
    var panel = element("section", { "class": "nt-panel", id: "nt-panel", hidden: "", "aria-label": "Notifications" });
    var head = element("header", { "class": "nt-head" });
    head.appendChild(element("h2", {}, "Notifications"));
    var toggle = element("label", { "class": "nt-sound" });
    var box = element("input", { type: "checkbox", "data-testid": "notifications-sound" });
    box.checked = soundOn();
    toggle.appendChild(box);
    toggle.appendChild(document.createTextNode(" Sound and vibration"));
    head.appendChild(toggle);
    var list = element("div", { "class": "nt-list", "aria-live": "polite" });
    list.appendChild(element("p", { "class": "nt-empty" }, "Loading…"));
    panel.appendChild(head);
    panel.appendChild(list);
    root.appendChild(bell);
    root.appendChild(panel);
    host.insertBefore(root, host.firstChild);

    box.addEventListener("change", function () {
      try { window.localStorage.setItem(SOUND_KEY, box.checked ? "on" : "off"); } catch (e) { /* private mode */ }
      if (box.checked) { audioContext(); alertPerson(); } // a sample, and the tap unlocks audio
    });
    bell.addEventListener("click", function () { setOpen(panel.hidden); });
    document.addEventListener("click", function (e) {
      if (!panel.hidden && !root.contains(e.target)) setOpen(false);
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && !panel.hidden) { setOpen(false); bell.focus(); }
    });
    return { root: root, bell: bell, count: count, panel: panel, list: list };
  }

  function setCount(n) {
    ui.count.textContent = n > 99 ? "99+" : String(n);
    ui.count.hidden = n <= 0;
    ui.bell.setAttribute("aria-label", n > 0 ? "Notifications, " + n + " unread" : "Notifications");
  }

  function setOpen(open) {
    ui.panel.hidden = !open;
    ui.bell.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) {
      markSeen();
    } else {
      ui.list.querySelectorAll(".is-unread").forEach(function (a) { a.classList.remove("is-unread"); });
    }
  }

  function markSeen() {
    setCount(0);
    fetch(SEEN_URL, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "X-Requested-With": "fetch" }
    }).catch(function () { /* offline: the list stays unread until next time */ });
  }

  // ------------------------------------------------------------------ toasts

  function toastBox() {
    var box = document.getElementById("nt-toasts");
    if (!box) {
      box = element("div", { id: "nt-toasts", "class": "nt-toasts", role: "status", "aria-live": "polite" });
      document.body.appendChild(box);
    }
    return box;
  }

  function toast(line) {
    var item = element("a", { "class": "nt-toast nt-toast-" + (line.getAttribute("data-kind") || "info"), href: line.getAttribute("href"), "data-testid": "notification-toast" });
    var title = line.querySelector(".nt-title"), text = line.querySelector(".nt-text");
    item.appendChild(element("strong", {}, title ? title.textContent : "New notification"));
    if (text) item.appendChild(element("span", {}, text.textContent));
    var close = element("button", { type: "button", "class": "nt-toast-x", "aria-label": "Dismiss" }, "×");
    close.addEventListener("click", function (e) { e.preventDefault(); e.stopPropagation(); item.remove(); });
    item.appendChild(close);
    var box = toastBox();
    box.appendChild(item);
    while (box.children.length > MAX_TOASTS) box.removeChild(box.firstChild);
    setTimeout(function () { item.remove(); }, TOAST_MS);
  }

  // ------------------------------------------------------------------ fetching the list

  function refresh() {
    if (fetching) { again = true; return fetching; }
    fetching = fetch(LIST_URL, { credentials: "same-origin", cache: "no-store", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) {
        if (html === null) return;
        ui.list.innerHTML = html;
        var holder = ui.list.querySelector("[data-unread]");
        var fresh = [];
        ui.list.querySelectorAll("[data-key]").forEach(function (line) {
          var key = line.getAttribute("data-key");
          if (!known[key] && loaded && line.getAttribute("data-unread") === "1") fresh.push(line);
          known[key] = true;
        });
        setCount(ui.panel.hidden && holder ? parseInt(holder.getAttribute("data-unread"), 10) || 0 : 0);
        if (!ui.panel.hidden && fresh.length) markSeen();
        loaded = true;
        if (fresh.length) {
          fresh.slice(0, MAX_TOASTS).reverse().forEach(toast);
          alertPerson();
        }
      })
      .catch(function () { /* offline: the socket's reconnection fetches again */ })
      .then(function () {
        fetching = null;
        if (again) { again = false; refresh(); }
      });
    return fetching;
  }

  function listen() {
    window.RatcLive.connect("/ws/notifications/", {
      onResync: refresh,
      onEvent: function (message) {
        document.dispatchEvent(new CustomEvent("ratc:notification", { detail: message }));
        refresh();
      },
      onStatus: function (state) { if (ui) ui.root.setAttribute("data-state", state); }
    });
  }

  function withLive(then) {
    if (window.RatcLive) { then(); return; }
    if (!LIVE_JS) return;
    var tag = document.createElement("script");
    tag.src = LIVE_JS;
    tag.onload = function () { if (window.RatcLive) then(); };
    document.head.appendChild(tag);
  }

  function start() {
    var host = document.querySelector(".topbar-actions");
    if (!host || !document.querySelector("[data-testid=who]") || !("WebSocket" in window)) return;
    ui = build(host);
    withLive(listen);
  }

  window.RatcNotifications = { refresh: refresh };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})(window, document);
