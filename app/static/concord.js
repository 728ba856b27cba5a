// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // The browser's time zone, so that the server shows times in it (unless the account names one).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var cookie = "concord_tz=" + encodeURIComponent(zone || "");
    if (zone && document.cookie.split("; ").indexOf(cookie) === -1) {
      document.cookie = cookie + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* no Intl: times stay in UTC */ }

  // The words this file writes, in the page's language (base.html puts them on <body>; English without).
  var words = document.body ? document.body.dataset : {};
  function word(key, english) { return words[key] || english; }
  var language = document.documentElement.lang || "en";

  // Deadlines: show the time in the reader's own time zone, with a countdown ("in 3 days, 2 hours",
  // "in 3 Tagen, 2 Stunden"), in the page's language.
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function span(n, unit) {  // "in 3 days" (relative), then "2 hours" (a duration)
    try { return new Intl.RelativeTimeFormat(language, {numeric: "always"}).format(n, unit); }
    catch (e) { return "in " + plural(n, unit); }
  }
  function amount(n, unit) {
    try { return new Intl.NumberFormat(language, {style: "unit", unit: unit, unitDisplay: "long"}).format(n); }
    catch (e) { return plural(n, unit); }
  }
  function remaining(ms) {
    if (ms <= 0) return word("wPassed", "passed");
    var minutes = Math.floor(ms / 60000), days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60), mins = minutes % 60;
    if (days > 0) return span(days, "day") + ", " + amount(hours, "hour");
    if (hours > 0) return span(hours, "hour") + ", " + amount(mins, "minute");
    return span(Math.max(mins, 1), "minute");
  }
  // The server writes the time in the reader's zone ("8 Dec 2026, 21:41 Europe/Lisbon"); this adds how long is left.
  function updateCountdowns() {
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      var left = el.nextElementSibling;
      if (!left || !left.classList.contains("countdown")) {
        left = document.createElement("span");
        left.className = "countdown";
        el.insertAdjacentElement("afterend", left);
      }
      left.textContent = " (" + remaining(when - Date.now()) + ")";
    });
  }
  updateCountdowns();
  setInterval(updateCountdowns, 30000);

  // Copy buttons next to hashes and keys (data-copy).
  document.querySelectorAll("[data-copy]").forEach(function (el) {
    if (!navigator.clipboard) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "small copy";
    button.textContent = word("wCopy", "Copy");
    button.setAttribute("aria-label", word("wCopyOf", "Copy %s").replace("%s",
      el.getAttribute("data-copy-label") || word("wTheHash", "the hash")));
    button.addEventListener("click", function () {
      var text = el.tagName === "INPUT" ? el.value : el.textContent;
      navigator.clipboard.writeText(text.trim()).then(function () {
        button.textContent = word("wCopied", "Copied");
        setTimeout(function () { button.textContent = word("wCopy", "Copy"); }, 2000);
      });
    });
    el.insertAdjacentElement("afterend", button);
  });

  // Live word-level diff while an amendment is typed (the server's preview button stays).
  var TOKEN = /\s+|[\p{L}\p{N}\p{M}]+(?:['\u2019\-][\p{L}\p{N}\p{M}]+)*|[^\s\p{L}\p{N}\p{M}]/gu;
  function tokens(text) { return text.match(TOKEN) || []; }
  function wordDiff(a, b) {
    var start = 0, endA = a.length, endB = b.length;
    while (start < endA && start < endB && a[start] === b[start]) start++;
    while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA--; endB--; }
    var midA = a.slice(start, endA), midB = b.slice(start, endB), n = midA.length, m = midB.length;
    if (n * m > 4000000) return null;  // too long to diff in the browser: the server's preview still works
    var lcs = [];
    for (var i = 0; i <= n; i++) { lcs.push(new Uint32Array(m + 1)); }
    for (i = n - 1; i >= 0; i--) {
      for (var j = m - 1; j >= 0; j--) {
        lcs[i][j] = midA[i] === midB[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    var ops = [[0, a.slice(0, start).join("")]];
    i = 0; j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && midA[i] === midB[j]) { ops.push([0, midA[i]]); i++; j++; }
      else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) { ops.push([-1, midA[i]]); i++; }
      else { ops.push([1, midB[j]]); j++; }
    }
    ops.push([0, a.slice(endA).join("")]);
    return ops;
  }
  function renderDiff(target, ops) {
    target.textContent = "";
    var last = null;
    ops.forEach(function (op) {
      if (!op[1]) return;
      var tag = op[0] === 1 ? "ins" : op[0] === -1 ? "del" : null;
      if (last && last.tagName && tag && last.tagName.toLowerCase() === tag) { last.textContent += op[1]; return; }
      var node = tag ? document.createElement(tag) : document.createTextNode(op[1]);
      if (tag) node.textContent = op[1];
      target.appendChild(node);
      last = node;
    });
  }
  document.querySelectorAll("[data-live-diff]").forEach(function (box) {
    var base = box.querySelector(".current-text"), field = box.querySelector("textarea");
    if (!base || !field) return;
    var section = document.createElement("section");
    section.className = "preview live-preview";
    section.setAttribute("aria-live", "polite");
    section.innerHTML = "<h2 class=\"h3\"></h2><div class=\"diff\"></div>";
    section.querySelector("h2").textContent = word("wLive", "Live comparison with the current text");
    field.closest(".field").insertAdjacentElement("afterend", section);
    var out = section.querySelector(".diff"), baseTokens = tokens(base.textContent.trim()), timer = null;
    function update() {
      var ops = wordDiff(baseTokens, tokens(field.value.replace(/\r\n/g, "\n").trim()));
      if (ops) renderDiff(out, ops);
      else out.textContent = word("wTooLong", "Too long to compare here; use “Preview the change”.");
    }
    field.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 150); });
    update();
  });

  // On a phone the main menu folds behind a button (without this file it simply wraps).
  var nav = document.querySelector("header.site nav.site-nav");
  var list = nav && nav.querySelector("ul");
  if (list) {
    list.id = list.id || "main-menu";
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "menu-toggle small";
    toggle.setAttribute("aria-expanded", "false");
    toggle.setAttribute("aria-controls", list.id);
    var unread = list.querySelector(".count");
    toggle.textContent = word("wMenu", "Menu") +
      (unread ? " (" + word("wUnread", "%s unread").replace("%s", unread.textContent) + ")" : "");
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
    nav.classList.add("collapsible");
    nav.insertBefore(toggle, list);
  }

  // After a refused form: bring the first error into view and put the cursor there.
  var invalid = document.querySelector("[aria-invalid=true], .has-error input, .has-error select, .has-error textarea");
  var summary = document.querySelector(".form-errors");
  if (invalid) {
    invalid.focus();
  } else if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
  var first = invalid || summary;
  if (first && first.scrollIntoView) first.scrollIntoView({block: "center"});

  // Confirmation for irreversible buttons (data-confirm="question").
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
