// The pages' few behaviours besides charts (static/js/charts.js): copy buttons, and
// polls that leave unchanged regions alone. Without JavaScript every tab, filter and
// button still works as a plain link or form.
(function () {
  "use strict";

  // After an HX-Location the next page arrives in this same document: set up once.
  if (window.pagesReady) {
    return;
  }
  window.pagesReady = true;

  // Copy buttons only work with JavaScript, so they only show with it.
  function showCopyButtons(root) {
    root.querySelectorAll(".js-copy[hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function showAll() {
    showCopyButtons(document);
  }

  // _base.html loads this script with defer: it runs before DOMContentLoaded.
  document.addEventListener("DOMContentLoaded", showAll);
  document.addEventListener("htmx:historyRestore", showAll);
  ["htmx:afterSettle", "htmx:oobAfterSwap"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      if (event.target) {
        showCopyButtons(event.target);
      }
    });
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

  // A live page's poll (hx-trigger "every Ns") sends again what the open view narrows
  // by beyond its own inputs: the hidden inputs of [data-poll-include] (the trials'
  // value filters), so the table it refreshes keeps them.
  document.addEventListener("htmx:configRequest", function (event) {
    var trigger = event.detail.elt.getAttribute("hx-trigger") || "";
    if (trigger.indexOf("every ") !== 0) {
      return;
    }
    document.querySelectorAll("[data-poll-include] input[name]").forEach(function (input) {
      event.detail.formData.append(input.name, input.value);
    });
  });

  // A table that scrolls sideways inside .scroll-frame: the frame says on which side
  // more columns are, and tables.css shades that edge.
  function markEdges(frame) {
    var wrap = frame.querySelector(".table-wrap");
    if (!wrap) {
      return;
    }
    var hidden = wrap.scrollWidth - wrap.clientWidth;
    frame.classList.toggle("more-left", wrap.scrollLeft > 0);
    frame.classList.toggle("more-right", wrap.scrollLeft < hidden - 1);
  }

  function markAllEdges() {
    document.querySelectorAll(".scroll-frame").forEach(markEdges);
  }

  document.addEventListener("DOMContentLoaded", markAllEdges);
  window.addEventListener("resize", markAllEdges);
  ["htmx:afterSettle", "htmx:oobAfterSwap", "htmx:historyRestore"].forEach(function (name) {
    document.addEventListener(name, markAllEdges);
  });
  // Scroll events do not bubble; capture sees every table's.
  document.addEventListener(
    "scroll",
    function (event) {
      var frame = event.target.closest && event.target.closest(".scroll-frame");
      if (frame) {
        markEdges(frame);
      }
    },
    true
  );

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
