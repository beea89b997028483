// Charts with uPlot (web/node_modules/uplot, embedded at /vendor/): loaded on the first chart,
// coloured from the page's CSS variables so that dark mode applies, resized with the container.

let loading = null;

export function loadUplot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const css = document.createElement('link');
      css.rel = 'stylesheet';
      css.href = '/vendor/uPlot.min.css';
      document.head.append(css);
      const script = document.createElement('script');
      script.src = '/vendor/uPlot.iife.min.js';
      script.onload = () => resolve(window.uPlot);
      script.onerror = () => {
        loading = null;
        reject(new Error('The chart library did not load.'));
      };
      document.head.append(script);
    });
  }
  return loading;
}

export function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/**
 * A time-series chart in `el`. `series`: [{label, color: '--css-var', width?, fill?, scale?,
 * value?: (v) => text}]; `data`: [xs (unix seconds), ys...]; `bands`: [[fromSec, toSec], ...]
 * painted behind the lines (e.g. when a probe was down); `axes`: {y: fmt, y2: {label, fmt}}.
 * Returns {setData(data, bands), destroy()}.
 */
export async function timeChart(el, { series, data, bands = [], height = 220, yFormat = (v) => String(v), y2 = null, stepped = false }) {
  const uPlot = await loadUplot();
  let current = { data, bands };
  let plot = null;

  function build() {
    if (plot) plot.destroy();
    const text = cssVar('--muted');
    const grid = cssVar('--grid');
    const bandColor = cssVar('--band-bad');
    const opts = {
      width: Math.max(200, el.clientWidth),
      height,
      cursor: { points: { size: 6 } },
      legend: { live: true },
      scales: { x: { time: true } },
      axes: [
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, values: (u, vals) => vals.map(yFormat), size: 72 },
      ],
      series: [{}],
      hooks: {
        drawClear: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            ctx.fillStyle = bandColor;
            for (const [from, to] of current.bands) {
              const x0 = u.valToPos(from, 'x', true);
              const x1 = u.valToPos(to, 'x', true);
              ctx.fillRect(Math.min(x0, x1), u.bbox.top, Math.max(2, Math.abs(x1 - x0)), u.bbox.height);
            }
            ctx.restore();
          },
        ],
      },
    };
    if (y2) {
      opts.scales.y2 = { auto: true };
      opts.axes.push({ scale: 'y2', side: 1, stroke: text, grid: { show: false }, values: (u, vals) => vals.map(y2), size: 64 });
    }
    for (const s of series) {
      const color = cssVar(s.color);
      opts.series.push({
        label: s.label,
        stroke: color,
        width: s.width || 1.5,
        fill: s.fill ? color + '22' : undefined,
        scale: s.scale || 'y',
        spanGaps: false,
        // Dots where a line cannot show the data: few buckets, or few of them with a value (a lone
        // value between empty buckets draws no line at all).
        points: { show: (u, si) => u.data[0].length <= 30 || u.data[si].filter((v) => v != null).length <= 30 },
        paths: stepped ? uPlot.paths.stepped({ align: 1 }) : undefined,
        value: (u, v) => (v == null ? '—' : (s.value || yFormat)(v)),
      });
    }
    plot = new uPlot(opts, current.data, el);
  }

  build();
  const resize = new ResizeObserver(() => plot && plot.setSize({ width: Math.max(200, el.clientWidth), height }));
  resize.observe(el);
  const scheme = matchMedia('(prefers-color-scheme: dark)');
  const rebuild = () => build();
  scheme.addEventListener('change', rebuild);

  return {
    setData(nextData, nextBands = current.bands) {
      current = { data: nextData, bands: nextBands };
      plot.setData(nextData);
    },
    destroy() {
      resize.disconnect();
      scheme.removeEventListener('change', rebuild);
      if (plot) plot.destroy();
    },
  };
}

/** RFC 3339 → unix seconds, for uPlot's x axis. */
export function unix(iso) {
  return Date.parse(iso) / 1000;
}
