/* 数据看板: one small uPlot line chart per panel, drawn from the JSON the page carries
   (#dash-charts). The tables on the page hold the same numbers; without this file (or without
   uPlot) nothing is lost but the lines. A suppressed point is null: a gap, never a zero. */
(function () {
  "use strict";
  var node = document.getElementById("dash-charts");
  if (!node || typeof uPlot === "undefined") { return; }
  var charts = JSON.parse(node.textContent);
  var colours = ["#c2410c", "#1c7ed6", "#2b8a3e", "#7048e8"];
  var lang = document.documentElement.lang || "zh-hans";

  function width(box) { return Math.max(280, Math.floor(box.getBoundingClientRect().width)); }

  document.querySelectorAll("[data-chart]").forEach(function (box) {
    var c = charts[box.dataset.chart];
    if (!c || !c.x || !c.x.length) { return; }
    var series = [{}];
    var data = [c.x];
    c.series.forEach(function (line, i) {
      // A third line (hours, percentages) on its own scale to the right when the units differ.
      var own = c.series.length === 3 && i === 2;
      series.push({ label: c.labels[i] || "", stroke: colours[i % colours.length], width: 2,
                    scale: own ? "r" : "y", spanGaps: false,
                    points: { show: c.x.length <= 26, size: 5 } });
      data.push(line);
    });
    var axes = [{ values: function (u, ticks) {
      return ticks.map(function (t) {
        var d = new Date(t * 1000);
        return (d.getMonth() + 1) + "/" + (box.dataset.chart === "needs" || c.x.length <= 12 ?
          String(d.getFullYear()).slice(2) : d.getDate());
      });
    } }, { scale: "y", values: function (u, ticks) {
      return ticks.map(function (t) { return c.percent ? t + "%" : t.toLocaleString(lang); });
    } }];
    if (c.series.length === 3) { axes.push({ scale: "r", side: 1, grid: { show: false } }); }
    var opts = { width: width(box), height: 200, series: series, axes: axes,
                 scales: { x: { time: true }, y: c.percent ? { range: [0, 100] } : {} },
                 legend: { live: true } };
    var plot = new uPlot(opts, data, box);
    window.addEventListener("resize", function () { plot.setSize({ width: width(box), height: 200 }); });
  });
})();
