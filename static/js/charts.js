// Draws the run page's metric charts from figure data the server renders with
// json_script (see runs/charts.py), and redraws them in place when an htmx poll
// swaps in fresh data. Plotly.react keeps the existing chart (and, through
// layout.uirevision, the user's zoom) instead of building a new one.
(function () {
  "use strict";

  var LIVE_ID = "run-live";

  function chartDiv(grid, figureId, key, after) {
    var id = figureId + "-chart";
    var div = document.getElementById(id);
    if (div) {
      return div;
    }
    // A metric key seen for the first time: give it a chart, in key order.
    div = document.createElement("div");
    div.id = id;
    div.className = "chart card";
    div.setAttribute("role", "img");
    // setAttribute takes the key as text: no markup from a metric name ever runs.
    div.setAttribute("aria-label", "Chart of " + key + " by step");
    if (after) {
      after.after(div);
    } else {
      grid.prepend(div);
    }
    return div;
  }

  function draw(live) {
    var grid = document.querySelector(".js-chart-grid");
    if (!grid || !window.Plotly) {
      return;
    }
    var scripts = live.querySelectorAll('script[type="application/json"]');
    var previous = null;
    scripts.forEach(function (script) {
      var figure = JSON.parse(script.textContent);
      var div = chartDiv(grid, script.id, figure.key, previous);
      window.Plotly.react(div, figure.data, figure.layout, figure.config);
      previous = div;
    });
    var empty = document.querySelector(".js-charts-empty");
    if (empty) {
      empty.hidden = scripts.length > 0;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById(LIVE_ID);
    if (live) {
      draw(live);
    }
  });

  // afterSettle also fires for the out-of-band facts; only new figure data matters here.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.id === LIVE_ID) {
      draw(event.target);
    }
  });
})();
