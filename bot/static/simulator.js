// The resident simulator: send through /console/simulator/send, poll pushes from the WeChat stand-in.
(function () {
  "use strict";
  const base = "/console/simulator";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const labels = document.getElementById("sim-labels").content.firstElementChild.dataset;
  const chat = document.getElementById("sim-chat");
  const select = document.getElementById("sim-resident");
  const shown = document.getElementById("sim-openid");
  let openid = select.value || "";
  let since = 0;
  let timer = null;

  function line(who, text, kind) {
    const li = document.createElement("li");
    li.className = who + (kind === "custom" || kind === "template" ? " push" : "");
    const meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = who === "resident" ? labels.resident : (li.classList.contains("push") ? labels.push : labels.bot);
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = kind === "image" ? labels.photo : text;
    li.append(meta, body);
    chat.append(li);
    chat.scrollTop = chat.scrollHeight;
  }

  async function load() {
    chat.textContent = "";
    shown.textContent = openid || "—";
    if (!openid) return;
    const res = await fetch(`${base}/history?openid=${encodeURIComponent(openid)}`);
    const data = await res.json();
    const all = data.lines.concat(data.pushes).sort((a, b) => a.t - b.t);
    all.forEach((m) => line(m.who, m.text, m.kind));
    since = data.total;
  }

  async function poll() {
    if (!openid) return;
    const res = await fetch(`${base}/feed?openid=${encodeURIComponent(openid)}&since=${since}`);
    if (!res.ok) return;
    const data = await res.json();
    data.pushes.forEach((m) => line(m.who, m.text, m.kind));
    since = data.total;
  }

  async function send(payload) {
    const res = await fetch(`${base}/send`, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(Object.assign({openid: openid}, payload)),
    });
    if (!res.ok) { line("bot", labels.error, "error"); return null; }
    return res.json();
  }

  function choose(id) {
    openid = id;
    load().then(() => { if (!timer) timer = setInterval(poll, 1500); });
  }

  select.addEventListener("change", () => choose(select.value));
  document.getElementById("sim-new").addEventListener("click", async () => {
    const data = await send({kind: "new"});
    if (!data) return;
    const opt = new Option(data.openid, data.openid, true, true);
    select.add(opt, 1);
    choose(data.openid);
  });
  document.getElementById("sim-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = document.getElementById("sim-text");
    const text = input.value.trim();
    if (!text || !openid) return;
    input.value = "";
    line("resident", text, "text");
    const data = await send({kind: "text", text: text});
    if (data && data.reply) line("bot", data.reply, "reply");
  });
  document.getElementById("sim-photo").addEventListener("click", async () => {
    if (!openid) return;
    line("resident", "", "image");
    const data = await send({kind: "image"});
    if (data && data.reply) line("bot", data.reply, "reply");
  });
  document.querySelectorAll("[data-menu-key]").forEach((button) => {
    button.addEventListener("click", async () => {
      if (!openid) return;
      line("resident", labels.menu + button.textContent, "click");
      const data = await send({kind: "click", key: button.dataset.menuKey});
      if (data && data.reply) line("bot", data.reply, "reply");
      const open = button.closest("details");
      if (open) open.open = false;
    });
  });
  if (openid) choose(openid);
})();
