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
    }
    if (div.chartFigure === text) {
      return div; // unchanged since the last poll
    }
    if (payload.empty) {
      window.Plotly.purge(div);
    } else {
      window.Plotly.react(div, payload.data, payload.layout, payload.config);
    }
    div.chartFigure = text;
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

  // New figure data came in (a poll, a tab switch, a new page): draw what it brought.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target) {
      whenPlotly(function () {
        draw(event.target);
      });
    }
  });
})();
