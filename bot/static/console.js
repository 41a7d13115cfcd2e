// Console helpers: ask before forms marked data-confirm are sent (no inline handlers: the CSP forbids them).
(function () {
  "use strict";
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
})();

// Refresh a notice's delivery progress in place while it is sending.
(function () {
  "use strict";
  const box = document.getElementById("progress");
  const seconds = box ? Number(box.dataset.refresh || 0) : 0;
  if (!seconds) return;
  setInterval(async () => {
    const res = await fetch(location.href, {headers: {"Accept": "text/html"}});
    if (!res.ok) return;
    const doc = new DOMParser().parseFromString(await res.text(), "text/html");
    const fresh = doc.getElementById("progress");
    if (fresh) box.innerHTML = fresh.innerHTML;
  }, seconds * 1000);
})();

// The header's 特急 badge: open critical cases of the user, polled, shown while there are any.
(function () {
  "use strict";
  const badge = document.getElementById("live-critical");
  if (!badge) return;
  const count = badge.querySelector("b");
  async function poll() {
    try {
      const res = await fetch(badge.dataset.poll, {headers: {"Accept": "application/json"}});
      if (!res.ok) return;
      const data = await res.json();
      count.textContent = String(data.critical_open);
      badge.hidden = !data.critical_open;
    } catch (e) { /* offline for a moment: try again next time */ }
  }
  poll();
  setInterval(poll, Number(badge.dataset.seconds || 15) * 1000);
})();
