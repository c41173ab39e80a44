import { describe, expect, it } from 'vitest';
import { MAX_DELIVERIES_PER_JOB, planJobs, type DeliveryRequest } from '../../core/queue.ts';

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

  it('keeps each delayed attempt alone, with its own time; a time already past is due now', () => {
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
});
