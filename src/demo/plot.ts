// Plots for reports: Vega-Lite specs compiled and rendered to SVG in Node (no browser, no
// network), so a report is one self-contained HTML file.
import * as vega from 'vega';
import * as vl from 'vega-lite';

export interface LineSeries {
  name: string;
  points: { x: number; y: number }[];
}

export interface LineChartOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  width?: number;
  height?: number;
}

/** A multi-series line chart as an SVG string. */
export async function lineChartSvg(series: LineSeries[], o: LineChartOptions): Promise<string> {
  const values = series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.y)).map((p) => ({ series: s.name, x: p.x, y: p.y })));
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: o.title,
    width: o.width ?? 360,
    height: o.height ?? 200,
    data: { values },
    mark: { type: 'line', point: values.length <= 60 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xTitle },
      y: { field: 'y', type: 'quantitative', title: o.yTitle, scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
  return renderSvg(spec);
}

export interface BarDatum {
  group: string;
  label: string;
  value: number;
}

/** Grouped bars (e.g. task accuracy before/after per method) as an SVG string. */
export async function groupedBarSvg(data: BarDatum[], o: LineChartOptions): Promise<string> {
  const spec: vl.TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: o.title,
    width: o.width ?? 360,
    height: o.height ?? 200,
    data: { values: data },
    mark: 'bar',
    encoding: {
      x: { field: 'group', type: 'nominal', title: o.xTitle, sort: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'label', sort: null },
      y: { field: 'value', type: 'quantitative', title: o.yTitle },
      color: { field: 'label', type: 'nominal', title: null, sort: null },
    },
  };
  return renderSvg(spec);
}

async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
