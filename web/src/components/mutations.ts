// Turns mutation results into what the forms show.
import type { CombinedError } from 'urql';
import type { SubmitOutcome } from './SubscriptionForm.tsx';

type ResultUnion =
  | { __typename: string; message?: string; fieldErrors?: readonly { path: readonly string[]; message: string }[] }
  | null
  | undefined;

export function outcomeOf(data: ResultUnion, error: CombinedError | undefined, successType: string): SubmitOutcome {
  if (error) return { ok: false, message: error.message.replace(/^\[(Network|GraphQL)\] /, ''), fieldErrors: [] };
  if (!data) return { ok: false, message: 'No answer from the API', fieldErrors: [] };
  if (data.__typename === successType) return { ok: true };
  return { ok: false, message: data.message ?? 'The API refused the change', fieldErrors: data.fieldErrors ?? [] };
}
