// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Deadlines: show the time in the reader's own time zone, with a countdown.
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function remaining(ms) {
    if (ms <= 0) return "passed";
    var minutes = Math.floor(ms / 60000), days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    if (days > 0) return "in " + plural(days, "day") + ", " + plural(hours, "hour");
    if (hours > 0) return "in " + plural(hours, "hour") + ", " + plural(mins, "minute");
    return "in " + plural(Math.max(mins, 1), "minute");
  }
  function updateCountdowns() {
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      var local = when.toLocaleString(undefined, {
        weekday: "short", day: "numeric", month: "short", year: "numeric",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      });
      el.textContent = local + " (" + remaining(when - Date.now()) + ")";
    });
  }
  updateCountdowns();
  setInterval(updateCountdowns, 30000);

  // Confirmation for irreversible buttons (data-confirm="question").
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
