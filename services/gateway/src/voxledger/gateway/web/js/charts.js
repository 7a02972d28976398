// Analytics drawn as small SVG pictures: pace over time, speech against silence, fillers, talk time per speaker.
const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

function figure(title, picture, caption) {
  const el = document.createElement("figure");
  el.className = "chart";
  const head = document.createElement("figcaption");
  head.textContent = caption ? `${title}: ${caption}` : title;
  el.append(head, picture);
  return el;
}

export function paceChart(pace) {
  const W = 320,
    H = 90,
    P = 2;
  const end = Math.max(...pace.map((w) => w.end), 1);
  const top = Math.max(...pace.map((w) => w.wpm), 1);
  const x = (t) => P + (t / end) * (W - 2 * P);
  const y = (wpm) => H - P - (wpm / top) * (H - 2 * P);
  const columns = pace.map((w) =>
    svg(
      "rect",
      {
        x: x(w.start),
        y: y(w.wpm),
        width: Math.max(x(w.end) - x(w.start) - 1, 1),
        height: H - P - y(w.wpm),
        class: "col",
      },
      svg("title", {}, `${Math.round(w.wpm)} wpm from ${Math.round(w.start)} s`),
    ),
  );
  const line = svg("polyline", {
    class: "line",
    points: pace.map((w) => `${x((w.start + w.end) / 2)},${y(w.wpm)}`).join(" "),
  });
  const picture = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "words per minute over time" },
    ...columns,
    line,
  );
  return figure("Pace", picture, `peak ${Math.round(top)} words per minute`);
}

export function speechChart(speech, silence) {
  const total = Math.max(speech + silence, 0.001);
  const w = (speech / total) * 320;
  const picture = svg(
    "svg",
    { viewBox: "0 0 320 24", role: "img", "aria-label": "speech and silence" },
    svg("rect", { x: 0, y: 0, width: w, height: 24, class: "speech" }),
    svg("rect", { x: w, y: 0, width: 320 - w, height: 24, class: "silence" }),
  );
  return figure("Speech and silence", picture, `${Math.round((speech / total) * 100)}% speech`);
}

export function barsChart(title, entries, unit) {
  const top = Math.max(...entries.map(([, v]) => v), 1);
  const H = 18 * entries.length + 4;
  const picture = svg(
    "svg",
    { viewBox: `0 0 320 ${H}`, role: "img", "aria-label": title },
    ...entries.flatMap(([label, value], i) => [
      svg("text", { x: 0, y: 18 * i + 14, class: "label" }, label),
      svg("rect", { x: 90, y: 18 * i + 3, width: (value / top) * 200, height: 13, class: "bar" }),
      svg(
        "text",
        { x: 96 + (value / top) * 200, y: 18 * i + 14, class: "value" },
        `${Math.round(value * 10) / 10}${unit}`,
      ),
    ]),
  );
  return figure(title, picture);
}
