// Relay staff UI: the global search (a combobox: "/" focuses it, arrows choose, Enter opens), confirmations,
// fields that depend on a choice, tab state and error messages for HTMX requests. No inline scripts (CSP).
(function () {
  "use strict";

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  // --- global search -----------------------------------------------------------------------------------
  function searchParts() {
    return { input: document.getElementById("global-search"), box: document.getElementById("search-results") };
  }

  function options(box) {
    return Array.from(box.querySelectorAll("[role=option]"));
  }

  function setActive(input, box, index) {
    const items = options(box);
    items.forEach(function (item, i) {
      const on = i === index;
      item.classList.toggle("active", on);
      item.setAttribute("aria-selected", on ? "true" : "false");
      if (on) item.scrollIntoView({ block: "nearest" });
    });
    if (index >= 0 && items[index]) input.setAttribute("aria-activedescendant", items[index].id);
    else input.removeAttribute("aria-activedescendant");
  }

  function activeIndex(box) {
    return options(box).findIndex(function (item) { return item.classList.contains("active"); });
  }

  function closeSearch() {
    const s = searchParts();
    if (!s.box) return;
    s.box.innerHTML = "";
    s.input.setAttribute("aria-expanded", "false");
    s.input.removeAttribute("aria-activedescendant");
  }

  document.addEventListener("keydown", function (event) {
    const s = searchParts();
    if (!s.input) return;
    if (event.key === "/" && !typing(document.activeElement) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      s.input.focus();
      s.input.select();
      return;
    }
    if (document.activeElement !== s.input) return;
    const items = options(s.box);
    const index = activeIndex(s.box);
    if (event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      setActive(s.input, s.box, Math.min(index + 1, items.length - 1));
    } else if (event.key === "ArrowUp" && items.length) {
      event.preventDefault();
      setActive(s.input, s.box, Math.max(index - 1, 0));
    } else if (event.key === "Enter" && items.length) {
      event.preventDefault();
      window.location.assign(items[index >= 0 ? index : 0].href);
    } else if (event.key === "Escape") {
      if (s.box.innerHTML.trim()) event.preventDefault();
      closeSearch();
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const s = searchParts();
    if (s.box && event.detail.target === s.box) {
      const has = s.box.innerHTML.trim() !== "";
      s.input.setAttribute("aria-expanded", has ? "true" : "false");
      setActive(s.input, s.box, -1);
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.id === "global-search" && event.target.value.trim() === "") closeSearch();
  });

  document.addEventListener("click", function (event) {
    const box = document.querySelector(".search-box");
    if (box && !box.contains(event.target)) closeSearch();
  });

  // --- confirmations for small deletes -----------------------------------------------------------------
  document.addEventListener("submit", function (event) {
    const message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // --- fields that depend on a choice ------------------------------------------------------------------
  function toggleDependentFields() {
    const kind = document.querySelector(".party-form input[name=kind]:checked");
    if (kind) {
      const person = kind.value === "person";
      document.querySelectorAll(".party-form .person-only").forEach(function (el) { el.hidden = !person; });
      document.querySelectorAll(".party-form .org-only").forEach(function (el) { el.hidden = person; });
    }
    const contactKind = document.querySelector(".contact-form select[name=kind]");
    if (contactKind) {
      const address = contactKind.value === "address";
      document.querySelectorAll(".contact-form .address-only").forEach(function (el) { el.hidden = !address; });
      document.querySelectorAll(".contact-form .not-address").forEach(function (el) { el.hidden = address; });
    }
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "kind") toggleDependentFields();
  });
  document.addEventListener("DOMContentLoaded", toggleDependentFields);
  document.addEventListener("htmx:afterSettle", toggleDependentFields);

  // --- tabs switched by HTMX (timeline / history) --------------------------------------------------------
  document.addEventListener("htmx:beforeRequest", function (event) {
    const tab = event.detail.elt;
    if (!tab || !tab.matches || !tab.matches(".panel-tabs .nav-link")) return;
    document.querySelectorAll(".panel-tabs .nav-link").forEach(function (link) {
      const on = link === tab;
      link.classList.toggle("active", on);
      link.setAttribute("aria-selected", on ? "true" : "false");
    });
    const panel = document.getElementById("tab-panel");
    if (panel) panel.setAttribute("aria-labelledby", tab.id);
  });

  // --- cases: the action dialog, the bulk bar, the queue picker ------------------------------------------
  function focusDialog(content) {
    // the first field with an error, else the first field: the keyboard starts where the work is
    const field = content.querySelector(".is-invalid") ||
      content.querySelector(".modal-body input:not([type=hidden]), .modal-body select, .modal-body textarea") ||
      content.querySelector("#action-submit");
    if (field) field.focus();
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    const target = event.detail.target;
    if (target && target.id === "case-dialog-content") focusDialog(target);
  });
  // Bootstrap ignores Escape while the dialog is still sliding in: remember it and close once it is open
  document.addEventListener("show.bs.modal", function (event) { event.target.dataset.opening = "1"; });
  document.addEventListener("keydown", function (event) {
    const opening = event.key === "Escape" && document.querySelector(".modal[data-opening]");
    if (opening) opening.dataset.closeWhenOpen = "1";
  });
  document.addEventListener("shown.bs.modal", function (event) {
    const modal = event.target;
    delete modal.dataset.opening;
    if (modal.dataset.closeWhenOpen) {
      delete modal.dataset.closeWhenOpen;
      window.bootstrap.Modal.getOrCreateInstance(modal).hide();
      return;
    }
    const content = modal.querySelector("#case-dialog-content");
    if (content) focusDialog(content);  // the content came before the modal finished opening
  });
  document.addEventListener("hidden.bs.modal", function (event) {
    const content = event.target.querySelector("#case-dialog-content");
    if (content) content.innerHTML = '<div class="modal-body text-body-secondary" role="status">Loading…</div>';
  });
  document.addEventListener("click", function (event) {
    const cancel = event.target.closest && event.target.closest("[data-dialog-cancel]");
    const modal = cancel && cancel.closest(".modal.show");
    if (modal && window.bootstrap) {
      event.preventDefault();
      window.bootstrap.Modal.getOrCreateInstance(modal).hide();
    }
  });

  function bulkState() {
    const form = document.querySelector("[data-bulk-form]");
    if (!form) return;
    const boxes = Array.from(document.querySelectorAll("input[name=case][form=bulk-form]"));
    const chosen = boxes.filter(function (b) { return b.checked; }).length;
    const count = form.querySelector("[data-bulk-count]");
    if (count) count.textContent = chosen ? "(" + chosen + " chosen)" : "(tick the cases below)";
    const all = document.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
    }
    const action = form.querySelector("select[name=action]");
    const value = action ? action.value : "";
    form.querySelectorAll("[data-bulk-for]").forEach(function (el) {
      el.hidden = el.getAttribute("data-bulk-for").split(" ").indexOf(value) < 0;  // only what the action needs
    });
  }
  document.addEventListener("change", function (event) {
    const el = event.target;
    if (el.matches && el.matches("[data-select-all]")) {
      document.querySelectorAll("input[name=case][form=bulk-form]").forEach(function (b) { b.checked = el.checked; });
    }
    if (el.matches && (el.matches("[data-select-all], input[name=case][form=bulk-form]") || el.closest("[data-bulk-form]"))) bulkState();
  });
  document.addEventListener("DOMContentLoaded", bulkState);

  // --- HTMX errors: say what happened instead of doing nothing ------------------------------------------
  function showError(text) {
    const toast = document.getElementById("request-error");
    if (!toast || !window.bootstrap) { window.alert(text); return; }
    toast.querySelector(".toast-body").textContent = text;
    window.bootstrap.Toast.getOrCreateInstance(toast).show();
  }
  document.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr.status;
    if (status === 403) showError("Your role does not allow this.");
    else if (status === 404) showError("This record no longer exists or is not visible to you.");
    else showError("The server could not do this (error " + status + "). Nothing you typed was lost; try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    showError("The server cannot be reached. Check the connection and try again.");
  });
})();
