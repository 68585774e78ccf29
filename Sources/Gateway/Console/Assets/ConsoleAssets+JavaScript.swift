/// The console's script, compiled into the binary (the release binary and the container ship one
/// file). Served as `/admin/assets/console.js`: the strict CSP allows no inline script. Everything
/// works without it; it adds copy buttons, confirmations and the playground's stream.
extension ConsoleAssets {
    static let javascript = #"""
"use strict";
(function () {
  const csrf = document.body ? document.body.dataset.csrf : "";

  // Copy buttons: data-copy names the element whose text is copied.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const text = source.textContent;
      const status = button.parentElement.querySelector(".copied");
      const done = function () {
        button.textContent = "Copied";
        if (status) status.textContent = "Copied to the clipboard.";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { select(source); });
      } else {
        select(source);
        try { document.execCommand("copy"); done(); } catch (e) { /* selected: the user copies */ }
      }
    });
  });

  function select(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // Forms that ask before they act (rotate).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // Calls `handle` with each non-empty line of a streamed response, as it arrives.
  async function eachLine(response, handle) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let index;
      while ((index = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, index).trim();
        buffer = buffer.slice(index + 1);
        if (line) handle(line);
      }
    }
    if (buffer.trim()) handle(buffer.trim());
  }

  // Pulling a model: Ollama's progress lines drawn as a progress bar.
  const pull = document.getElementById("pull-form");
  if (pull) {
    pull.addEventListener("submit", function (event) {
      event.preventDefault();
      pullModel(pull);
    });
  }

  async function pullModel(form) {
    const box = document.getElementById("pull-progress");
    const bar = document.getElementById("pull-bar");
    const status = document.getElementById("pull-status");
    const button = form.querySelector("button[type=submit]");
    box.hidden = false;
    bar.value = 0;
    status.textContent = "Starting…";
    button.disabled = true;
    let failed = false;
    try {
      const response = await fetch(form.action, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrf },
        body: new URLSearchParams(new FormData(form))
      });
      if (!response.ok || !response.body) {
        status.textContent = "The pull failed (HTTP " + response.status + ").";
        return;
      }
      await eachLine(response, function (line) {
        let event;
        try { event = JSON.parse(line); } catch (e) { return; }
        if (event.error) { failed = true; status.textContent = "Error: " + event.error; return; }
        if (event.total && event.completed !== undefined) {
          bar.max = event.total;
          bar.value = event.completed;
          status.textContent = event.status + " — " + Math.floor(100 * event.completed / event.total) + "%";
        } else if (event.status) {
          status.textContent = event.status;
        }
      });
      if (!failed) {
        bar.value = bar.max;
        status.textContent = "Done. The model list has been read again.";
        setTimeout(function () { window.location.reload(); }, 800);
      }
    } catch (error) {
      status.textContent = "Error: " + error.message;
    } finally {
      button.disabled = false;
    }
  }

  // The playground: an OpenAI chat request, streamed; text only ever inserted as text.
  const playground = document.getElementById("playground");
  if (playground) {
    playground.addEventListener("submit", function (event) {
      event.preventDefault();
      run(playground);
    });
  }

  async function run(form) {
    const answer = document.getElementById("answer");
    const reasoning = document.getElementById("reasoning");
    const reasoningBox = document.getElementById("reasoning-box");
    const stats = document.getElementById("answer-stats");
    const button = form.querySelector("button[type=submit]");
    answer.textContent = "";
    reasoning.textContent = "";
    reasoningBox.hidden = true;
    stats.textContent = "Waiting for the model…";
    button.disabled = true;
    const messages = [];
    const system = form.elements.system.value.trim();
    if (system) messages.push({ role: "system", content: system });
    messages.push({ role: "user", content: form.elements.prompt.value });
    const started = performance.now();
    let firstToken = null;
    let usage = null;
    try {
      const response = await fetch("/admin/playground/chat", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({
          model: form.elements.model.value, messages: messages, stream: true,
          stream_options: { include_usage: true }
        })
      });
      if (!response.ok || !response.body) {
        let message = "HTTP " + response.status;
        try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
        stats.textContent = "Error: " + message;
        return;
      }
      await eachLine(response, function (line) {
        if (!line.startsWith("data:")) return;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return;
        let event;
        try { event = JSON.parse(data); } catch (e) { return; }
        if (event.error) { stats.textContent = "Error: " + event.error.message; return; }
        if (event.usage) usage = event.usage;
        const delta = event.choices && event.choices[0] && event.choices[0].delta;
        if (!delta) return;
        const thought = delta.reasoning_content || delta.reasoning;
        if (thought) {
          if (firstToken === null) firstToken = performance.now();
          reasoningBox.hidden = false;
          reasoning.textContent += thought;
        }
        if (delta.content) {
          if (firstToken === null) firstToken = performance.now();
          answer.textContent += delta.content;
        }
      });
      const total = (performance.now() - started) / 1000;
      const parts = [];
      if (usage) parts.push(usage.prompt_tokens + " tokens in, " + usage.completion_tokens + " out");
      if (firstToken !== null) parts.push("first token after " + Math.round(firstToken - started) + " ms");
      if (usage && firstToken !== null && total > 0) {
        const generating = Math.max(total - (firstToken - started) / 1000, 0.001);
        parts.push((usage.completion_tokens / generating).toFixed(1) + " tokens/s");
      }
      parts.push(total.toFixed(2) + " s in all");
      stats.textContent = parts.join(" · ");
    } catch (error) {
      stats.textContent = "Error: " + error.message;
    } finally {
      button.disabled = false;
    }
  }
})();
"""#
}
