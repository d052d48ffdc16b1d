/** The console's stylesheet: calm colours, one accent, red only for what needs an operator. */
export const consoleStyle = `
:root {
  --bg: #f4f5f7; --card: #ffffff; --ink: #1d2630; --muted: #64707d; --line: #dfe3e8;
  --accent: #2f6690; --ok: #2e7d4f; --warn: #a86400; --bad: #b42318; --soft-bad: #fdecea; --soft-ok: #e8f4ec;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14181d; --card: #1c2229; --ink: #e3e7ec; --muted: #9aa5b1; --line: #2c343d;
    --accent: #7fb0d9; --ok: #6cc593; --warn: #e0a54a; --bad: #f07167; --soft-bad: #3a2222; --soft-ok: #1f3326;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center; padding: 14px 24px; border-bottom: 1px solid var(--line); background: var(--card); }
header h1 { font-size: 18px; margin: 0; font-weight: 600; }
header .live { color: var(--muted); font-size: 13px; }
header .live.stale { color: var(--bad); }
header form { margin-left: auto; display: flex; gap: 8px; align-items: center; font-size: 13px; color: var(--muted); }
main { padding: 18px 24px 40px; display: grid; gap: 18px; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 0 0 10px; font-weight: 600; display: flex; gap: 10px; align-items: baseline; }
h2 .hint { font-weight: 400; font-size: 12px; color: var(--muted); }
.tiles { display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.tile .label { font-size: 12px; color: var(--muted); }
.tile .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile .sub { font-size: 12px; color: var(--muted); font-variant-numeric: tabular-nums; }
.tile.alert { border-color: var(--bad); background: var(--soft-bad); }
.tile.alert .value { color: var(--bad); }
.statuses { display: grid; grid-template-columns: auto auto; gap: 0 10px; font-size: 12px; font-variant-numeric: tabular-nums; }
svg.spark { width: 100%; height: 34px; display: block; margin-top: 4px; }
svg.spark polyline { fill: none; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
svg.spark .backlog { stroke: var(--accent); }
svg.spark .dead { stroke: var(--bad); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th { text-align: left; font-weight: 500; color: var(--muted); border-bottom: 1px solid var(--line); padding: 4px 8px 4px 0; }
td { border-bottom: 1px solid var(--line); padding: 5px 8px 5px 0; vertical-align: top; font-variant-numeric: tabular-nums; }
tr.selected td { background: color-mix(in srgb, var(--accent) 12%, transparent); }
.muted { color: var(--muted); }
.empty { color: var(--muted); font-style: italic; padding: 6px 0; }
.error { color: var(--bad); background: var(--soft-bad); border-radius: 4px; padding: 6px 10px; margin: 0 0 8px; }
.result { border-radius: 4px; padding: 6px 10px; margin: 8px 0 0; background: var(--soft-ok); color: var(--ok); }
.result.failed { background: var(--soft-bad); color: var(--bad); }
.stuck-item { border-left: 3px solid var(--bad); padding: 6px 10px; margin-bottom: 10px; background: var(--soft-bad); border-radius: 0 4px 4px 0; }
.stuck-item .reason { margin: 2px 0 6px; }
.badge { white-space: nowrap; display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; border: 1px solid var(--line); }
.badge.Fulfilled, .badge.applied { color: var(--ok); border-color: var(--ok); }
.badge.Blocked, .badge.Backordered, .badge.rejected, .badge.dead-lettered, .badge.quarantined { color: var(--bad); border-color: var(--bad); }
.badge.parked, .badge.duplicate { color: var(--warn); border-color: var(--warn); }
button { font: inherit; font-size: 13px; border: 1px solid var(--accent); color: var(--accent); background: transparent; border-radius: 4px; padding: 2px 10px; cursor: pointer; }
button.primary { background: var(--accent); color: var(--card); }
button:disabled { opacity: .5; cursor: wait; }
button.link { border: none; padding: 0; text-decoration: underline; }
input, select { font: inherit; font-size: 13px; padding: 2px 6px; border: 1px solid var(--line); border-radius: 4px; background: var(--card); color: var(--ink); }
.toolbar { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; flex-wrap: wrap; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; word-break: break-all; }
@media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } }
`;
