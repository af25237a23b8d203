// The sweep pages' few behaviours. Figures come from the server as json_script data
// (sweeps/charts.py); this draws them, and redraws them in place when a poll brings
// new data: Plotly.react on the same div keeps the user's zoom (layout.uirevision),
// and nothing else on the page moves. Without JavaScript every tab, filter and button
// still works as a plain link or form.
(function () {
  "use strict";

  // After an HX-Location the next page arrives in this same document: set up once.
  if (window.sweepPages) {
    return;
  }
  window.sweepPages = true;

  function setText(root, selector, value) {
    var element = root.querySelector(selector);
    if (element && element.textContent !== (value || "")) {
      element.textContent = value || "";
    }
  }

  function drawOne(script) {
    var text = script.textContent;
    var payload = JSON.parse(text);
    var div = document.getElementById(payload.div);
    if (!div) {
      return; // a poll that left before the user switched tabs
    }
    var card = div.closest(".chart-card");
    if (card) {
      card.classList.toggle("is-empty", payload.empty);
      // textContent: a metric or parameter name is never read as markup.
      setText(card, ".chart-empty", payload.message);
      setText(card, ".chart-note", payload.note);
    }
    if (div.sweepFigure === text || !window.Plotly) {
      return; // unchanged since the last poll
    }
    if (payload.empty) {
      window.Plotly.purge(div);
    } else {
      // Shown before drawing, so that Plotly sizes the chart to its real box.
      window.Plotly.react(div, payload.data, payload.layout, payload.config);
    }
    div.sweepFigure = text;
  }

  // Copy buttons only work with JavaScript, so they only show with it.
  function showCopyButtons(root) {
    root.querySelectorAll(".js-copy[hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function draw(root) {
    root.querySelectorAll('script[type="application/json"]').forEach(drawOne);
    showCopyButtons(root);
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

  function start() {
    whenPlotly(function () {
      draw(document);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }

  // A tab switch removes its charts: let Plotly drop their resize listeners first.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && window.Plotly && (target.id === "tab-body" || target === document.body)) {
      target.querySelectorAll(".js-plotly-plot").forEach(function (div) {
        window.Plotly.purge(div);
      });
    }
  });

  // Django masks the CSRF token anew in every response: not a change worth a swap.
  var CSRF_VALUE = /(name="csrfmiddlewaretoken" value=")[^"]*"/g;

  function sameRegion(a, b) {
    return a.innerHTML.replace(CSRF_VALUE, "$1") === b.innerHTML.replace(CSRF_VALUE, "$1");
  }

  // A poll resends regions that mostly did not change; swapping them anyway would
  // drop the keyboard focus of whoever is in the table every few seconds.
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var incoming = event.detail.fragment.firstElementChild;
    var target = event.detail.target;
    if (incoming && target && sameRegion(incoming, target)) {
      event.detail.shouldSwap = false;
    }
  });

  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.target) {
      showCopyButtons(event.target);
    }
  });

  // Back and forward restore a snapshot of the page: its charts are pictures of
  // charts until Plotly draws them again from the data that came with it.
  document.addEventListener("htmx:historyRestore", function () {
    whenPlotly(function () {
      draw(document);
    });
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target) {
      whenPlotly(function () {
        draw(event.target);
      });
    }
  });

  function copied(button, label) {
    var before = button.textContent;
    button.textContent = label;
    window.setTimeout(function () {
      button.textContent = before;
    }, 1500);
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".js-copy");
    if (!button) {
      return;
    }
    var source = document.getElementById(button.dataset.copy);
    if (!source) {
      return;
    }
    // The clipboard API needs a secure context (https or localhost); elsewhere
    // select the text and fall back to the old copy command.
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.textContent).then(
        function () {
          copied(button, "Copied");
        },
        function () {
          selectText(source);
        }
      );
      return;
    }
    selectText(source);
    copied(button, document.execCommand("copy") ? "Copied" : "Press Ctrl+C");
  });
})();
