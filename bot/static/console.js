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

// An open case page: new resident messages and each reply's send state (待发送 → 已发送), the status and the
// 办理 panel when another clerk acts, polled, no reload.
(function () {
  "use strict";
  const chat = document.getElementById("chat");
  if (!chat || !chat.dataset.poll) return;
  const status = document.getElementById("case-status");
  const panel = document.getElementById("case-actions"), audit = document.getElementById("audit-rows");
  const department = document.getElementById("case-department"), changed = document.getElementById("case-changed");
  const gone = document.getElementById("case-gone");
  let shown = chat.innerHTML.trim();
  async function poll() {
    try {
      const res = await fetch(chat.dataset.poll, {headers: {"Accept": "application/json"}});
      if (res.status === 404 && gone) {  // reassigned out of this clerk's reach: say so, stop acting here
        gone.hidden = false;
        if (panel) panel.querySelectorAll("button").forEach((button) => { button.disabled = true; });
        return;
      }
      if (!res.ok) return;
      const data = await res.json();
      const fresh = String(data.chat).trim();
      if (fresh !== shown) {
        const atEnd = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
        chat.innerHTML = fresh;  // rendered by the server's own template (escaped there)
        shown = fresh;
        if (atEnd) chat.scrollTop = chat.scrollHeight;  // follow new lines unless the clerk scrolled back
      }
      if (status && data.status_label) {
        status.textContent = data.status_label;
        status.className = "status status-" + data.status;
      }
      if (panel && data.state && data.state !== panel.dataset.state) {
        // another clerk acted (accepted, resolved, reassigned): the panel the status now allows, keeping
        // what this clerk had typed in fields that are still there
        const typed = {};
        panel.querySelectorAll("textarea, input[name]:not([type=hidden])").forEach((field) => {
          typed[field.form.action + " " + field.name] = field.value;
        });
        panel.innerHTML = data.actions;  // rendered by the server's own template (escaped there)
        panel.querySelectorAll("textarea, input[name]:not([type=hidden])").forEach((field) => {
          const value = typed[field.form.action + " " + field.name];
          if (value) field.value = value;
        });
        panel.dataset.state = data.state;
        if (audit && data.events) audit.innerHTML = data.events;
        if (department && data.department_label) department.textContent = data.department_label;
        if (changed) changed.hidden = false;
      }
    } catch (e) { /* offline for a moment: try again next time */ }
  }
  setInterval(poll, Number(chat.dataset.seconds || 5) * 1000);
})();

// The reply form's 常用回复 (templates/console/canned_replies.yaml): choosing one fills the reply box. Delegated,
// so it keeps working after live.json re-renders the 办理 panel.
(function () {
  "use strict";
  document.addEventListener("change", (event) => {
    const select = event.target;
    if (!(select instanceof HTMLSelectElement) || select.id !== "canned-reply" || !select.value) return;
    const box = select.form && select.form.querySelector("textarea[name=text]");
    if (box) { box.value = select.value; box.focus(); }
    select.value = "";
  });
})();
