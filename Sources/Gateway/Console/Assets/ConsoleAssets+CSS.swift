/// The console's stylesheet, compiled into the binary and served as `/admin/assets/console.css` (the
/// strict CSP allows no inline style). Light and dark follow the system; phones get one column.
enum ConsoleAssets {
    static let css = #"""
:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --surface: #ffffff; --surface-2: #f0f2f5; --text: #1a1d23; --muted: #5a6270;
  --border: #d9dde3; --accent: #2457d6; --accent-text: #ffffff; --accent-2: #0f8a6a; --accent-3: #8a4fd8;
  --danger: #b42318; --focus: #f59e0b;
  --ok-bg: #dcf5e6; --ok-fg: #145a32; --warn-bg: #fdf2c8; --warn-fg: #6b4a00; --bad-bg: #fde2e0; --bad-fg: #8f1d14;
  --radius: 10px; --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 1px 3px rgba(16, 24, 40, .08);
  --mono: ui-monospace, "SFMono-Regular", "JetBrains Mono", Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1217; --surface: #171b22; --surface-2: #1e232c; --text: #e7eaf0; --muted: #a3abb9;
    --border: #2c333f; --accent: #7ea2ff; --accent-text: #0b1020; --accent-2: #3fd0a4; --accent-3: #c19bff;
    --danger: #ff8a80; --focus: #fbbf24;
    --ok-bg: #12372a; --ok-fg: #8ff0c0; --warn-bg: #3b3110; --warn-fg: #ffe08a; --bad-bg: #45191a; --bad-fg: #ffb4ae;
    --shadow: none;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
a { color: var(--accent); text-underline-offset: 2px; }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 4px; }
code, pre { font-family: var(--mono); font-size: .9em; }
h1 { font-size: 1.6rem; margin: .2rem 0 1rem; letter-spacing: -.01em; overflow-wrap: anywhere; }
h2 { font-size: 1.1rem; margin: 0 0 .8rem; }
h3 { font-size: .95rem; margin: 1.2rem 0 .5rem; }
.skip { position: absolute; left: -999px; top: 0; background: var(--surface); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.muted, .hint, .source { color: var(--muted); }
.hint, .source { font-size: .85rem; margin: .25rem 0 0; }

/* Top bar */
.top {
  display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .6rem 1.25rem;
  background: var(--surface); border-bottom: 1px solid var(--border); position: sticky; top: 0; z-index: 5;
}
.brand { font-weight: 700; color: var(--text); text-decoration: none; white-space: nowrap; }
.logo { color: var(--accent); }
.top nav { flex: 1 1 auto; }
.top nav ul, .tabs ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem; margin: 0; padding: 0; }
.top nav a, .tabs a {
  display: block; padding: .35rem .7rem; border-radius: 8px; color: var(--muted); text-decoration: none; font-weight: 500;
}
.top nav a:hover, .tabs a:hover { background: var(--surface-2); color: var(--text); }
.top nav a[aria-current], .tabs a[aria-current] { background: var(--accent); color: var(--accent-text); }
.account { display: flex; align-items: center; gap: .75rem; font-size: .9rem; }
.account form { margin: 0; }

main { max-width: 1240px; margin: 0 auto; padding: 1.25rem; }
main.narrow { max-width: 440px; padding-top: 8vh; }
body.bare .brand { font-size: 1.1rem; margin: 0 0 .5rem; }

/* Cards, columns, facts */
.card {
  background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); padding: 1.1rem 1.2rem;
  box-shadow: var(--shadow); margin: 0 0 1.25rem; min-width: 0;
}
.card.narrow { max-width: 560px; }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); gap: 1.25rem; align-items: start; }
.columns > .card { margin: 0; }
/* Facts: term and value side by side, as many pairs per row as fit. */
.facts {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(7rem, 1fr) minmax(10rem, 2fr));
  gap: .5rem 1rem; margin: 0 0 1.25rem; align-items: baseline;
}
.facts dt { font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; min-width: 0; }
.stats { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fit, minmax(128px, 1fr)); gap: .75rem; margin: 0 0 1.25rem; }
.stat { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); padding: .8rem 1rem; box-shadow: var(--shadow); }
.stat-label { display: block; font-size: .8rem; color: var(--muted); }
.stat-value { display: block; margin-top: .2rem; font-size: 1.35rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.stat small { font-size: .8rem; color: var(--muted); font-weight: 500; }
.tabs { margin: 0 0 .9rem; }

/* Charts */
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 360px), 1fr)); gap: 1rem; margin: 0 0 1.25rem; }
.chart { margin: 0; background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); padding: .8rem 1rem; box-shadow: var(--shadow); }
.chart figcaption { font-size: .9rem; font-weight: 600; margin-bottom: .4rem; }
.chart svg { width: 100%; height: auto; display: block; }
.bar { fill: var(--accent); }
.bar.alt { fill: var(--accent-2); }
.bar.alt2 { fill: var(--accent-3); }
.bar.bad { fill: var(--danger); }
.bar:hover { opacity: .75; }
.baseline { stroke: var(--border); stroke-width: 1; }
.axis { fill: var(--muted); font-size: 20px; font-family: inherit; }

/* Tables */
.table-wrap { overflow-x: auto; border: 1px solid var(--border); border-radius: var(--radius); background: var(--surface); margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .55rem .75rem; border-bottom: 1px solid var(--border); vertical-align: top; }
thead th { font-size: .78rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); background: var(--surface-2); white-space: nowrap; }
tbody th { font-weight: 600; overflow-wrap: break-word; }
tbody tr:last-child > * { border-bottom: 0; }
tbody tr:hover { background: var(--surface-2); }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.details code { font-size: .8rem; overflow-wrap: anywhere; }
.empty { color: var(--muted); padding: 1rem; border: 1px dashed var(--border); border-radius: var(--radius); }

