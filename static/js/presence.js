/* Presence on a target page (templates/live/_presence.html): say who is here, viewing or editing,
 * and redraw the "people" fragment when that changes. Fires "ratc:target-changed" and
 * "ratc:target-removed" on document for the page to react to. Uses RatcLive. */
(function (document) {
  "use strict";
  function start() {
    document.querySelectorAll("[data-presence-ws]").forEach(function (el) {
      if (!window.RatcLive || el.getAttribute("data-started")) return;
      el.setAttribute("data-started", "1");
      var url = el.getAttribute("data-presence-url");
      var heartbeat = (parseInt(el.getAttribute("data-heartbeat"), 10) || 25) * 1000;
      var mode = "viewing", conn = null;
      function refetch() {
        fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
          .then(function (html) { if (html !== null) el.innerHTML = html; });
      }
      function setMode(next) { if (next !== mode) { mode = next; if (conn) conn.send({ mode: mode }); } }
      conn = window.RatcLive.connect(el.getAttribute("data-presence-ws"), {
        onOpen: function () { conn && conn.send({ mode: mode }); },
        onResync: refetch,
        onEvent: function (m) {
          if (m.kind === "presence.changed") refetch();
          else if (m.kind === "target.changed") document.dispatchEvent(new CustomEvent("ratc:target-changed", { detail: m }));
          else if (m.kind === "target.removed") {
            el.textContent = "This target is no longer visible to your agency.";
            document.dispatchEvent(new CustomEvent("ratc:target-removed", { detail: m }));
          }
        }
      });
      setInterval(function () { conn.send({ ping: 1, mode: mode }); }, heartbeat);
      document.addEventListener("focusin", function (e) { if (e.target.closest && e.target.closest("form")) setMode("editing"); });
      document.addEventListener("focusout", function () {
        setTimeout(function () { var a = document.activeElement; if (!a || !a.closest || !a.closest("form")) setMode("viewing"); }, 200);
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})(document);
