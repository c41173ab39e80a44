import { describe, expect, it } from 'vitest';
import { MAX_DELIVERIES_PER_JOB, RETRY_GROUP_WINDOW_MS, planJobs, type DeliveryRequest } from '../../core/queue.ts';

const NOW = Date.UTC(2026, 10, 28, 12);
const due = (n: number): DeliveryRequest[] => Array.from({ length: n }, (_, index) => ({ eventId: `e${index}`, attempt: 1 }));

describe('planJobs', () => {
  it('puts due first attempts in shared jobs of at most MAX_DELIVERIES_PER_JOB, in order', () => {
    const jobs = planJobs(due(MAX_DELIVERIES_PER_JOB * 2 + 3), NOW);
    expect(jobs.map((job) => job.deliveries.length)).toEqual([MAX_DELIVERIES_PER_JOB, MAX_DELIVERIES_PER_JOB, 3]);
    expect(jobs.flatMap((job) => job.deliveries.map((delivery) => delivery.eventId))).toEqual(due(MAX_DELIVERIES_PER_JOB * 2 + 3).map((r) => r.eventId));
    for (const job of jobs) {
      expect(job.id).toMatch(/^group:[0-9a-f-]{36}$/);
      expect(job.notBefore).toBeNull();
    }
    expect(new Set(jobs.map((job) => job.id)).size).toBe(3);
  });

  it("gives a job of one delivery its attempt's id, so the same attempt enqueued twice is one job", () => {
    expect(planJobs([{ eventId: 'e1', attempt: 3 }], NOW)).toEqual([{ id: 'e1:3', deliveries: [{ eventId: 'e1', attempt: 3 }], notBefore: null }]);
    const unshared = planJobs(due(3), NOW, false);
    expect(unshared.map((job) => job.id)).toEqual(['e0:1', 'e1:1', 'e2:1']);
  });

  it('keeps a delayed attempt alone with its own time and id; a time already past is due now', () => {
    const later = new Date(NOW + 30_000);
    const jobs = planJobs(
      [
        { eventId: 'late', attempt: 2, notBefore: later },
        { eventId: 'past', attempt: 2, notBefore: new Date(NOW - 1) },
        { eventId: 'now', attempt: 1 },
      ],
      NOW,
    );
    expect(jobs).toEqual([
      { id: expect.stringMatching(/^group:/), deliveries: [{ eventId: 'past', attempt: 2 }, { eventId: 'now', attempt: 1 }], notBefore: null },
      { id: 'late:2', deliveries: [{ eventId: 'late', attempt: 2 }], notBefore: later },
    ]);
  });

  it('groups retries due within RETRY_GROUP_WINDOW_MS of the first, due with the last of them, never early', () => {
    const at = (ms: number) => new Date(NOW + 10_000 + ms);
    const retry = (eventId: string, ms: number): DeliveryRequest => ({ eventId, attempt: 2, notBefore: at(ms) });
    const jobs = planJobs([retry('c', 40), retry('a', 0), retry('d', RETRY_GROUP_WINDOW_MS + 1), retry('b', RETRY_GROUP_WINDOW_MS)], NOW);
    expect(jobs).toEqual([
      { id: expect.stringMatching(/^group:/), deliveries: [{ eventId: 'a', attempt: 2 }, { eventId: 'c', attempt: 2 }, { eventId: 'b', attempt: 2 }], notBefore: at(RETRY_GROUP_WINDOW_MS) },
      { id: 'd:2', deliveries: [{ eventId: 'd', attempt: 2 }], notBefore: at(RETRY_GROUP_WINDOW_MS + 1) },
    ]);
    // At most MAX_DELIVERIES_PER_JOB in a job, and none when sharing is off.
    const many = Array.from({ length: MAX_DELIVERIES_PER_JOB + 1 }, (_, index) => retry(`e${index}`, 0));
    expect(planJobs(many, NOW).map((job) => job.deliveries.length)).toEqual([MAX_DELIVERIES_PER_JOB, 1]);
    expect(planJobs(many.slice(0, 3), NOW, false).map((job) => job.id)).toEqual(['e0:2', 'e1:2', 'e2:2']);
  });
});
