// Hand-drawn SVG charts of a subscription's last hour: deliveries per minute (stacked by
// outcome) and attempt latency (p50, p95).
import { useElementWidth } from '../hooks.ts';
import { axisLabelIndexes, pathOf, shapeDeliveryBars, shapeLatency, type TimelineBucket } from '../lib/chart.ts';
import { formatAxisDuration, formatClock, formatCount, formatDuration } from '../lib/format.ts';

const HEIGHT = 150;
const MARGIN = { top: 8, right: 8, bottom: 22, left: 44 };

function Axis({ ticks, scaleMax, plotWidth, plotHeight, format }: { ticks: number[]; scaleMax: number; plotWidth: number; plotHeight: number; format: (n: number) => string }) {
  return (
    <g className="axis">
      {ticks.map((tick) => {
        const y = plotHeight - (tick / scaleMax) * plotHeight;
        return (
          <g key={tick}>
            <line x1={0} x2={plotWidth} y1={y} y2={y} className={tick === 0 ? 'axis-base' : 'gridline'} />
            <text x={-6} y={y} dy="0.32em" textAnchor="end">
              {format(tick)}
            </text>
          </g>
        );
      })}
    </g>
  );
}

function TimeLabels({ buckets, plotWidth, plotHeight }: { buckets: readonly TimelineBucket[]; plotWidth: number; plotHeight: number }) {
  const every = plotWidth < 360 ? 20 : 10;
  const slot = buckets.length > 0 ? plotWidth / buckets.length : 0;
  return (
    <g className="axis">
      {axisLabelIndexes(buckets.length, every).map((index) => (
        <text key={index} x={index * slot + slot / 2} y={plotHeight + 15} textAnchor={index === buckets.length - 1 ? 'end' : 'middle'}>
          {formatClock(buckets[index]!.minute)}
        </text>
      ))}
    </g>
  );
}

export function DeliveriesChart({ buckets, width: fixedWidth }: { buckets: readonly TimelineBucket[]; width?: number }) {
  const [ref, measured] = useElementWidth<HTMLElement>(fixedWidth ?? 600);
  const width = fixedWidth ?? measured;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const shaped = shapeDeliveryBars(buckets, { width: plotWidth, height: plotHeight });
  const summary =
    shaped.succeeded + shaped.failed === 0
      ? 'No deliveries in the last hour'
      : `${formatCount(shaped.succeeded)} succeeded and ${formatCount(shaped.failed)} failed attempts in the last hour`;
  return (
    <figure className="chart" ref={ref}>
      <figcaption>
        <span className="chart-title">Attempts per minute</span>
        <span className="legend">
          <span className="swatch swatch-success" /> succeeded {formatCount(shaped.succeeded)}
          <span className="swatch swatch-danger" /> failed {formatCount(shaped.failed)}
        </span>
      </figcaption>
      <svg width={width} height={HEIGHT} role="img" aria-label={summary}>
        <g transform={`translate(${MARGIN.left},${MARGIN.top})`}>
          <Axis ticks={shaped.ticks} scaleMax={shaped.scaleMax} plotWidth={plotWidth} plotHeight={plotHeight} format={(n) => formatCount(n)} />
          {shaped.bars.map((bar) =>
            bar.total === 0 ? null : (
              <g key={bar.minute}>
                <title>{`${formatClock(bar.minute)}: ${bar.succeeded} succeeded, ${bar.failed} failed`}</title>
                <rect className="bar-success" x={bar.x} width={bar.width} y={plotHeight - bar.succeededHeight} height={bar.succeededHeight} />
                <rect
                  className="bar-danger"
                  x={bar.x}
                  width={bar.width}
                  y={plotHeight - bar.succeededHeight - bar.failedHeight}
                  height={bar.failedHeight}
                />
              </g>
            ),
          )}
          <TimeLabels buckets={buckets} plotWidth={plotWidth} plotHeight={plotHeight} />
        </g>
      </svg>
    </figure>
  );
}

export function LatencyChart({ buckets, width: fixedWidth }: { buckets: readonly TimelineBucket[]; width?: number }) {
  const [ref, measured] = useElementWidth<HTMLElement>(fixedWidth ?? 600);
  const width = fixedWidth ?? measured;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const lines = shapeLatency(buckets, { width: plotWidth, height: plotHeight });
  const latest = [...buckets].reverse().find((bucket) => bucket.p50DurationMs != null);
  return (
    <figure className="chart" ref={ref}>
      <figcaption>
        <span className="chart-title">Attempt latency</span>
        <span className="legend">
          <span className="swatch swatch-p50" /> p50 {latest ? formatDuration(latest.p50DurationMs) : ''}
          <span className="swatch swatch-p95" /> p95 {latest ? formatDuration(latest.p95DurationMs) : ''}
        </span>
      </figcaption>
      <svg width={width} height={HEIGHT} role="img" aria-label={lines.hasData ? 'Median and 95th percentile attempt duration per minute, last hour' : 'No attempts in the last hour'}>
        <g transform={`translate(${MARGIN.left},${MARGIN.top})`}>
          <Axis ticks={lines.hasData ? lines.ticks : [0]} scaleMax={lines.scaleMax} plotWidth={plotWidth} plotHeight={plotHeight} format={formatAxisDuration} />
          {lines.p95.map((segment, index) => (
            <path key={`p95-${index}`} className="line-p95" d={pathOf(segment)} />
          ))}
          {lines.p50.map((segment, index) => (
            <path key={`p50-${index}`} className="line-p50" d={pathOf(segment)} />
          ))}
          {lines.p95.flat().map((point) => (
            <circle key={`p95-${point.minute}`} className="dot-p95" cx={point.x} cy={point.y} r={2}>
              <title>{`${formatClock(point.minute)} p95 ${formatDuration(point.value)}`}</title>
            </circle>
          ))}
          {lines.p50.flat().map((point) => (
            <circle key={`p50-${point.minute}`} className="dot-p50" cx={point.x} cy={point.y} r={2}>
              <title>{`${formatClock(point.minute)} p50 ${formatDuration(point.value)}`}</title>
            </circle>
          ))}
          {!lines.hasData ? (
            <text className="chart-empty" x={plotWidth / 2} y={plotHeight / 2} textAnchor="middle">
              No attempts in the last hour
            </text>
          ) : null}
          <TimeLabels buckets={buckets} plotWidth={plotWidth} plotHeight={plotHeight} />
        </g>
      </svg>
    </figure>
  );
}