/* Badges and messages */
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .78rem; font-weight: 600; white-space: nowrap; }
.badge.ok { background: var(--ok-bg); color: var(--ok-fg); }
.badge.warn { background: var(--warn-bg); color: var(--warn-fg); }
.badge.bad { background: var(--bad-bg); color: var(--bad-fg); }
.notice { background: var(--ok-bg); color: var(--ok-fg); padding: .6rem .9rem; border-radius: 8px; }
.error { background: var(--bad-bg); color: var(--bad-fg); padding: .6rem .9rem; border-radius: 8px; overflow-wrap: anywhere; }
ul.error { padding-left: 2rem; }
ul.plain { list-style: none; margin: 0; padding: 0; }
.warning { background: var(--warn-bg); color: var(--warn-fg); padding: .6rem .9rem; border-radius: 8px; }

/* Forms */
.stack { display: grid; gap: .9rem; }
.grid-form { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 220px), 1fr)); gap: .9rem 1rem; align-items: start; }
.grid-form .actions, .grid-form .error { grid-column: 1 / -1; }
.filters { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 170px), 1fr)); gap: .75rem 1rem; align-items: start; margin: 0 0 1rem; }
.filters .actions { padding-top: 1.65rem; }
.field { display: grid; gap: .3rem; min-width: 0; }
.field label { font-weight: 600; font-size: .88rem; }
.field.check { grid-template-columns: auto 1fr; align-items: center; gap: .5rem; }
input, select, textarea {
  font: inherit; color: var(--text); background: var(--surface); border: 1px solid var(--border); border-radius: 8px;
  padding: .5rem .65rem; width: 100%; min-width: 0;
}
input[type=checkbox] { width: 1.1rem; height: 1.1rem; accent-color: var(--accent); }
textarea { font-family: var(--mono); font-size: .88rem; resize: vertical; }
input[aria-invalid], textarea[aria-invalid] { border-color: var(--danger); }
.field-error { color: var(--danger); font-size: .85rem; margin: 0; font-weight: 600; }
.field-warnings { color: var(--warn-fg); background: var(--warn-bg); font-size: .85rem; margin: 0; padding: .4rem .6rem .4rem 1.6rem; border-radius: 8px; }
fieldset { border: 1px solid var(--border); border-radius: var(--radius); padding: .8rem 1rem 1rem; display: grid; gap: .6rem; margin: 0; }
legend { font-weight: 700; padding: 0 .3rem; }
fieldset > button { justify-self: start; }
main > p.hint { margin: 0 0 1rem; }
button, .button {
  font: inherit; font-weight: 600; display: inline-block; padding: .5rem .95rem; border-radius: 8px; cursor: pointer;
  border: 1px solid var(--border); background: var(--surface-2); color: var(--text); text-decoration: none; line-height: 1.3;
}
button:hover, .button:hover { border-color: var(--muted); }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-text); }
button.danger, .button.danger { background: var(--danger); border-color: var(--danger); color: var(--surface); }
button.link { background: none; border: 0; padding: 0; color: var(--accent); text-decoration: underline; font-weight: 500; }
button:disabled { opacity: .6; cursor: progress; }
.actions { display: flex; flex-wrap: wrap; align-items: center; gap: .75rem; }
.toolbar { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin: 0 0 1rem; }
.danger-zone { display: flex; flex-wrap: wrap; gap: .75rem; margin-top: 1.25rem; padding-top: 1rem; border-top: 1px solid var(--border); }
.danger-zone form { margin: 0; }
form.inline { margin-top: 1rem; }
.pager { display: flex; justify-content: space-between; gap: 1rem; }

/* Secrets and snippets */
.copy-row { display: flex; gap: .6rem; align-items: flex-start; flex-wrap: wrap; }
.copy-row pre { flex: 1 1 320px; margin: 0; }
.secret-value {
  flex: 1 1 320px; display: block; padding: .6rem .8rem; background: var(--surface-2); border: 1px dashed var(--accent);
  border-radius: 8px; overflow-wrap: anywhere; font-size: 1rem;
}
pre { background: var(--surface-2); border: 1px solid var(--border); border-radius: 8px; padding: .75rem .9rem; overflow-x: auto; }
.answer, .reasoning { white-space: pre-wrap; overflow-wrap: anywhere; min-height: 3rem; }
.reasoning { color: var(--muted); }
.copied { color: var(--ok-fg); font-size: .85rem; align-self: center; }
.pull { display: grid; grid-template-columns: minmax(0, 28rem) auto; gap: .75rem 1rem; align-items: start; }
.pull .actions { padding-top: 1.65rem; }
.pull-progress progress { width: 100%; height: 1rem; accent-color: var(--accent); margin-top: .75rem; }
@media (max-width: 720px) { .pull { grid-template-columns: 1fr; } .pull .actions { padding-top: 0; } }

@media (max-width: 720px) {
  .top { padding: .5rem .75rem; gap: .4rem; }
  .top nav { order: 3; flex-basis: 100%; overflow-x: auto; scrollbar-width: thin; }
  .top nav ul { flex-wrap: nowrap; }
  .top nav a { white-space: nowrap; }
  main { padding: 1rem .75rem; }
  h1 { font-size: 1.35rem; }
  .stat-value { font-size: 1.15rem; }
}
"""#
}
