import uPlot from 'uplot';
import { useEffect, useRef } from 'preact/hooks';

export interface ChartSeries {
  label: string;
  /** A CSS variable's name (the chart follows the light or dark theme). */
  color: string;
  /** Which y scale: requests per second, or milliseconds. */
  scale?: 'rps' | 'ms';
  fill?: boolean;
}

function cssColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/**
 * A live uPlot chart: `data` is [x (epoch s), ...one array per series];
 * new data is set in place (no new chart per tick), and the chart follows
 * its box's width.
 */
export function Chart({ series, data, height = 180, spark = false }: { series: ChartSeries[]; data: Array<Array<number | null>>; height?: number; spark?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);

  useEffect(() => {
    const element = box.current!;
    const time = uPlot.fmtDate('{HH}:{mm}:{ss}');
    const axis = { stroke: cssColor('--muted'), grid: { stroke: cssColor('--grid'), width: 1 }, ticks: { show: false }, font: '11px system-ui, sans-serif' };
    const options: uPlot.Options = {
      width: element.clientWidth || 300,
      height,
      legend: { show: !spark },
      cursor: spark ? { show: false } : { points: { size: 6 } },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      scales: { x: { time: true }, rps: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] }, ms: { range: (_u, _min, max) => [0, Math.max(5, max * 1.15)] } },
      axes: spark
        ? [{ show: false }, { show: false, scale: 'rps' }]
        : [{ ...axis, values: (_u: uPlot, splits: number[]) => splits.map((split) => time(new Date(split * 1000))) }, { ...axis, scale: 'rps', size: 42, label: 'req/s', labelSize: 14 }, ...(series.some((item) => item.scale === 'ms') ? [{ ...axis, scale: 'ms', side: 1, size: 52, label: 'ms', labelSize: 14, grid: { show: false } }] : [])],
      series: [
        {},
        ...series.map((item) => {
          const color = cssColor(item.color);
          return { label: item.label, scale: item.scale ?? 'rps', stroke: color, width: spark ? 1.5 : 1.5, fill: item.fill ? `${color}33` : undefined, points: { show: false }, spanGaps: item.scale === 'ms' };
        }),
      ],
      padding: spark ? [2, 0, 2, 0] : [8, 8, 0, 0],
    };
    plot.current = new uPlot(options, data as uPlot.AlignedData, element);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: element.clientWidth, height }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [series.map((item) => item.label).join(','), height, spark]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <div class={spark ? 'spark' : 'chart'} ref={box} />;
}
