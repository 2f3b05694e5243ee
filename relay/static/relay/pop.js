/* The screen pop: listens to the signed-in user's live events (GET /push/stream, Server-Sent Events) and,
   when a call rings, fetches its card (/phone/pops/<id>/, permission-checked like the 360 page) into
   #pop-root as a non-modal dialog. Esc or the close button dismisses it and gives focus back.
   No inline script, no eval (the CSP allows script-src 'self' only). docs/adr/0013. */
(function () {
  "use strict";
  var root = document.getElementById("pop-root");
  if (!root || !window.EventSource || !root.dataset.stream) return;

  var MAX_POPS = 3;
  var lastFocus = null;

  function close(pop) {
    if (!pop || !pop.parentNode) return;
    var hadFocus = pop.contains(document.activeElement);
    pop.parentNode.removeChild(pop);
    if (hadFocus) {
      var next = root.querySelector(".pop");
      if (next) next.focus();
      else if (lastFocus && document.body.contains(lastFocus)) lastFocus.focus();
    }
  }

  function show(event) {
    var existing = document.getElementById("pop-" + event.call);
    if (existing && event.state !== "ringing") {
      var state = existing.querySelector(".pop-state");
      if (state && event.state === "ended") { state.textContent = "Call ended"; state.dataset.state = "ended"; }
      existing.classList.toggle("pop-ended", event.state === "ended");
      return;
    }
    if (existing || event.state !== "ringing" || !/^\/phone\/pops\/\d+\/$/.test(event.url)) return;
    fetch(event.url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html || document.getElementById("pop-" + event.call)) return;
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var pop = holder.querySelector(".pop");
        if (!pop) return;
        if (!root.querySelector(".pop")) lastFocus = document.activeElement;
        root.insertBefore(pop, root.firstChild);
        while (root.querySelectorAll(".pop").length > MAX_POPS) close(root.lastElementChild);
        if (window.htmx) window.htmx.process(pop);
        // a new caller's form: straight to the name; a known caller: the dialog (Tab reaches its buttons)
        var field = pop.querySelector("input:not([readonly]):not([type=hidden])");
        (field || pop).focus();
      })
      .catch(function () { /* the call is on the timeline anyway; a lost pop is only a pop */ });
  }

  root.addEventListener("click", function (e) {
    var button = e.target.closest(".pop-close");
    if (button) close(button.closest(".pop"));
  });
  root.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { var pop = e.target.closest(".pop"); if (pop) { e.preventDefault(); close(pop); } }
  });

  var source = new EventSource(root.dataset.stream);
  source.addEventListener("call", function (e) {
    var data;
    try { data = JSON.parse(e.data); } catch (err) { return; }
    show(data);
  });
  source.addEventListener("open", function () { root.dataset.live = "1"; });
  source.addEventListener("error", function () { root.dataset.live = "0"; });
  window.addEventListener("pagehide", function () { source.close(); });
})();
