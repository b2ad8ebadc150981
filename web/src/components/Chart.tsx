import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  /** y values aligned with the x values. */
  values: (number | null)[];
  stroke: string;
}

/** A uPlot time chart (x in unix seconds), rebuilt when its data changes, resized with its box. */
export function Chart({ title, x, series, height = 180, empty = 'no model steps yet' }: { title: string; x: number[]; series: Series[]; height?: number; empty?: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || x.length === 0) return;
    const opts: uPlot.Options = {
      title,
      width: Math.max(200, el.clientWidth),
      height,
      // One reading alone gets a minute either side, not an axis of years.
      scales: { x: { time: true, range: (_u, min, max) => (min === max ? [min - 60, max + 60] : [min, max]) } },
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: true, points: { show: x.length < 60 } }))],
      axes: [{ stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' } }, { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' } }],
    };
    const plot = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [title, x, series, height]);
  if (x.length === 0) return <p className="muted">{title}: {empty}.</p>;
  return <div ref={box} className="chart" role="img" aria-label={title} />;
}
