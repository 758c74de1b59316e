// Light/dark theme: follows the system until the user chooses; the choice is kept in this browser.
(function () {
  var key = "ratc-theme";
  var root = document.documentElement;
  var saved = null;
  try { saved = localStorage.getItem(key); } catch (e) { /* storage may be disabled */ }
  if (saved === "light" || saved === "dark") root.setAttribute("data-theme", saved);
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) return;
    button.addEventListener("click", function () {
      var current = root.getAttribute("data-theme");
      if (current === "auto") current = window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
      var next = current === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { localStorage.setItem(key, next); } catch (e) { /* ignore */ }
    });
  });
})();
