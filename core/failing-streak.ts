// Auto-disable tracks each subscription's failing streak in `failingSince`: the time of the
// first failure since its last success. A batch of outcomes changes it as follows.

export interface StreakOutcome {
  subscriptionId: string;
  success: boolean;
  /** The receiver answered 410 Gone: the subscription is to be disabled. */
  gone: boolean;
  finishedAt: Date;
}

export type StreakChange =
  /** The last outcome succeeded: no streak. */
  | { subscriptionId: string; kind: 'clear'; gone: false }
  /** Failures after a success in this batch: the streak starts at the first of them. */
  | { subscriptionId: string; kind: 'restart'; since: Date; gone: boolean }
  /** Only failures: a streak already running goes on, otherwise it starts now. */
  | { subscriptionId: string; kind: 'continue'; since: Date; gone: boolean };

/** One change per subscription in `outcomes`, whatever order they come in. */
export function failingStreakChanges(outcomes: StreakOutcome[]): StreakChange[] {
  const bySubscription = new Map<string, StreakOutcome[]>();
  for (const outcome of outcomes) {
    const list = bySubscription.get(outcome.subscriptionId) ?? [];
    list.push(outcome);
    bySubscription.set(outcome.subscriptionId, list);
  }
  const changes: StreakChange[] = [];
  for (const [subscriptionId, list] of bySubscription) {
    list.sort((a, b) => a.finishedAt.getTime() - b.finishedAt.getTime());
    const gone = list.some((outcome) => outcome.gone);
    const lastSuccess = list.findLastIndex((outcome) => outcome.success);
    const failuresAfter = list.slice(lastSuccess + 1);
    if (failuresAfter.length === 0 && !gone) {
      changes.push({ subscriptionId, kind: 'clear', gone: false });
    } else {
      const since = (failuresAfter[0] ?? list[list.length - 1]!).finishedAt;
      changes.push({ subscriptionId, kind: lastSuccess >= 0 ? 'restart' : 'continue', since, gone });
    }
  }
  return changes;
}
