import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, TopLevelSpec } from 'vega-lite';
import { AB_BACKENDS, AbBackend } from '../../chat-domain/ab-metrics';
import type { AbDailySeries } from './cloudwatch';

/**
 * The report's chart: messages per day and send latency p99, one line per backend on shared axes,
 * rendered locally (Vega-Lite → SVG → PNG with resvg), so no chart service ever sees the data.
 */
export const BACKEND_COLORS: Record<AbBackend, string> = { matrix: '#1f77b4', 'hasura-lite': '#ff7f0e' };

export const CHART_PANELS = [
  { key: 'messages', title: 'Messages per day' },
  { key: 'sendP99', title: 'Send latency p99 (ms)' },
] as const;

export const CHART_WIDTH = 640;
export const PANEL_HEIGHT = 220;

export function chartSpec(series: AbDailySeries): TopLevelSpec {
  const rows: { panel: string; day: string; backend: AbBackend; value: number }[] = [];
  for (const panel of CHART_PANELS) {
    for (const backend of AB_BACKENDS) {
      for (const [day, value] of [...(series[panel.key]?.[backend] ?? new Map<string, number>())].sort(([a], [b]) => a.localeCompare(b))) {
        rows.push({ panel: panel.title, day, backend, value });
      }
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    background: 'white',
    data: { values: rows },
    vconcat: CHART_PANELS.map((panel) => ({
      title: panel.title,
      width: CHART_WIDTH,
      height: PANEL_HEIGHT,
      transform: [{ filter: { field: 'panel', equal: panel.title } }],
      mark: { type: 'line', point: true, strokeWidth: 2 },
      encoding: {
        x: { field: 'day', type: 'temporal', title: 'day (UTC)', timeUnit: 'utcyearmonthdate' },
        y: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'backend', type: 'nominal', scale: { domain: [...AB_BACKENDS], range: AB_BACKENDS.map((b) => BACKEND_COLORS[b]) }, title: 'backend' },
      },
    })),
  } as TopLevelSpec;
}

export async function renderChartPng(series: AbDailySeries): Promise<Buffer> {
  const view = new vega.View(vega.parse(compile(chartSpec(series)).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return new Resvg(svg, { fitTo: { mode: 'original' }, font: { loadSystemFonts: true } }).render().asPng();
  } finally {
    view.finalize();
  }
}
