/* A form of the admin is sent once.
 *
 * Each click on a button is a request: a second click on Save while a busy server still
 * writes the first added a second record, and a second click on Confirm import or Undo
 * waited for the first and then answered as if it had failed. Once a form is sent, its
 * buttons wait for the answer, which replaces the page. Coming back to the page with the
 * browser's back button makes them usable again.
 *
 * Not the change list's form: an action there (an export) may answer with a file, which
 * leaves the page as it was. A form marked data-submit-again is left alone too.
 */
(function () {
  "use strict";

  function buttons(form) {
    return form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]");
  }

  function mark(form, sent) {
    if (sent) {
      form.dataset.atlasSent = "true";
    } else {
      delete form.dataset.atlasSent;
    }
    buttons(form).forEach(function (button) {
      // Not disabled: a disabled button is not sent, and the admin reads which was
      // pressed ("Save and add another").
      button.setAttribute("aria-disabled", sent ? "true" : "false");
      button.style.cursor = sent ? "progress" : "";
      button.style.opacity = sent ? "0.6" : "";
    });
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (
      event.defaultPrevented ||
      form.method !== "post" ||
      form.id === "changelist-form" ||
      "submitAgain" in form.dataset
    ) {
      return;
    }
    if (form.dataset.atlasSent) {
      event.preventDefault();
      return;
    }
    mark(form, true);
  });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-atlas-sent]").forEach(function (form) {
        mark(form, false);
      });
    }
  });
})();
