/* Partnership Atlas: draws every [data-atlas-network] element with Cytoscape.js.
   Data: the JSON at data-src ({nodes, edges, meta}). Selecting a node opens its record;
   the "one step further" button fetches the next step and adds what is new. On record
   pages the script also fills the table beside the graph with the same partnerships. */
(function () {
  "use strict";

  var COLOURS = {
    place: "#0b4f8a",
    organisation: "#1d6b38",
    partnership: "#b35c00",
    active: "#1d6b38",
    planned: "#7a4d00",
    ended: "#8a929b",
    unknown: "#8a929b",
    context: "#b8c0c8",
  };

  function labels() {
    var element = document.getElementById("explore-labels");
    return element ? JSON.parse(element.textContent) : {};
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key];
    });
  }

  function withParam(url, name, value) {
    var parsed = new URL(url, window.location.href);
    parsed.searchParams.set(name, value);
    return parsed.pathname + parsed.search;
  }

  function elements(data) {
    var nodes = data.nodes.map(function (node) {
      var short = node.label.length > 28 ? node.label.slice(0, 26) + "…" : node.label;
      return {
        group: "nodes",
        data: Object.assign({}, node, { short: short }),
        classes: node.type + (node.id === data.meta.around ? " focus" : ""),
      };
    });
    var edges = data.edges.map(function (edge, index) {
      return {
        group: "edges",
        data: Object.assign({}, edge, { id: edge.source + ">" + edge.target }),
        classes: edge.relation === "participant" ? "status-" + (edge.status || "unknown") : "context",
      };
    });
    return nodes.concat(edges);
  }

  var STYLE = [
    {
      selector: "node",
      style: {
        label: "data(short)",
        "font-size": 11,
        "font-family": "system-ui, sans-serif",
        color: "#1b1f24",
        "text-valign": "bottom",
        "text-margin-y": 3,
        "text-background-color": "#ffffff",
        "text-background-opacity": 0.8,
        "text-background-padding": 1,
        width: 18,
        height: 18,
      },
    },
    { selector: "node.place", style: { "background-color": COLOURS.place, shape: "ellipse" } },
    {
      selector: "node.organisation",
      style: { "background-color": COLOURS.organisation, shape: "round-rectangle" },
    },
    {
      selector: "node.partnership",
      style: {
        "background-color": COLOURS.partnership,
        shape: "diamond",
        width: 12,
        height: 12,
        label: "",
      },
    },
    { selector: "node.partnership:selected, node.partnership.hover", style: { label: "data(short)" } },
    {
      selector: "node.focus",
      style: { width: 30, height: 30, "border-width": 3, "border-color": "#1b1f24", "font-weight": "bold" },
    },
    { selector: "edge", style: { width: 2, "curve-style": "haystack", "line-color": COLOURS.unknown } },
    { selector: "edge.status-active", style: { "line-color": COLOURS.active } },
    { selector: "edge.status-planned", style: { "line-color": COLOURS.planned, "line-style": "dashed" } },
    { selector: "edge.status-ended", style: { "line-color": COLOURS.ended } },
    { selector: "edge.context", style: { width: 1, "line-color": COLOURS.context, "line-style": "dotted" } },
  ];

  function layout(cy) {
    var big = cy.nodes().length > 400;
    cy.layout(
      big
        ? { name: "concentric", animate: false, concentric: function (n) { return n.degree(); } }
        : { name: "cose", animate: false, randomize: true, nodeRepulsion: 8000, idealEdgeLength: 40, gravity: 1, componentSpacing: 40, numIter: 1500, padding: 16 }
    ).run();
  }

  function cell(row, content) {
    var td = document.createElement("td");
    if (typeof content === "string") {
      td.textContent = content;
    } else {
      td.appendChild(content);
    }
    row.appendChild(td);
    return td;
  }

  function anchor(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  // A name that is not in the page's language: marked as the server marks it, with the
  // language for screen readers and a small "only in English" note.
  function named(words, href, text, language) {
    var fragment = document.createDocumentFragment();
    var a = anchor(href, text);
    fragment.appendChild(a);
    if (language && language !== document.documentElement.lang) {
      a.lang = language;
      var note = document.createElement("small");
      note.className = "lang-note";
      note.textContent = (words.only_in || {})[language] || "";
      fragment.appendChild(document.createTextNode(" "));
      fragment.appendChild(note);
    }
    return fragment;
  }

  function fillTable(element, cy, words) {
    var section = element.closest(".record-explore");
    var details = section && section.querySelector(".network-table");
    if (!details) {
      return;
    }
    var body = details.querySelector("tbody");
    body.textContent = "";
    cy.nodes(".partnership").forEach(function (node) {
      var p = node.data();
      var row = document.createElement("tr");
      var head = document.createElement("th");
      head.scope = "row";
      head.appendChild(named(words, p.url, p.label, p.label_language));
      row.appendChild(head);
      cell(row, p.kind_label);
      cell(row, p.status_label);
      cell(row, p.start || p.end ? (p.start || "") + "–" + (p.end || "") : "");
      var list = document.createElement("ul");
      list.className = "parties";
      node.incomers("node").forEach(function (party) {
        var item = document.createElement("li");
        var data = party.data();
        item.appendChild(named(words, data.url, data.label, data.label_language));
        var place = party.outgoers("node.place").filter(function (n) {
          return party.edgesTo(n).some(function (e) { return e.data("relation") === "based_in"; });
        });
        var role = party.edgesTo(node).data("role_label");
        var note = role;
        if (place.length) {
          note += ", " + format(words.based_in, { place: place.data("label") });
        }
        var span = document.createElement("span");
        span.className = "muted";
        span.textContent = " (" + note + ")";
        item.appendChild(span);
        list.appendChild(item);
      });
      cell(row, list);
      body.appendChild(row);
    });
    details.hidden = false;
  }

  function load(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) {
        throw new Error(response.status);
      }
      return response.json();
    });
  }

  function draw(element) {
    var words = labels();
    var canvas = element.querySelector(".graph-canvas");
    load(element.dataset.src)
      .then(function (data) {
        element.hidden = false;
        var cy = cytoscape({
          container: canvas,
          elements: elements(data),
          style: STYLE,
          wheelSensitivity: 0.3,
          minZoom: 0.2,
          maxZoom: 3,
        });
        layout(cy);
        cy.on("tap", "node", function (event) {
          window.location.href = event.target.data("url");
        });
        cy.on("tap", "edge", function (event) {
          var edge = event.target;
          var partnership = edge.connectedNodes(".partnership");
          var target = partnership.length ? partnership : edge.target();
          window.location.href = target.data("url");
        });
        cy.on("mouseover", "node", function (event) {
          event.target.addClass("hover");
          canvas.style.cursor = "pointer";
        });
        cy.on("mouseout", "node", function (event) {
          event.target.removeClass("hover");
          canvas.style.cursor = "";
        });
        element.atlasGraph = cy;
        element.setAttribute("data-ready", "true");
        fillTable(element, cy, words);
        var button = element.querySelector(".graph-expand");
        if (button) {
          expandable(element, cy, button, words);
        }
      })
      .catch(function () {
        var message = document.createElement("p");
        message.className = "map-error";
        message.textContent = words.graph_failed;
        element.replaceWith(message);
      });
  }

  function expandable(element, cy, button, words) {
    var steps = parseInt(element.dataset.steps, 10) || 1;
    var max = parseInt(element.dataset.maxSteps, 10) || 3;
    var status = element.querySelector(".graph-status");
    button.hidden = steps >= max;
    button.addEventListener("click", function () {
      button.disabled = true;
      status.textContent = words.loading;
      load(withParam(element.dataset.src, "steps", steps + 1))
        .then(function (data) {
          steps += 1;
          var fresh = elements(data).filter(function (item) {
            return cy.getElementById(item.data.id).length === 0;
          });
          cy.add(fresh);
          layout(cy);
          fillTable(element, cy, words);
          var added = fresh.filter(function (item) { return item.group === "nodes"; }).length;
          var count = data.meta.partnerships;
          var total = count === 1 ? words.partnerships_one : format(words.partnerships_many, { count: count });
          status.textContent = added ? total : words.nothing_more;
          button.disabled = false;
          button.hidden = steps >= max || !added;
          element.dataset.steps = String(steps);
        })
        .catch(function () {
          status.textContent = words.graph_failed;
          button.disabled = false;
        });
    });
  }

  document.querySelectorAll("[data-atlas-network]").forEach(draw);
})();
