// SVG path data for a sparkline of recent prices. Pure functions.

/**
 * Return {line, area} path data that draw `values` across a width x height
 * box, with the lowest value at the bottom and the highest at the top.
 * A single value or a flat series draws a horizontal line through the middle.
 */
export function sparklinePaths(values, width, height, padding = 2) {
  if (values.length === 0) {
    return { line: '', area: '' };
  }
  const low = Math.min(...values);
  const high = Math.max(...values);
  const span = high - low;
  const usableHeight = height - 2 * padding;
  const step = values.length > 1 ? (width - 2 * padding) / (values.length - 1) : 0;
  const points = values.map((value, index) => {
    const x = padding + index * step;
    const y = span === 0 ? height / 2 : padding + (1 - (value - low) / span) * usableHeight;
    return [x, y];
  });
  if (points.length === 1) {
    points.push([width - padding, points[0][1]]);
  }
  const format = (number) => number.toFixed(1);
  const line = points.map(([x, y], index) => `${index === 0 ? 'M' : 'L'}${format(x)} ${format(y)}`).join(' ');
  const first = points[0];
  const last = points[points.length - 1];
  const area = `${line} L${format(last[0])} ${format(height)} L${format(first[0])} ${format(height)} Z`;
  return { line, area };
}
