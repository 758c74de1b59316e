/* The rules pages follow rule changes live (templates/live/_rules_live.html; socket ws/rules/, served by
 * apps.live.consumers.RulesConsumer). A rule of the viewer's agency written, published or retired by
 * anyone arrives as {kind: "rule.changed", seq, rule}:
 *   - on the rules list, the "rows" partial (#rows of templates/risk/rules.html) is re-fetched for the
 *     current filters and swapped in;
 *   - on one rule's page (data-rule set), a note offers to reload when that rule changed, so that nothing
 *     is replaced under someone reading or editing it.
 * A resync (a gap, a reconnection) counts as a change of anything. Uses RatcLive. */
(function (window, document) {
  "use strict";
  var REFRESH_DELAY_MS = 150;

  function refetchRows() {
    if (!document.getElementById("rows")) return;
    fetch(window.location.pathname + window.location.search, {
      headers: { "HX-Request": "true" }, credentials: "same-origin", cache: "no-store"
    })
      .then(function (r) { return r.ok && !r.redirected ? r.text() : null; })
      .then(function (html) {
        var rows = document.getElementById("rows");
        if (html === null || !rows) return;
        rows.outerHTML = html;
        var fresh = document.getElementById("rows");
        if (fresh && window.htmx) window.htmx.process(fresh);
      })
      .catch(function () { /* the socket's reconnection fetches again */ });
  }

  function offerReload() {
    if (document.getElementById("lv-rule-changed")) return;
    var note = document.createElement("div");
    note.id = "lv-rule-changed";
    note.className = "lv-changed";
    note.setAttribute("role", "status");
    note.setAttribute("data-testid", "rule-changed-note");
    note.appendChild(document.createTextNode("This rule was changed by someone else. "));
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-small";
    button.textContent = "Show the changes";
    button.addEventListener("click", function () { window.location.reload(); });
    note.appendChild(button);
    var main = document.getElementById("main");
    if (main) main.insertBefore(note, main.firstChild); else document.body.appendChild(note);
  }

  function start() {
    var root = document.querySelector("[data-rules-ws]");
    if (!root || !window.RatcLive || root.getAttribute("data-started")) return;
    root.setAttribute("data-started", "1");
    var rule = root.getAttribute("data-rule") || "";
    var timer = null, opened = false;

    function changed(ruleId) {
      if (rule) {
        if (ruleId === null || String(ruleId) === rule) offerReload();
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(refetchRows, REFRESH_DELAY_MS);
    }

    window.RatcLive.connect(root.getAttribute("data-rules-ws"), {
      onStatus: function (state) { root.setAttribute("data-live", state); },
      onResync: function (reason) {
        if (reason !== "hello" || opened) changed(null);
        opened = true;
      },
      onEvent: function (m) { if (m.kind === "rule.changed") changed(m.rule); }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})(window, document);
