/* A live board: re-fetch the board's sections on events (debounced), on resync and on reconnect;
 * tick the countdowns and the clock every second; drop removed targets at once. Uses RatcLive. */
(function (document) {
  "use strict";
  function start() {
    var root = document.querySelector("[data-board-ws]");
    if (!root || !window.RatcLive) return;
    var box = document.getElementById("board-sections");
    var url = root.getAttribute("data-board-url");
    var status = root.querySelector("[data-live-status]");
    var label = root.querySelector("[data-live-label]");
    var inflight = false, again = false, timer = null, changed = {};
    var LABELS = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", closed: "Offline — reload" };

    function setStatus(state) {
      status.setAttribute("data-state", state);
      label.textContent = LABELS[state] || state;
      root.setAttribute("data-live", state);
    }

    function refetch() {
      if (inflight) { again = true; return; }
      inflight = true;
      var flash = changed; changed = {};
      fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin", cache: "no-store" })
        .then(function (r) {
          if (r.redirected || r.status === 401 || r.status === 403 || r.status === 404) { setStatus("closed"); return null; }
          if (!r.ok) throw new Error("board " + r.status);
          return r.text();
        })
        .then(function (html) {
          if (html === null || html === undefined) return;
          box.innerHTML = html;
          if (window.htmx) window.htmx.process(box);
          Object.keys(flash).forEach(function (id) {
            box.querySelectorAll('[data-target="' + id + '"]').forEach(function (el) { el.classList.add("lv-flash"); });
          });
          tick();
          root.setAttribute("data-synced", String(Date.now()));
        })
        .catch(function () { again = true; })
        .then(function () {
          inflight = false;
          if (again) { again = false; schedule(250); }
        });
    }
    function schedule(ms) { clearTimeout(timer); timer = setTimeout(refetch, ms); }

    function tick() {
      var now = Date.now();
      root.querySelectorAll("[data-arrival]").forEach(function (el) {
        var iso = el.getAttribute("data-arrival");
        if (!iso) return;
        el.textContent = window.RatcLive.countdown(iso, now);
        var left = Date.parse(iso) - now;
        el.classList.toggle("is-soon", left < 3600000 && left >= 0);
        el.classList.toggle("is-past", left < 0);
      });
      var clock = root.querySelector("[data-clock]");
      if (clock) clock.textContent = new Date(now).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
    }

    window.RatcLive.connect(root.getAttribute("data-board-ws"), {
      onStatus: setStatus,
      // A resync is often told to every screen of a process at once (a lost message, Redis back):
      // spread the re-fetches over a second rather than ask for a thousand boards in one instant.
      onResync: function (reason) { schedule(reason === "hello" ? 0 : Math.random() * 1000); },
      onClosed: function () { setStatus("closed"); },
      onEvent: function (m) {
        if (m.kind === "target.removed") {
          root.querySelectorAll('[data-target="' + m.target + '"]').forEach(function (el) { el.remove(); });
        } else if (m.target) {
          changed[m.target] = true;
        }
        schedule(60);
      }
    });
    var full = root.querySelector("[data-fullscreen]");
    if (full) full.addEventListener("click", function () {
      if (document.fullscreenElement) document.exitFullscreen(); else document.documentElement.requestFullscreen();
    });
    tick();
    setInterval(tick, 1000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})(document);
