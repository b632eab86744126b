//! An edge's last 24 hours: lag in time and entries carried per second as lines, the backlog as a
//! shaded area, outages marked. Each line is scaled to its own highest value.
import type { EdgeHistory } from "../platform";
import { lagText, outages, polyline } from "./model";

const W = 260;
const H = 64;

export function HealthChart({ history }: { history: EdgeHistory }) {
  const s = history.samples;
  if (s.length < 2) return <p className="small muted" data-testid="health-chart-empty">No history yet: a sample is kept every 5 s while the studio runs.</p>;
  const from = s[0].at;
  const to = s[s.length - 1].at;
  const x = (t: number) => ((t - from) / Math.max(1, to - from)) * W;
  const recent = s[s.length - 1].at - 15 * 60_000;
  const down = outages(s, (p) => (p.at >= recent ? history.fineMs : history.coarseMs));
  const worst = Math.max(...s.map((p) => p.lagMs ?? 0));
  const backlog = polyline(s.map((p) => ({ at: p.at, v: p.backlog })), W, H, from, to);
  return (
    <figure className="health-chart" data-testid="health-chart">
      <svg width={W} height={H} role="img" aria-label={`lag over ${lagText(to - from)}, worst ${lagText(worst)}, ${down.length} outage${down.length === 1 ? "" : "s"}`}>
        {down.map(([a, b], i) => <rect key={i} className="outage" x={x(a)} y={0} width={Math.max(1, x(Math.min(b, to)) - x(a))} height={H} data-testid="health-outage" />)}
        <polygon className="backlog" points={`0,${H} ${backlog} ${W},${H}`} />
        <polyline className="rate" points={polyline(s.map((p) => ({ at: p.at, v: p.rate })), W, H, from, to)} />
        <polyline className="lag" points={polyline(s.map((p) => ({ at: p.at, v: p.lagMs ?? 0 })), W, H, from, to)} />
      </svg>
      <figcaption className="small muted">
        last {lagText(to - from)} · <span className="lag-key">lag</span> (worst {lagText(worst)}) · <span className="rate-key">entries/s</span> (up to {Math.round(Math.max(...s.map((p) => p.rate)))}) · backlog shaded below · {down.length} outage{down.length === 1 ? "" : "s"} shaded red
      </figcaption>
    </figure>
  );
}
