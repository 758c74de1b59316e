/* Presence on a target page (templates/live/_presence.html): say who is here, viewing or editing,
 * and redraw the "people" fragment when that changes. Uses RatcLive.
 *
 * The page follows its target live: when the socket says the target changed (a transition, a comment, a
 * result recorded or corrected: apps/live/events.py EVENTS says which events), "ratc:target-refresh" is
 * fired on document a moment later, on which the target page's panel re-fetches itself with htmx
 * (hx-trigger="ratc:target-refresh from:document" in templates/targeting/detail.html). While the person
 * is typing in one of the page's forms the panel is not replaced under their fingers: a note offers the
 * refresh instead. "ratc:target-removed" is fired when the target is no longer visible.
 *
 * The panel it refreshes contains this section (and this script): a second run only re-binds the
 * target's one socket to the new section, it never opens another. */
(function (window, document) {
  "use strict";
  if (window.RatcPresence) { window.RatcPresence.start(); return; }
  var sessions = {};   // target id → {el, conn, mode}
  var REFRESH_DELAY_MS = 250;

  function refetch(state) {
    var el = state.el;
    fetch(el.getAttribute("data-presence-url"), { headers: { "HX-Request": "true" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) { if (html !== null && state.el === el) el.innerHTML = html; })
      .catch(function () { /* the socket's reconnection fetches again */ });
  }

  function editing() {
    var panel = document.getElementById("panel");
    if (!panel) return false;
    var active = document.activeElement;
    if (active && active !== document.body && panel.contains(active) && active.closest("form")) return true;
    return Array.prototype.some.call(panel.querySelectorAll("textarea, input[type=text], input:not([type])"), function (field) {
      return field.value !== field.defaultValue;
    });
  }

  var refreshTimer = null;
  function refreshSoon(detail) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      if (editing()) { offerRefresh(detail); return; }
      var note = document.getElementById("lv-changed");
      if (note) note.remove();
      document.dispatchEvent(new CustomEvent("ratc:target-refresh", { detail: detail }));
    }, REFRESH_DELAY_MS);
  }

  function offerRefresh(detail) {
    if (document.getElementById("lv-changed")) return;
    var note = document.createElement("div");
    note.id = "lv-changed";
    note.className = "lv-changed";
    note.setAttribute("role", "status");
    note.setAttribute("data-testid", "target-changed-note");
    note.appendChild(document.createTextNode("This target changed while you were writing. "));
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small";
    button.textContent = "Show the changes";
    button.addEventListener("click", function () {
      note.remove();
      document.dispatchEvent(new CustomEvent("ratc:target-refresh", { detail: detail }));
    });
    note.appendChild(button);
    var panel = document.getElementById("panel");
    (panel ? panel.parentNode : document.body).insertBefore(note, panel || null);
  }

  function connect(state, pk) {
    var el = state.el;
    state.conn = window.RatcLive.connect(el.getAttribute("data-presence-ws"), {
      onOpen: function () { if (state.conn) state.conn.send({ mode: state.mode }); },
      onResync: function (reason) {
        refetch(state);
        if (reason !== "hello" || state.opened) refreshSoon({ kind: "resync", target: pk });
        state.opened = true;
      },
      onEvent: function (m) {
        if (m.kind === "presence.changed") refetch(state);
        else if (m.kind === "target.changed") refreshSoon(m);
        else if (m.kind === "target.removed") {
          state.el.textContent = "This target is no longer visible to your agency.";
          document.dispatchEvent(new CustomEvent("ratc:target-removed", { detail: m }));
        }
      }
    });
    var heartbeat = (parseInt(el.getAttribute("data-heartbeat"), 10) || 25) * 1000;
    setInterval(function () { state.conn.send({ ping: 1, mode: state.mode }); }, heartbeat);
  }

  function setMode(next) {
    Object.keys(sessions).forEach(function (pk) {
      var state = sessions[pk];
      if (next !== state.mode) { state.mode = next; if (state.conn) state.conn.send({ mode: next }); }
    });
  }

  function start() {
    document.querySelectorAll("[data-presence-ws]").forEach(function (el) {
      if (!window.RatcLive || el.getAttribute("data-started")) return;
      el.setAttribute("data-started", "1");
      var pk = el.getAttribute("data-presence");
      var state = sessions[pk];
      if (state) {          // the panel was redrawn: the same socket, the new section
        state.el = el;
        refetch(state);
        return;
      }
      state = sessions[pk] = { el: el, conn: null, mode: "viewing", opened: false };
      connect(state, pk);
    });
  }

  document.addEventListener("focusin", function (e) { if (e.target.closest && e.target.closest("form")) setMode("editing"); });
  document.addEventListener("focusout", function () {
    setTimeout(function () { var a = document.activeElement; if (!a || !a.closest || !a.closest("form")) setMode("viewing"); }, 200);
  });

  window.RatcPresence = { start: start };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})(window, document);
