// The live ticker page: reads config.json, connects to AppSync's real-time
// endpoint, subscribes to the selected symbols and draws a card per symbol.
// The selection comes from the `symbols` query parameter (comma-separated),
// the checkboxes or the text input, and is written back to the address bar.

import { loadConfig } from './config.js';
import { ChannelSubscriptions } from './channel-subscriptions.js';
import { apiKeyProblem } from './endpoint-check.js';
import { EnvelopeError, readTick } from './envelope.js';
import { ConnectionState, RealtimeClient, SubscriptionState } from './realtime-client.js';
import { SymbolStats } from './symbol-stats.js';
import { parseSymbolList } from './symbols.js';
import { TickerView } from './view.js';

// The instruments of the producer's replay data (producer/data/SOURCES.md).
const PRESET_SYMBOLS = ['AAPL', 'AMZN', 'GOOG', 'IBM', 'MSFT', '^GSPC', '^IXIC', '^VIX', 'WTI'];
const DEFAULT_SYMBOLS = ['AAPL', 'MSFT', '^GSPC'];
// Rates, keep-alive silence and the reconnect countdown change without messages.
const REFRESH_PERIOD_MS = 1_000;

class TickerApp {
  constructor(view, config) {
    this.view = view;
    this.client = new RealtimeClient(config);
    this.subscriptions = new ChannelSubscriptions(this.client);
    this.endpoint = new URL(config.realtimeUrl).host;
    this.stats = new Map();
    this.ignored = 0;
    this.malformed = 0;
    this.renderScheduled = false;
    this.renderAllCards = true;
    this.changedSymbols = new Set();
    this.apiKeyChecked = false;

    this.client.addEventListener('data', (event) => this.onData(event.detail));
    this.client.addEventListener('error', (event) => this.view.addError(event.detail.message, Date.now()));
    for (const type of ['statechange', 'keepalive', 'subscriptionchange']) {
      this.client.addEventListener(type, () => this.scheduleRender());
    }
    this.client.addEventListener('statechange', (event) => {
      // A scheduled retry follows each loss once; the attempt itself is announced again without retryAtMs.
      if (event.detail.state === ConnectionState.RECONNECTING && event.detail.retryAtMs !== null) {
        console.info(`AppSync connection lost: ${event.detail.lastError}`);
        if (!this.client.everConnected && !this.apiKeyChecked) {
          this.apiKeyChecked = true;
          this.reportApiKeyProblem(config);
        }
      }
    });
  }

  start(symbols) {
    this.view.renderPresets(PRESET_SYMBOLS, (symbol, checked) => this.togglePreset(symbol, checked));
    this.view.onSubmitSymbols((text) => this.selectFromText(text));
    window.addEventListener('online', () => this.client.retryNow());
    setInterval(() => this.scheduleRender(), REFRESH_PERIOD_MS);
    this.select(symbols);
    this.client.start();
    this.scheduleRender();
  }

  async reportApiKeyProblem(config) {
    const problem = await apiKeyProblem(config.graphqlUrl, config.apiKey);
    if (problem !== null) {
      this.view.addError(problem, Date.now());
    }
  }

  selectFromText(text) {
    const { symbols, errors } = parseSymbolList(text);
    for (const message of errors) {
      this.view.addError(message, Date.now());
    }
    this.select(symbols);
  }

  togglePreset(symbol, checked) {
    const current = this.subscriptions.selected.filter((selected) => selected !== symbol);
    this.select(checked ? [...current, symbol] : current);
  }

  select(symbols) {
    for (const message of this.subscriptions.select(symbols)) {
      this.view.addError(message, Date.now());
    }
    for (const symbol of [...this.stats.keys()]) {
      if (!symbols.includes(symbol)) {
        this.stats.delete(symbol);
      }
    }
    for (const symbol of symbols) {
      if (!this.stats.has(symbol)) {
        this.stats.set(symbol, new SymbolStats(symbol));
      }
    }
    this.view.syncCards(symbols);
    this.view.showSelection(symbols);
    const url = new URL(window.location.href);
    url.searchParams.set('symbols', symbols.join(','));
    window.history.replaceState(null, '', url);
    this.scheduleRender();
  }

