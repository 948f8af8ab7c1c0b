// The subscriptions that the page holds for the selected symbols.
//
// Why subscribeFiltered in batches and not one subscribe(name) per symbol:
// one subscribeFiltered subscription covers up to 50 symbols, in 10 filter
// groups that each hold an `in` list of 5 channel names. So a page of 20
// symbols costs one start message and one subscription on the server instead
// of 20. Each filter is checked against AppSync's limits before it is sent.
//
// Adding symbols starts a new batch for the added ones only. Restarting the
// batches of symbols already shown would leave a moment without a
// subscription, and the ticks published then would show as false gaps.
// Removing symbols stops a batch once none of its symbols is selected; until
// then the page drops that batch's ticks for the removed symbols.

import { SubscriptionFilterError, channelFilterBatches } from './subscription-filter.js';
import { SubscriptionState } from './realtime-client.js';

export const SUBSCRIBE_FILTERED = 'subscription SubscribeFiltered($filter: String!) { subscribeFiltered(filter: $filter) { name data } }';

function labelOf(channels) {
  const listed = channels.slice(0, 3).join(', ');
  return channels.length > 3 ? `${listed} and ${channels.length - 3} more` : listed;
}

export class ChannelSubscriptions {
  constructor(client) {
    this.client = client;
    // Subscription id -> {channels, filterText}
    this.batches = new Map();
    this.selected = [];
  }

  /** Subscribe to exactly `symbols`; return the messages of filters that failed validation. */
  select(symbols) {
    const next = new Set(symbols);
    // A failed batch gets a fresh start: the selection changed, and its symbols may be valid in a new filter.
    for (const [id, batch] of this.batches) {
      const failed = this.client.subscriptions.get(id)?.state === SubscriptionState.FAILED;
      if (failed || !batch.channels.some((channel) => next.has(channel))) {
        this.client.unsubscribe(id);
        this.batches.delete(id);
      }
    }
    const covered = new Set([...this.batches.values()].flatMap((batch) => batch.channels));
    const added = symbols.filter((symbol) => !covered.has(symbol));
    this.selected = [...symbols];

    const errors = [];
    if (added.length === 0) {
      return errors;
    }
    let batches;
    try {
      batches = channelFilterBatches(added);
    } catch (error) {
      if (!(error instanceof SubscriptionFilterError)) {
        throw error;
      }
      errors.push(`Not subscribed to ${labelOf(added)}: ${error.message}`);
      return errors;
    }
    for (const { channels, filterText } of batches) {
      const id = this.client.subscribe(SUBSCRIBE_FILTERED, { filter: filterText }, labelOf(channels));
      this.batches.set(id, { channels, filterText });
    }
    return errors;
  }

  isSelected(symbol) {
    return this.selected.includes(symbol);
  }

  /** Return the state of the subscription that carries `symbol`, with its error, or null when none does. */
  subscriptionOf(symbol) {
    for (const [id, batch] of this.batches) {
      if (batch.channels.includes(symbol)) {
        const subscription = this.client.subscriptions.get(id);
        return subscription ? { state: subscription.state, error: subscription.error || null } : null;
      }
    }
    return null;
  }

  /** Count the subscriptions by state. */
  countByState() {
    const counts = { total: 0, [SubscriptionState.PENDING]: 0, [SubscriptionState.STARTING]: 0, [SubscriptionState.ACTIVE]: 0, [SubscriptionState.FAILED]: 0 };
    for (const id of this.batches.keys()) {
      const subscription = this.client.subscriptions.get(id);
      if (subscription) {
        counts.total += 1;
        counts[subscription.state] += 1;
      }
    }
    return counts;
  }
}
