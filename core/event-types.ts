// Event-type filters of a subscription: pure functions.
// An entry matches exactly, or by prefix when it ends in `.*` (`order.*` matches
// `order.created` and `order.item.added`); `*` alone matches every type.

export function eventTypeMatches(filters: readonly string[], eventType: string | null | undefined): boolean {
  if (filters.length === 0) return true;
  for (const filter of filters) {
    if (filter === '*') return true;
    if (eventType == null) continue;
    if (filter.endsWith('.*')) {
      if (eventType.startsWith(filter.slice(0, -1))) return true;
    } else if (filter === eventType) {
      return true;
    }
  }
  return false;
}

export const MAX_EVENT_TYPE_LENGTH = 200;
const EVENT_TYPE = /^[A-Za-z0-9_:\-]+(\.[A-Za-z0-9_:\-]+)*$/;

/** Why an event type (as sent with an event) is unusable, or null. */
export function eventTypeProblem(eventType: string): string | null {
  if (eventType.trim() === '') return 'must not be empty';
  if (eventType.length > MAX_EVENT_TYPE_LENGTH) return `must be at most ${MAX_EVENT_TYPE_LENGTH} characters`;
  if (!EVENT_TYPE.test(eventType)) {
    return 'may contain only letters, digits, "_", "-", ":" and dots between parts (e.g. order.created)';
  }
  return null;
}

/** Why a subscription's filter entry is unusable, or null: an event type, `prefix.*` or `*`. */
export function eventTypeFilterProblem(filter: string): string | null {
  if (filter === '*') return null;
  return eventTypeProblem(filter.endsWith('.*') ? filter.slice(0, -2) : filter);
}
