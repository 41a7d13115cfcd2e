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
    const state = document.getElementById("notice-status"), freshState = doc.getElementById("notice-status");
    if (state && freshState) state.textContent = freshState.textContent;
    const edit = document.getElementById("notice-edit");
    if (edit && !doc.getElementById("notice-edit")) edit.remove();  // sending began: no more edits
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

// An open case page: new resident messages and each reply's send state (待发送 → 已发送), polled, no reload.
(function () {
  "use strict";
  const chat = document.getElementById("chat");
  if (!chat || !chat.dataset.poll) return;
  const status = document.getElementById("case-status");
  let shown = chat.innerHTML.trim();
  async function poll() {
    try {
      const res = await fetch(chat.dataset.poll, {headers: {"Accept": "application/json"}});
      if (!res.ok) return;
      const data = await res.json();
      const fresh = String(data.chat).trim();
      if (fresh !== shown) {
        const atEnd = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
        chat.innerHTML = fresh;  // rendered by the server's own template (escaped there)
        shown = fresh;
        if (atEnd) chat.scrollTop = chat.scrollHeight;  // follow new lines unless the clerk scrolled back
      }
      if (status && data.status_label) status.textContent = data.status_label;
    } catch (e) { /* offline for a moment: try again next time */ }
  }
  setInterval(poll, Number(chat.dataset.seconds || 5) * 1000);
})();
