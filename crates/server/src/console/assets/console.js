// Cutover console: the "/" shortcut to the search box, and live pages over EventSource. No dependencies.
"use strict";

// "/" anywhere (except while typing in a field) focuses the search box.
document.addEventListener("keydown", function (event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  var box = document.getElementById("search-box");
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});

// Timeline bars: each event's share of the instance's time (set here because the page allows no inline styles).
function sizeBars(root) {
  root.querySelectorAll(".seg[data-share]").forEach(function (seg) {
    var share = parseInt(seg.getAttribute("data-share"), 10) || 0;
    seg.style.flexGrow = String(Math.max(share, 0.5));
  });
}

document.addEventListener("DOMContentLoaded", function () {
  sizeBars(document);
  var root = document.querySelector("[data-live]");
  if (!root || !window.EventSource) return;
  var state = document.getElementById("live-state");
  var announcer = document.getElementById("live-announcer");
  var setState = function (name, text) {
    if (!state) return;
    state.setAttribute("data-state", name);
    state.textContent = text;
  };
  var source = new EventSource(root.getAttribute("data-live"));
  source.onopen = function () { setState("live", "Live"); };
  source.onerror = function () {
    if (source.readyState !== EventSource.CLOSED) setState("reconnecting", "Reconnecting…");
  };
  // New HTML for one element; focus stays where it was when that element is re-created.
  source.addEventListener("fragment", function (event) {
    var message = JSON.parse(event.data);
    var element = document.getElementById(message.id);
    if (!element) return;
    var focused = document.activeElement;
    var focusedId = focused && element.contains(focused) ? focused.id : null;
    element.innerHTML = message.html;
    sizeBars(element);
    if (focusedId) {
      var again = document.getElementById(focusedId);
      if (again) again.focus();
    }
    if (announcer && message.summary && announcer.textContent !== message.summary) {
      announcer.textContent = message.summary;
    }
  });
  // New output of an event's log: appended (or the whole log, when it was replaced).
  source.addEventListener("log", function (event) {
    var message = JSON.parse(event.data);
    var pre = document.getElementById("log-" + message.position);
    if (!pre) return;
    var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    if (message.mode === "replace") {
      pre.textContent = message.text;
    } else {
      pre.appendChild(document.createTextNode(message.text));
    }
    var details = pre.closest("details");
    if (details && message.text) details.open = true;
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  });
  // Nothing more will change.
  source.addEventListener("end", function () {
    source.close();
    setState("ended", "Final");
  });
});
