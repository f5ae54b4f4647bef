"use strict";
(function () {
  const log = document.getElementById("log");
  const status = document.getElementById("status");
  const form = document.getElementById("composer");
  const input = document.getElementById("answer");
  const main = document.getElementById("main");
  const code = main.dataset.code || "";
  let ack = 0;
  const seen = new Set();
  let busy = false;

  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function scrollDown() { main.scrollTop = main.scrollHeight; }

  function bubble(text, who) {
    const li = document.createElement("li");
    li.className = "msg " + who;
    li.textContent = text;
    log.appendChild(li);
    scrollDown();
    return li;
  }

  function disableOld() {
    log.querySelectorAll(".choices button, .multi input").forEach((el) => { el.disabled = true; });
  }

  function renderChoices(li, m) {
    if (!m.choices.length) return null;
    if (m.multiple) {
      const box = document.createElement("fieldset");
      box.className = "choices multi list";
      const legend = document.createElement("legend");
      legend.className = "visually-hidden";
      legend.textContent = "Kies een of meer";
      box.appendChild(legend);
      m.choices.forEach((c) => {
        const label = document.createElement("label");
        const cb = document.createElement("input");
        cb.type = "checkbox"; cb.value = c.value;
        label.appendChild(cb);
        label.appendChild(document.createTextNode(c.label));
        box.appendChild(label);
      });
      const ok = document.createElement("button");
      ok.type = "button"; ok.textContent = "Klaar";
      ok.addEventListener("click", () => {
        const picked = Array.from(box.querySelectorAll("input:checked"));
        if (!picked.length) { status.textContent = "Kies er minstens één."; return; }
        const labels = picked.map((cb) => cb.parentElement.textContent).join(", ");
        send({ choice: picked.map((cb) => cb.value).join(","), echo: labels });
      });
      box.appendChild(ok);
      li.appendChild(box);
      return box.querySelector("input");
    }
    const row = document.createElement("div");
    row.className = "choices " + (m.style || "buttons");
    row.setAttribute("role", "group");
    m.choices.forEach((c, i) => {
      const b = document.createElement("button");
      b.type = "button"; b.textContent = c.label;
      if (m.style === "scale") b.setAttribute("aria-label", c.label + " (" + (i + 1) + " van " + m.choices.length + ")");
      b.addEventListener("click", () => send({ choice: c.value, echo: c.label }));
      row.appendChild(b);
    });
    li.appendChild(row);
    return row.querySelector("button");
  }

  function show(messages) {
    let focusTarget = null;
    messages.forEach((m) => {
      if (seen.has(m.id)) return;
      seen.add(m.id);
      ack = Math.max(ack, m.id);
      disableOld();
      const li = bubble(m.text, "bot");
      const first = renderChoices(li, m);
      if (first) focusTarget = first;
      else if (m.free_text) focusTarget = input;
    });
    scrollDown();
    if (focusTarget) focusTarget.focus({ preventScroll: true });
  }

  async function post(body, attempt) {
    const res = await fetch("/chat/api/messages", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
    if (res.status >= 500 && attempt < 3) {
      await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
      return post(body, attempt + 1);  // same id: the server handles it once
    }
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.detail || "Er ging iets mis. Probeer het opnieuw.");
    return data;
  }

  async function send(opts) {
    if (busy) return;
    busy = true;
    status.textContent = "";
    if (opts.echo) bubble(opts.echo, "me");
    const body = { id: newId(), ack: ack };
    if (opts.text !== undefined) body.text = opts.text;
    if (opts.choice !== undefined) body.choice = opts.choice;
    try {
      const data = await post(body, 0);
      show(data.messages || []);
    } catch (err) {
      status.textContent = err.message;
    } finally {
      busy = false;
    }
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) { status.textContent = "Typ eerst een antwoord."; input.focus(); return; }
    input.value = "";
    send({ text: text, echo: text });
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
  });
  document.querySelectorAll("[data-send]").forEach((b) => {
    b.addEventListener("click", () => send({ text: b.dataset.send, echo: b.textContent }));
  });

  async function boot() {
    try {
      const res = await fetch("/chat/api/messages?after=0", { credentials: "same-origin" });
      const data = await res.json();
      if (data.messages && data.messages.length) { show(data.messages); return; }
    } catch (err) { /* fall through to start */ }
    send({ text: code ? "/start " + code : "/start" });
  }
  boot();
})();
