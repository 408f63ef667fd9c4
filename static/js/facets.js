// Facets without a page reload: a changed check box, a submitted filter form or a
// removed chip fetches the same address the form would load and swaps in its #explore
// region. Without this script the check boxes, "Apply filters" and the chip links do the
// same with a full page load.
(function () {
  "use strict";
  var region = document.getElementById("explore");
  if (!region || !window.fetch || !window.history.pushState || !window.DOMParser) {
    return;
  }
  var status = document.getElementById("explore-status");
  var narrow = window.matchMedia("(max-width: 60rem)");

  // On a phone the facets start folded, so the results come first; a reader's own
  // unfolding or folding survives each update.
  function folds() {
    var state = {};
    region.querySelectorAll("details[id]").forEach(function (details) {
      state[details.id] = details.open;
    });
    return state;
  }
  function restore(state) {
    region.querySelectorAll("details[id]").forEach(function (details) {
      if (details.id in state) {
        details.open = state[details.id];
      }
    });
  }
  if (narrow.matches) {
    region.querySelectorAll("details[data-collapse-narrow]").forEach(function (details) {
      details.open = false;
    });
  }

  function addressOf(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (value !== "") {
        params.append(name, value);
      }
    });
    var query = params.toString();
    return form.getAttribute("action") + (query ? "?" + query : "");
  }

  function load(address, push, focusId) {
    region.setAttribute("aria-busy", "true");
    fetch(address, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("explore");
        if (!fresh) {
          throw new Error("no results region");
        }
        var state = folds();
        region.innerHTML = fresh.innerHTML;
        restore(state);
        document.title = page.title;
        if (push) {
          window.history.pushState({ explore: true }, "", address);
        }
        var count = region.querySelector("[data-result-count]");
        if (status && count) {
          status.textContent = count.textContent.replace(/\s+/g, " ").trim();
        }
        var target = (focusId && document.getElementById(focusId)) || count;
        if (target) {
          target.focus();
        }
      })
      .catch(function () {
        window.location.assign(address);
      })
      .then(function () {
        region.removeAttribute("aria-busy");
      });
  }

  region.addEventListener("change", function (event) {
    var input = event.target;
    if (input.type === "checkbox" && input.form) {
      load(addressOf(input.form), true, input.id);
    }
  });
  region.addEventListener("submit", function (event) {
    event.preventDefault();
    load(addressOf(event.target), true, null);
  });
  region.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-explore-link]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    load(link.href, true, null);
  });
  window.addEventListener("popstate", function () {
    load(window.location.href, false, null);
  });
})();