  onData({ payload, receivedAtMs }) {
    for (const result of Object.values(payload.data || {})) {
      if (result === null) {
        continue;
      }
      let tick;
      try {
        tick = readTick(result);
      } catch (error) {
        if (!(error instanceof EnvelopeError)) {
          throw error;
        }
        this.malformed += 1;
        // Show the first one; the footer counts the rest.
        if (this.malformed === 1) {
          this.view.addError(error.message, receivedAtMs);
        }
        continue;
      }
      const stats = this.stats.get(tick.channel);
      if (stats === undefined || !this.subscriptions.isSelected(tick.channel)) {
        this.ignored += 1;
        continue;
      }
      stats.add(tick, receivedAtMs);
      this.changedSymbols.add(tick.channel);
    }
    this.scheduleRender(false);
  }

  /** Draw on the next animation frame: the cards with new ticks, or every card when `allCards`. */
  scheduleRender(allCards = true) {
    if (allCards) {
      this.renderAllCards = true;
    }
    if (this.renderScheduled) {
      return;
    }
    this.renderScheduled = true;
    requestAnimationFrame(() => {
      this.renderScheduled = false;
      this.render(Date.now());
    });
  }

  render(nowMs) {
    this.view.renderConnection({ ...this.connectionStatus(nowMs), endpoint: this.endpoint, reconnects: this.client.reconnects, keepAlive: this.keepAliveText(nowMs) });
    const symbols = this.renderAllCards ? [...this.stats.keys()] : [...this.changedSymbols];
    this.renderAllCards = false;
    this.changedSymbols.clear();
    for (const symbol of symbols) {
      const stats = this.stats.get(symbol);
      if (stats !== undefined) {
        this.view.renderCard(symbol, stats, this.subscriptions.subscriptionOf(symbol), nowMs);
      }
    }
    this.view.renderSummary({ subscriptions: this.subscriptions.countByState().total, ignored: this.ignored, malformed: this.malformed });
  }

  // The page-level state: "live" once connected with every subscription acknowledged.
  connectionStatus(nowMs) {
    const client = this.client;
    switch (client.state) {
      case ConnectionState.CONNECTING:
        return { state: 'connecting', label: 'Connecting' };
      case ConnectionState.RECONNECTING: {
        const waitMs = client.retryAtMs === null ? null : Math.max(0, client.retryAtMs - nowMs);
        const when = waitMs === null ? 'now' : `in ${(waitMs / 1000).toFixed(1)} s`;
        return { state: 'reconnecting', label: `Reconnecting ${when} (attempt ${client.attempt})`, detail: client.lastError };
      }
      case ConnectionState.CONNECTED: {
        if (client.keepAliveLate) {
          return { state: 'late', label: `Keep-alive late: ${((client.silenceMs() || 0) / 1000).toFixed(1)} s silent` };
        }
        const counts = this.subscriptions.countByState();
        if (counts[SubscriptionState.PENDING] + counts[SubscriptionState.STARTING] > 0) {
          return { state: 'subscribing', label: 'Subscribing' };
        }
        return { state: 'live', label: counts.total === 0 ? 'Connected, no symbols selected' : 'Live' };
      }
      case ConnectionState.CLOSED:
        return { state: 'closed', label: 'Closed' };
      default:
        return { state: 'starting', label: 'Starting' };
    }
  }

  keepAliveText(nowMs) {
    const interval = this.client.keepAliveIntervalMs();
    if (interval !== null) {
      return `every ${(interval / 1000).toFixed(1)} s`;
    }
    const last = this.client.lastKeepAliveAtMs;
    return last === null ? '–' : `last ${Math.round((nowMs - last) / 1000)} s ago`;
  }
}

function initialSymbols(view) {
  const parameter = new URLSearchParams(window.location.search).get('symbols');
  if (parameter === null) {
    return DEFAULT_SYMBOLS;
  }
  const { symbols, errors } = parseSymbolList(parameter);
  for (const message of errors) {
    view.addError(message, Date.now());
  }
  return symbols;
}

async function main() {
  const view = new TickerView(document);
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    view.renderConnection({ state: 'error', label: 'No configuration' });
    view.addError(error.message, Date.now());
    return;
  }
  const app = new TickerApp(view, config);
  // A handle for the browser console and the page tests.
  window.tickerApp = app;
  app.start(initialSymbols(view));
}

main();
