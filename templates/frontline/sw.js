{% load static %}/* RATC Ops tablet service worker, served from {% url 'frontline:service_worker' %} so its scope is {% url 'frontline:home' %}.

   - The shell (styles, scripts, the offline page) is kept at install, per version.
   - Tablet pages are fetched from the network first; what arrived is kept, and used when the network
     is gone or too slow. A page answered by a redirect (the login page) is never kept.
   - The page asks (message "keep") for the open instructions to be kept, so they open offline even if
     the officer has not visited them yet.
   - Results are never sent from here: the page keeps them in IndexedDB and sends them itself.
   - A part of a page (?part=…, re-fetched live by the page) goes to the network only: it is never kept,
     and never stands in for the page it belongs to. */
"use strict";

const VERSION = "__CACHE_VERSION__";
const SHELL = "fl-shell-" + VERSION;
const PAGES = "fl-pages";
const SCOPE = "{% url 'frontline:home' %}";
const STATIC = "{% get_static_prefix %}";
const OFFLINE = "{% url 'frontline:offline' %}";
const SHELL_URLS = [
  "{% static 'css/app.css' %}",
  "{% static 'frontline/tablet.css' %}",
  "{% static 'frontline/tablet.js' %}",
  "{% static 'js/theme.js' %}",
  "{% static 'js/live.js' %}",
  "{% static 'js/notifications.js' %}",
  "{% static 'vendor/htmx/htmx.min.js' %}",
  "{% static 'img/favicon.svg' %}",
  "{% url 'frontline:manifest' %}",
  OFFLINE,
];
const SLOW_NETWORK_MS = 6000;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_URLS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("fl-shell-") && k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function keepable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

async function keep(request, response) {
  if (keepable(response)) {
    const cache = await caches.open(PAGES);
    await cache.put(request, response);
  }
}

async function networkFirst(request) {
  const network = fetch(request).then(async (response) => {
    await keep(request, response.clone());
    return response;
  });
  network.catch(() => null); // a late failure after the kept copy was served is not an error
  const slow = new Promise((resolve) => setTimeout(resolve, SLOW_NETWORK_MS, null));
  try {
    const first = await Promise.race([network, slow]);
    if (first) return first;
    const kept = await caches.match(request, { cacheName: PAGES });
    return kept || (await network);
  } catch (error) {
    const kept = await caches.match(request, { cacheName: PAGES });
    if (kept) return kept;
    if (request.mode === "navigate") {
      const offline = await caches.match(OFFLINE, { cacheName: SHELL });
      if (offline) return offline;
    }
    throw error;
  }
}

async function cacheFirst(request) {
  const kept = await caches.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (keepable(response)) {
    const cache = await caches.open(SHELL);
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.searchParams.has("part")) return;
  if (url.pathname.startsWith(STATIC)) {
    event.respondWith(cacheFirst(request));
  } else if (url.pathname.startsWith(SCOPE) && url.pathname !== self.location.pathname) {
    event.respondWith(networkFirst(request));
  }
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "keep" && Array.isArray(data.urls)) {
    event.waitUntil(
      (async () => {
        const cache = await caches.open(PAGES);
        let kept = 0;
        for (const path of data.urls) {
          const url = new URL(path, self.location.origin);
          if (url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) continue;
          try {
            const response = await fetch(url, { credentials: "same-origin" });
            if (keepable(response)) {
              await cache.put(url, response);
              kept += 1;
            }
          } catch (error) {
            break; // the network went away: what was kept stays
          }
        }
        if (event.source) event.source.postMessage({ type: "kept", count: kept });
      })()
    );
  } else if (data.type === "forget") {
    event.waitUntil(caches.delete(PAGES));
  }
});
