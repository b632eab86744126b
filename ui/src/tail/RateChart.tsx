//! Messages per second over the last minute, as a small line chart.


/** Messages per second over the last minute, as a small line chart. */
export function RateChart({ rate }: { rate: number[] }) {
  const max = Math.max(1, ...rate);
  const w = 180;
  const h = 28;
  const points = rate.map((v, i) => `${(i / (rate.length - 1)) * w},${h - (v / max) * (h - 2) - 1}`).join(" ");
  return (
    <span className="tail-rate" data-testid="tail-rate" title={`records per second over the last minute (peak ${max})`}>
      <svg width={w} height={h} aria-hidden>
        <polyline points={points} fill="none" stroke="var(--accent)" strokeWidth="1.5" />
      </svg>
      <span>{rate[rate.length - 2] ?? 0}/s</span>
    </span>
  );
}
