// The chart App's own code (the guest side of MCP Apps, SEP-1865). It draws the Vega-Lite spec of a show_chart
// result with vega-embed: from the JSON embedded in the page when there is one, otherwise from the tool result the
// host sends over the bridge (JSON-RPC 2.0 over window.postMessage). Rules:
// * text is never markup: nothing here writes innerHTML; messages go in with textContent and Vega draws labels as
//   SVG text;
// * no eval: Vega runs with its CSP-safe expression interpreter (ast + vega-interpreter), so the page works under a
//   Content-Security-Policy without 'unsafe-eval';
// * no network: the spec carries its rows; nothing is fetched.
(function () {
  "use strict";
  var APPS_PROTOCOL = "2026-01-26";
  var state = { status: "waiting", error: null, view: null, spec: null, theme: "light", renders: 0 };
  window.trackagoatChart = state;
  var chartEl = document.getElementById("chart");
  var noteEl = document.getElementById("note");

  function say(text) {
    noteEl.textContent = text;
  }

  function send(message) {
    if (window.parent && window.parent !== window) {
      window.parent.postMessage(message, "*");
    }
  }

  var nextId = 1;
  var pending = {};
  function request(method, params) {
    var id = nextId++;
    send({ jsonrpc: "2.0", id: id, method: method, params: params });
    return new Promise(function (resolve, reject) {
      pending[id] = { resolve: resolve, reject: reject };
    });
  }
  function notify(method, params) {
    send({ jsonrpc: "2.0", method: method, params: params });
  }

  function reportSize() {
    var root = document.documentElement;
    notify("ui/notifications/size-changed", { width: root.scrollWidth, height: root.scrollHeight });
  }

  // A tool result (CallToolResult), the notification's params around one, or show_chart's structuredContent.
  function chartOf(value) {
    if (!value || typeof value !== "object") return null;
    var inner = value.result && typeof value.result === "object" ? value.result : value;
    var structured = inner.structuredContent || inner;
    return structured && structured.vega_lite && typeof structured.vega_lite === "object" ? structured : null;
  }

  function draw(chart) {
    state.spec = chart.vega_lite;
    state.status = "drawing";
    var options = {
      renderer: "svg",
      actions: false,
      ast: true,
      expr: window.vegaInterpreter.expressionInterpreter,
      tooltip: { theme: state.theme === "dark" ? "dark" : "light" },
    };
    if (state.theme === "dark") options.theme = "dark";
    return window
      .vegaEmbed(chartEl, chart.vega_lite, options)
      .then(function (result) {
        if (state.view && state.view !== result.view) state.view.finalize();
        state.view = result.view;
        state.status = "drawn";
        state.renders += 1;
        say("");
        reportSize();
      })
      .catch(function (error) {
        state.status = "error";
        state.error = String((error && error.message) || error);
        say("The chart could not be drawn: " + state.error);
      });
  }

  function applyContext(context) {
    var theme = context && context.theme === "dark" ? "dark" : "light";
    if (theme === state.theme) return;
    state.theme = theme;
    document.documentElement.setAttribute("data-theme", theme);
    if (state.spec) draw({ vega_lite: state.spec });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || window.parent === window) return;
    var message = event.data;
    if (!message || typeof message !== "object" || message.jsonrpc !== "2.0") return;
    if (message.method === undefined && message.id !== undefined) {
      var waiting = pending[message.id];
      delete pending[message.id];
      if (waiting) {
        if (message.error) waiting.reject(message.error);
        else waiting.resolve(message.result);
      }
      return;
    }
    switch (message.method) {
      case "ui/notifications/tool-input":
        say("Drawing the chart…");
        break;
      case "ui/notifications/tool-result":
        var chart = chartOf(message.params);
        if (chart) draw(chart);
        else say("This result has no chart to draw (the call may have failed; its text says why).");
        break;
      case "ui/notifications/tool-cancelled":
        say("The chart was cancelled.");
        break;
      case "ui/notifications/host-context-changed":
        applyContext(message.params);
        break;
      case "ui/resource-teardown":
        if (state.view) state.view.finalize();
        send({ jsonrpc: "2.0", id: message.id, result: {} });
        break;
      default:
        if (message.id !== undefined && message.method) {
          send({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } });
        }
    }
  });

  var embedded = JSON.parse(document.getElementById("trackagoat-chart-data").textContent);
  if (window.parent && window.parent !== window) {
    request("ui/initialize", {
      protocolVersion: APPS_PROTOCOL,
      appInfo: { name: "trackagoat-chart", version: "1" },
      appCapabilities: {},
    }).then(
      function (result) {
        applyContext(result && result.hostContext);
        notify("ui/notifications/initialized", {});
      },
      function () {
        say("The host did not answer ui/initialize.");
      },
    );
  }
  if (embedded) draw(embedded);
  else say("Waiting for the chart…");
})();
