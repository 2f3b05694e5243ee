// Relay staff UI: keyboard shortcuts, search navigation, confirmations, person/organisation fields.
(function () {
  "use strict";

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    const search = document.getElementById("global-search");
    if (event.key === "/" && search && !typing(document.activeElement)) {
      event.preventDefault();
      search.focus();
      search.select();
      return;
    }
    const results = document.getElementById("search-results");
    if (!results) return;
    const links = Array.from(results.querySelectorAll("a.list-group-item"));
    const inSearch = document.activeElement === search || results.contains(document.activeElement);
    if (!inSearch || links.length === 0) {
      if (event.key === "Escape" && results) results.innerHTML = "";
      return;
    }
    const index = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown") {
      event.preventDefault();
      links[Math.min(index + 1, links.length - 1)].focus();
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (index <= 0) search.focus(); else links[index - 1].focus();
    } else if (event.key === "Enter" && document.activeElement === search) {
      event.preventDefault();
      links[0].click();
    } else if (event.key === "Escape") {
      results.innerHTML = "";
      search.focus();
    }
  });

  document.addEventListener("click", function (event) {
    const results = document.getElementById("search-results");
    const box = document.querySelector(".search-box");
    if (results && box && !box.contains(event.target)) results.innerHTML = "";
  });

  document.addEventListener("submit", function (event) {
    const message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  }, true);

  function toggleKind() {
    const checked = document.querySelector("input[name=kind]:checked");
    if (!checked) return;
    const person = checked.value === "person";
    document.querySelectorAll(".person-only").forEach(function (el) { el.hidden = !person; });
    document.querySelectorAll(".org-only").forEach(function (el) { el.hidden = person; });
  }
  document.addEventListener("change", function (event) {
    if (event.target.name === "kind") toggleKind();
  });
  document.addEventListener("DOMContentLoaded", toggleKind);
  document.addEventListener("htmx:afterSettle", toggleKind);
})();
