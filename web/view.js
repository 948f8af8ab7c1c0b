// The page's DOM: the connection header, the symbol picker, the error list
// and one card per symbol. Every text from the network goes in through
// textContent, never as HTML.

import { sparklinePaths } from './sparkline.js';

const SPARKLINE_WIDTH = 240;
const SPARKLINE_HEIGHT = 56;
const MAX_SHOWN_ERRORS = 20;

const SUBSCRIPTION_LABELS = { pending: 'waiting', starting: 'subscribing', active: 'live', failed: 'failed' };
const PRODUCED_LATENCY_LABELS = { produced_at_ms: 'produced → page', timestamp_ms: 'Kafka time → page' };

function formatPrice(value) {
  const digits = Math.abs(value) < 10 ? 4 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: digits });
}

function formatMs(ms) {
  if (ms === null) {
    return '–';
  }
  return Math.abs(ms) >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function formatLatency({ lastMs, medianMs }) {
  return lastMs === null ? '–' : `${formatMs(lastMs)} · p50 ${formatMs(medianMs)}`;
}

function formatTime(epochMs) {
  return new Date(epochMs).toLocaleTimeString('en-GB', { hour12: false });
}

// Daily bars carry midnight UTC, which reads better as the date alone.
function formatTickTime(ts) {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(ts);
  if (match === null) {
    return ts;
  }
  return match[2] === '00:00:00' ? match[1] : `${match[1]} ${match[2]}`;
}

function directionOf(delta) {
  if (delta > 0) {
    return 'up';
  }
  return delta < 0 ? 'down' : 'flat';
}

const DIRECTION_SIGNS = { up: '+', down: '−', flat: '±' };

function plural(count, word) {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

export class TickerView {
  constructor(doc) {
    this.doc = doc;
    this.cards = new Map();
    this.connection = doc.getElementById('connection');
    this.connectionState = doc.getElementById('connection-state');
    this.connectionDetail = doc.getElementById('connection-detail');
    this.endpoint = doc.getElementById('endpoint');
    this.reconnects = doc.getElementById('reconnects');
    this.keepAlive = doc.getElementById('keepalive');
    this.picker = doc.getElementById('picker');
    this.presets = doc.getElementById('presets');
    this.symbolInput = doc.getElementById('symbols-input');
    this.errors = doc.getElementById('errors');
    this.errorList = doc.getElementById('error-list');
    this.cardContainer = doc.getElementById('cards');
    this.cardTemplate = doc.getElementById('card-template');
    this.subscriptionCount = doc.getElementById('subscription-count');
    this.subscriptionNoun = doc.getElementById('subscription-noun');
    this.ignoredCount = doc.getElementById('ignored-count');
    this.malformedCount = doc.getElementById('malformed-count');
  }

  /** Show the connection: {state, label, detail, endpoint, reconnects, keepAlive}. */
  renderConnection({ state, label, detail, endpoint, reconnects, keepAlive }) {
    this.connection.dataset.state = state;
    this.connectionState.textContent = label;
    this.connectionDetail.textContent = detail ? `Last error: ${detail}` : '';
    if (endpoint !== undefined) {
      this.endpoint.textContent = endpoint;
    }
    if (reconnects !== undefined) {
      this.reconnects.textContent = String(reconnects);
      this.reconnects.dataset.count = String(reconnects);
    }
    if (keepAlive !== undefined) {
      this.keepAlive.textContent = keepAlive;
    }
  }

  /** Draw one checkbox per preset symbol; onToggle(symbol, checked) runs on a change. */
  renderPresets(presets, onToggle) {
    for (const symbol of presets) {
      const label = this.doc.createElement('label');
      const checkbox = this.doc.createElement('input');
      checkbox.type = 'checkbox';
      checkbox.value = symbol;
      checkbox.addEventListener('change', () => onToggle(symbol, checkbox.checked));
      label.append(checkbox, symbol);
      this.presets.append(label);
    }
  }

  /** Reflect the selection in the checkboxes and the text input. */
  showSelection(symbols) {
    for (const checkbox of this.presets.querySelectorAll('input[type="checkbox"]')) {
      checkbox.checked = symbols.includes(checkbox.value);
    }
    this.symbolInput.value = symbols.join(', ');
  }

  onSubmitSymbols(handler) {
    this.picker.addEventListener('submit', (event) => {
      event.preventDefault();
      handler(this.symbolInput.value);
    });
  }

  addError(message, atMs) {
    const item = this.doc.createElement('li');
    const time = this.doc.createElement('time');
    time.textContent = formatTime(atMs);
    item.append(time, message);
    this.errorList.prepend(item);
    while (this.errorList.children.length > MAX_SHOWN_ERRORS) {
      this.errorList.lastElementChild.remove();
    }
    const count = Number(this.errors.dataset.count) + 1;
    this.errors.dataset.count = String(count);
    this.errors.hidden = false;
  }

  /** Keep exactly one card per symbol, in the order given. */
  syncCards(symbols) {
    for (const [symbol, card] of this.cards) {
      if (!symbols.includes(symbol)) {
        card.element.remove();
        this.cards.delete(symbol);
      }
    }
    for (const symbol of symbols) {
      let card = this.cards.get(symbol);
      if (card === undefined) {
        const element = this.cardTemplate.content.firstElementChild.cloneNode(true);
        element.dataset.symbol = symbol;
        // Looked up once: a card is redrawn on every frame that has a tick for it.
        const fields = new Map([...element.querySelectorAll('[data-field]')].map((node) => [node.dataset.field, node]));
        fields.get('symbol').textContent = symbol;
        card = { element, fields };
        this.cards.set(symbol, card);
      }
      // append moves an existing card, so the DOM follows the selection order.
      this.cardContainer.append(card.element);
    }
  }

  /** Draw a symbol's card from its SymbolStats and the state of its subscription ({state, error} or null). */
  renderCard(symbol, stats, subscription, nowMs) {
    const card = this.cards.get(symbol);
    if (card === undefined) {
      return;
    }
    const field = (name) => card.fields.get(name);

    const subscriptionState = subscription ? subscription.state : 'failed';
    card.element.dataset.subscription = subscriptionState;
    const stateField = field('subscription');
    stateField.textContent = subscription ? SUBSCRIPTION_LABELS[subscription.state] : 'not subscribed';
    stateField.title = subscription && subscription.error ? subscription.error : '';
    if (subscription && subscription.error) {
      stateField.textContent = `failed: ${subscription.error}`;
    }

    if (stats.price !== null) {
      field('price').textContent = formatPrice(stats.price);
    }
    const change = stats.change();
    const changeField = field('change');
    if (change === null) {
      changeField.textContent = '';
      changeField.dataset.direction = 'none';
    } else {
      const direction = directionOf(change.absolute);
      const sign = DIRECTION_SIGNS[direction];
      const percent = change.percent === null ? '' : ` (${sign}${Math.abs(change.percent).toFixed(2)}%)`;
      changeField.textContent = `${sign}${formatPrice(Math.abs(change.absolute))}${percent}`;
      changeField.dataset.direction = direction;
    }

    const { line, area } = sparklinePaths(stats.history, SPARKLINE_WIDTH, SPARKLINE_HEIGHT);
    field('spark-line').setAttribute('d', line);
    field('spark-area').setAttribute('d', area);
    const first = stats.history[0];
    const last = stats.history.at(-1);
    card.element.dataset.trend = first === undefined ? 'flat' : directionOf(last - first);

    const updates = field('updates');
    updates.textContent = String(stats.updates);
    updates.dataset.count = String(stats.updates);
    const rate = stats.ratePerSecond(nowMs);
    field('rate').textContent = rate === null ? '–' : `${rate.toFixed(1)}/s`;

    const latency = stats.latency();
    field('latency-produced-label').textContent = PRODUCED_LATENCY_LABELS[latency.produced.source] || 'produced → page';
    field('latency-produced').textContent = formatLatency(latency.produced);
    field('latency-sent').textContent = formatLatency(latency.sent);
    field('seq').textContent = stats.lastSeq === null ? '–' : String(stats.lastSeq);
    const tickTime = field('tick-time');
    tickTime.textContent = stats.lastTs === null ? '–' : formatTickTime(stats.lastTs);
    tickTime.title = stats.lastTs || '';

    this.renderIntegrity(field, stats);
  }

  renderIntegrity(field, stats) {
    const gaps = field('gaps');
    gaps.hidden = stats.gaps === 0;
    gaps.dataset.gaps = String(stats.gaps);
    gaps.dataset.missing = String(stats.missing);
    gaps.textContent = `${plural(stats.gaps, 'gap')} · ${stats.missing} missing`;
    gaps.title = 'Sequence numbers skipped: ticks that did not arrive (yet).';

    const duplicates = field('duplicates');
    duplicates.hidden = stats.duplicates === 0;
    duplicates.dataset.count = String(stats.duplicates);
    duplicates.textContent = plural(stats.duplicates, 'duplicate');
    duplicates.title = 'Ticks that arrived again: the same record position or sequence number.';

    const late = field('late');
    late.hidden = stats.late === 0;
    late.dataset.count = String(stats.late);
    late.textContent = `${stats.late} late`;
    late.title = 'Ticks that arrived after a later one and filled a gap.';

    field('in-order').hidden = stats.gaps > 0 || stats.duplicates > 0 || stats.updates === 0;
  }

  renderSummary({ subscriptions, ignored, malformed }) {
    this.subscriptionCount.textContent = String(subscriptions);
    this.subscriptionCount.dataset.count = String(subscriptions);
    this.subscriptionNoun.textContent = subscriptions === 1 ? 'subscription' : 'subscriptions';
    this.ignoredCount.textContent = String(ignored);
    this.ignoredCount.dataset.count = String(ignored);
    this.malformedCount.textContent = String(malformed);
    this.malformedCount.dataset.count = String(malformed);
  }
}
