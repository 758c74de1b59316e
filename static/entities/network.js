// The network page: draws the graph the server gave (already scoped and masked), and on a click on a
// record asks the server for one more hop around it. Nothing is computed here that the server did not
// send: the JSON holds only records the viewer may see, masked as the law says.
(function () {
  "use strict";
  const holder = document.getElementById("network");
  const dataNode = document.getElementById("graph-data");
  if (!holder || !dataNode || typeof cytoscape === "undefined") return;
  const first = JSON.parse(dataNode.textContent);
  const params = new URLSearchParams(holder.dataset.query || "");
  params.set("hops", "1");
  const colours = {
    phone: "#c2410c", email: "#7c3aed", address: "#0f766e", card: "#b91c1c", booking: "#2563eb",
    container: "#a16207", trader: "#4d7c0f", conveyance: "#64748b", identity: "#111827",
  };
  const shapes = { traveller: "ellipse", trader: "round-rectangle", consignment: "rectangle", conveyance: "diamond" };
  const cy = cytoscape({
    container: document.getElementById("cy"),
    wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: {
        label: "data(label)", "font-size": 9, "text-wrap": "ellipsis", "text-max-width": 130,
        "text-valign": "bottom", "text-margin-y": 3, width: 22, height: 22,
        "background-color": "#60a5fa", shape: (n) => shapes[n.data("kind")] || "ellipse" } },
      { selector: "node[kind = 'trader']", style: { "background-color": "#84cc16" } },
      { selector: "node[kind = 'consignment']", style: { "background-color": "#f59e0b" } },
      { selector: "node[kind = 'conveyance']", style: { "background-color": "#94a3b8" } },
      { selector: "node[?masked]", style: { "background-color": "#d1d5db", "border-width": 1, "border-style": "dashed" } },
      { selector: "node[hop = 0]", style: { width: 34, height: 34, "border-width": 3, "border-color": "#111827" } },
      { selector: "node.expanded", style: { "border-width": 2, "border-color": "#2563eb" } },
      { selector: "edge", style: {
        width: 2, "curve-style": "bezier", "line-color": (e) => colours[e.data("kind")] || "#999",
        label: "data(short)", "font-size": 7, "text-rotation": "autorotate", color: "#374151" } },
      { selector: "edge[kind = 'identity']", style: { "line-style": "dashed", width: 3 } },
      { selector: ":selected", style: { "overlay-opacity": 0.15 } },
    ],
  });

  function add(graph) {
    const added = [];
    for (const n of graph.nodes) {
      if (cy.getElementById(String(n.id)).empty()) added.push({ group: "nodes", data: { ...n, id: String(n.id) } });
    }
    cy.add(added);
    const edges = [];
    for (const e of graph.edges) {
      const id = e.id;
      if (!cy.getElementById(id).empty()) continue;
      if (cy.getElementById(String(e.source)).empty() || cy.getElementById(String(e.target)).empty()) continue;
      const short = e.score !== undefined ? `${Math.round(e.score * 100)}%` : "";
      edges.push({ group: "edges", data: { ...e, id, source: String(e.source), target: String(e.target), short } });
    }
    cy.add(edges);
    document.querySelector("[data-testid=node-count]").textContent = cy.nodes().length;
    document.querySelector("[data-testid=edge-count]").textContent = cy.edges().length;
    cy.layout({ name: "cose", animate: false, nodeRepulsion: () => 9000, idealEdgeLength: () => 80, randomize: false }).run();
  }

  function detail(html) {
    document.getElementById("net-detail").innerHTML = html;
  }
  function text(value) {
    const span = document.createElement("span");
    span.textContent = value;
    return span.innerHTML;
  }

  async function expand(node) {
    if (node.hasClass("expanded")) return;
    node.addClass("expanded");
    const response = await fetch(`${node.data("expand")}?${params}`, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      detail(`<p role="alert">This record could not be expanded (${response.status}).</p>`);
      return;
    }
    add(await response.json());
    holder.dataset.expanded = String((Number(holder.dataset.expanded) || 0) + 1);
  }

  cy.on("tap", "node", (event) => {
    const n = event.target.data();
    detail(`<h2 class="h3">${text(n.label)}</h2><p class="muted small">${text(n.kind)} · ${text(n.source)}${n.masked ? " · depersonalised" : ""}</p>
      <p><a href="${n.url}">Open the record</a></p>`);
    expand(event.target);
  });
  cy.on("tap", "edge", (event) => {
    const e = event.target.data();
    let html = `<h2 class="h3">${text(e.label)}</h2>`;
    if (e.score !== undefined) html += `<p>Linker's score: ${Math.round(e.score * 100)}%</p>`;
    detail(html);
    if (e.link && holder.dataset.canDecide === "1") {
      const form = document.getElementById("net-decide-form").content.cloneNode(true);
      form.querySelector("form").action = holder.dataset.decideUrl.replace("/0/", `/${e.link}/`);
      document.getElementById("net-detail").appendChild(form);
    }
  });
  add(first);
  cy.getElementById(String(first.root)).addClass("expanded");
  holder.cytoscape = cy; // for the browser tests, which click on nodes where they are drawn
  holder.dataset.ready = "1";
})();
