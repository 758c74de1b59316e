/*
 * RatcLive — the one client for RATC Ops live sockets (boards, presence, notifications).
 *
 *   var conn = RatcLive.connect("/ws/notifications/", {
 *     onEvent:  function (message) {},   // every numbered message except hello/resync: {kind, seq, target, ...}
 *     onResync: function (reason) {},    // fetch everything again: "hello" (each (re)connect), "gap", "lost", ...
 *     onStatus: function (state) {},     // "connecting" | "live" | "reconnecting" | "closed"
 *     onClosed: function (code) {},      // the server refused or ended the socket for good (4401/4403/4404)
 *     onOpen:   function () {}           // the socket is open (send a first message here)
 *   });
 *   conn.send({mode: "editing"});  conn.close();
 *
 * Messages carry only kinds, ids and a per-socket sequence number; the page re-fetches what it shows
 * over HTTP, where the server checks access again. A gap in the sequence, a "resync" message or a
 * reconnection calls onResync: the page must then re-fetch its whole view (register → fetch → apply).
 * The socket reconnects by itself with a growing, jittered delay (0.5 s to 15 s) and pings every 20 s
 * so that a dead connection is noticed.
 *
 * Frontline tablets: a new instruction for the officer's port arrives as
 *   {kind: "instruction.dispatched", seq, target, instruction}
 * Show it with RatcLive.banner("New examination instruction", {href: "/frontline/...", tone: "alert"}).
 */
(function (window, document) {
  "use strict";
  var FINAL = { 4401: "signed-out", 4403: "forbidden", 4404: "not-found" };

  function wsUrl(path) {
    if (/^wss?:/.test(path)) return path;
    return (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + path;
  }

  function connect(path, handlers) {
    handlers = handlers || {};
    var socket = null, lastSeq = null, attempt = 0, stopped = false, pingTimer = null, pongDue = null, retryTimer = null;
    function call(name, arg) { if (typeof handlers[name] === "function") { try { handlers[name](arg); } catch (e) { if (window.console) console.error(e); } } }

    function open() {
      if (stopped) return;
      call("onStatus", attempt === 0 ? "connecting" : "reconnecting");
      socket = new WebSocket(wsUrl(path));
      socket.onopen = function () {
        call("onOpen");
        clearInterval(pingTimer);
        pingTimer = setInterval(function () {
          if (!socket || socket.readyState !== 1) return;
          socket.send(JSON.stringify({ ping: 1 }));
          clearTimeout(pongDue);
          pongDue = setTimeout(function () { if (socket) socket.close(); }, 10000);
        }, 20000);
      };
      socket.onmessage = function (e) {
        var m;
        try { m = JSON.parse(e.data); } catch (err) { return; }
        if (m.kind === "pong") { clearTimeout(pongDue); return; }
        if (m.kind === "hello") {
          attempt = 0; lastSeq = 0;
          call("onStatus", "live");
          call("onResync", "hello");
          return;
        }
        if (typeof m.seq === "number") {
          var gap = lastSeq !== null && m.seq !== lastSeq + 1;
          lastSeq = m.seq;
          if (gap) { call("onResync", "gap"); return; }
        }
        if (m.kind === "resync") { call("onResync", m.reason || "resync"); return; }
        call("onEvent", m);
      };
      socket.onclose = function (e) {
        clearInterval(pingTimer); clearTimeout(pongDue);
        socket = null; lastSeq = null;
        if (stopped) return;
        if (FINAL[e.code]) { stopped = true; call("onStatus", "closed"); call("onClosed", e.code); return; }
        attempt += 1;
        var delay = Math.min(15000, 500 * Math.pow(2, attempt - 1));
        delay = delay / 2 + Math.random() * delay / 2;
        call("onStatus", "reconnecting");
        retryTimer = setTimeout(open, delay);
      };
    }
    // A laptop waking up or a tablet back in coverage: try at once rather than wait for the backoff.
    window.addEventListener("online", function () { if (!socket && !stopped) { clearTimeout(retryTimer); attempt = 0; open(); } });
    open();
    return {
      send: function (obj) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(obj)); },
      close: function () { stopped = true; clearTimeout(retryTimer); if (socket) socket.close(1000); },
      get connected() { return !!socket && socket.readyState === 1; }
    };
  }

  function banner(text, options) {
    options = options || {};
    var box = document.getElementById("lv-banners");
    if (!box) {
      box = document.createElement("div");
      box.id = "lv-banners"; box.className = "lv-banners"; box.setAttribute("role", "alert");
      document.body.appendChild(box);
    }
    var item = document.createElement(options.href ? "a" : "div");
    item.className = "lv-banner lv-banner-" + (options.tone || "info");
    item.textContent = text;
    if (options.href) item.href = options.href;
    var close = document.createElement("button");
    close.type = "button"; close.className = "lv-banner-x"; close.setAttribute("aria-label", "Dismiss"); close.textContent = "×";
    close.addEventListener("click", function (e) { e.preventDefault(); item.remove(); });
    item.appendChild(close);
    box.appendChild(item);
    if (navigator.vibrate) { try { navigator.vibrate(200); } catch (e) { /* not allowed */ } }
    if (options.timeout) setTimeout(function () { item.remove(); }, options.timeout);
    return item;
  }

  /* "in 1 h 05 min" / "arrived 12 min ago" for an ISO date, relative to now. */
  function countdown(iso, now) {
    var ms = Date.parse(iso) - (now || Date.now());
    if (isNaN(ms)) return "";
    var past = ms < 0, s = Math.floor(Math.abs(ms) / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var text = h > 0 ? h + " h " + (m < 10 ? "0" : "") + m + " min" : m > 0 ? m + " min " + (sec < 10 ? "0" : "") + sec + " s" : sec + " s";
    return past ? "arrived " + text + " ago" : "in " + text;
  }

  window.RatcLive = { connect: connect, banner: banner, countdown: countdown };
})(window, document);
