// Draws every chart of every page. Figures come from the server as json_script data
// (sweeptracker/charts.py, runs/charts.py, sweeps/charts.py), each naming the div it is
// drawn in. A poll brings new data: Plotly.react on the same div redraws it in place and
// keeps the user's zoom (layout.uirevision), and nothing else on the page moves.
//
// Most charts have their div in the page already (a sweep's chart cards). A run's
// metrics appear as it logs them: their data sits in a region marked data-chart-grid,
// and a figure whose div is missing gets one there, in the order of the data.
(function () {
  "use strict";

  // After an HX-Location the next page arrives in this same document: set up once.
  if (window.chartsReady) {
    return;
  }
  window.chartsReady = true;

  var FIGURES = 'script[type="application/json"]';
  // Below this window width a figure's "compact" variant applies (phones).
  var COMPACT_WIDTH = 640;
  // The scale the user chose per chart ("linear" or "log"): kept across polls and tabs.
  var scaleOf = {};
  // How many picked trials a parallel-coordinates brush lists as links.
  var MAX_PICKS = 24;

  // Sets obj's value at a dotted path ("yaxis.range", "dimensions[3].values").
  function setPath(obj, path, value) {
    var keys = path.replace(/\[(\d+)\]/g, ".$1").split(".");
    var target = obj;
    for (var i = 0; i < keys.length - 1; i++) {
      if (target[keys[i]] === undefined || target[keys[i]] === null) {
        target[keys[i]] = {};
      }
      target = target[keys[i]];
    }
    target[keys[keys.length - 1]] = value;
  }

  // A variant is {"layout": {path: value}, "data": [[trace index, {path: value}]]}.
  function applyVariant(data, layout, variant) {
    if (!variant) {
      return;
    }
    Object.keys(variant.layout || {}).forEach(function (path) {
      setPath(layout, path, variant.layout[path]);
    });
    (variant.data || []).forEach(function (entry) {
      var trace = data[entry[0]];
      Object.keys(entry[1]).forEach(function (path) {
        setPath(trace, path, entry[1][path]);
      });
    });
  }

  // The figure as drawn: the chosen scale of the metric axis, the phone variant.
  function prepared(payload, div) {
    var data = JSON.parse(JSON.stringify(payload.data));
    var layout = JSON.parse(JSON.stringify(payload.layout));
    if (payload.scales) {
      var scale = payload.scales[scaleOf[div.id]] ? scaleOf[div.id] : "linear";
      applyVariant(data, layout, payload.scales[scale]);
    }
    if (payload.compact && window.innerWidth < COMPACT_WIDTH) {
      applyVariant(data, layout, payload.compact);
    }
    return { data: data, layout: layout };
  }

  function trialNumber(point) {
    var data = point.customdata;
    if (Array.isArray(data)) {
      data = data[0];
    }
    return typeof data === "number" ? data : null;
  }

  // A click on a trial's point, line or bar opens its page.
  function onClick(div, event) {
    var url = div.chartPayload && div.chartPayload.trial_url;
    var point = event && event.points && event.points[0];
    var number = point ? trialNumber(point) : null;
    if (url && number !== null) {
      window.location.assign(url + number + "/");
    }
  }

  // The trials inside every brushed range of a parallel-coordinates chart, as links.
  function listPicks(div) {
    var card = div.closest(".chart-card");
    var box = card && card.querySelector(".chart-picks");
    var trace = div.data && div.data[0];
    var url = div.chartPayload && div.chartPayload.trial_url;
    if (!box || !trace || trace.type !== "parcoords") {
      return;
    }
    var numbers = trace.customdata || [];
    var picked = numbers.filter(function (number, row) {
      return trace.dimensions.every(function (dimension) {
        var ranges = dimension.constraintrange;
        if (!ranges || !ranges.length) {
          return true;
        }
        if (!Array.isArray(ranges[0])) {
          ranges = [ranges];
        }
        var value = dimension.values[row];
        return ranges.some(function (range) {
          return value >= range[0] && value <= range[1];
        });
      });
    });
    picked.sort(function (a, b) {
      return a - b;
    });
    box.textContent = "";
    var lead = document.createElement("span");
    lead.textContent = picked.length
      ? picked.length + " trial" + (picked.length > 1 ? "s" : "") + " picked: "
      : "No trial in the picked ranges.";
    box.appendChild(lead);
    picked.slice(0, MAX_PICKS).forEach(function (number) {
      var link = document.createElement(url ? "a" : "span");
      if (url) {
        link.href = url + number + "/";
      }
      link.className = "chart-pick";
      link.textContent = "#" + number;
      box.appendChild(link);
      box.appendChild(document.createTextNode(" "));
    });
    if (picked.length > MAX_PICKS) {
      box.appendChild(document.createTextNode("and " + (picked.length - MAX_PICKS) + " more"));
    }
  }

  // Plotly's events are bound once per div; they read the div's latest payload.
  function bindEvents(div) {
    if (div.chartBound) {
      return;
    }
    div.chartBound = true;
    div.on("plotly_click", function (event) {
      onClick(div, event);
    });
    div.on("plotly_restyle", function () {
      listPicks(div);
    });
  }

  // The card's log-scale button: shown when the figure offers a log scale.
  function setUpToggle(card, div, payload) {
    var button = card && card.querySelector(".js-log-scale");
    if (!button) {
      return;
    }
    var possible = Boolean(payload.scales && payload.scales.log);
    button.hidden = payload.empty || !possible;
    button.setAttribute("aria-pressed", String(possible && scaleOf[div.id] === "log"));
    if (!button.chartBound) {
      button.chartBound = true;
      button.addEventListener("click", function () {
        scaleOf[div.id] = scaleOf[div.id] === "log" ? "linear" : "log";
        var script = card.querySelector(FIGURES);
        if (script) {
          drawOne(script, null, null);
        }
      });
    }
  }

  function setText(root, selector, value) {
    var element = root.querySelector(selector);
    if (element && element.textContent !== (value || "")) {
      element.textContent = value || "";
    }
  }

  // A div for a figure seen for the first time, right after the previous one's.
  function newDiv(grid, payload, after) {
    var div = document.createElement("div");
    div.id = payload.div;
    div.className = "chart card";
    div.setAttribute("role", "img");
    // setAttribute takes the key as text: no markup from a metric name ever runs.
    div.setAttribute("aria-label", "Chart of " + payload.key + " by step");
    if (after) {
      after.after(div);
    } else {
      grid.prepend(div);
    }
    return div;
  }

  // Draws one figure; `grid` is where a missing div is made (none: the poll left
  // before the user switched tabs, and the figure is dropped). Returns the div.
  function drawOne(script, grid, after) {
    var text = script.textContent;
    var payload = JSON.parse(text);
    if (!payload.div) {
      return null; // json_script data that is not a figure
    }
    var div = document.getElementById(payload.div);
    if (!div && grid) {
      div = newDiv(grid, payload, after);
    }
    if (!div) {
      return null;
    }
    var card = div.closest(".chart-card");
    if (card) {
      card.classList.toggle("is-empty", payload.empty);
      // textContent: a metric or parameter name is never read as markup.
      setText(card, ".chart-empty", payload.message);
      setText(card, ".chart-note", payload.note);
      setUpToggle(card, div, payload);
    }
    var drawn = text + "|" + (scaleOf[div.id] || "linear") + "|" + (window.innerWidth < COMPACT_WIDTH);
    if (div.chartFigure === drawn) {
      return div; // unchanged since the last poll
    }
    div.chartPayload = payload;
    if (payload.empty) {
      window.Plotly.purge(div);
      div.chartBound = false;
    } else {
      var figure = prepared(payload, div);
      window.Plotly.react(div, figure.data, figure.layout, payload.config);
      bindEvents(div);
      listPicks(div);
    }
    div.chartFigure = drawn;
    return div;
  }

  // A region whose figures make their own divs in the grid it names.
  function drawGrid(region) {
    var grid = document.querySelector(region.dataset.chartGrid);
    if (!grid) {
      return;
    }
    var scripts = region.querySelectorAll(FIGURES);
    var previous = null;
    scripts.forEach(function (script) {
      previous = drawOne(script, grid, previous) || previous;
    });
    var empty = document.querySelector(region.dataset.chartsEmpty);
    if (empty) {
      empty.hidden = scripts.length > 0;
    }
  }

  function draw(root) {
    if (!window.Plotly) {
      return;
    }
    var grids = Array.prototype.slice.call(root.querySelectorAll("[data-chart-grid]"));
    if (root.matches && root.matches("[data-chart-grid]")) {
      grids.push(root);
    }
    grids.forEach(drawGrid);
    root.querySelectorAll(FIGURES).forEach(function (script) {
      if (!script.closest("[data-chart-grid]")) {
        drawOne(script, null, null);
      }
    });
  }

  function whenPlotly(callback) {
    if (window.Plotly) {
      callback();
      return;
    }
    var script = document.querySelector('script[src*="plotly"]');
    if (script) {
      script.addEventListener("load", callback, { once: true });
    }
  }

  function drawAll() {
    whenPlotly(function () {
      draw(document);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }

  // Back and forward restore a snapshot of the page: its charts are pictures of
  // charts until Plotly draws them again from the data that came with it.
  document.addEventListener("htmx:historyRestore", drawAll);

  // A swap that removes charts (a tab switch): let Plotly drop their resize listeners first.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && window.Plotly && (target.id === "tab-body" || target === document.body)) {
      target.querySelectorAll(".js-plotly-plot").forEach(function (div) {
        window.Plotly.purge(div);
      });
    }
  });

  // The poll asks for the view the user is looking at: controls that change what the
  // server draws (the contour's parameters) ride along with it.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "sweep-live") {
      document.querySelectorAll("[data-live-param]").forEach(function (input) {
        event.detail.parameters[input.name] = input.value;
      });
    }
  });

  // New figure data came in (a poll, a tab switch, a new page): draw what it brought.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target) {
      whenPlotly(function () {
        draw(event.target);
      });
    }
  });
})();
