import { useId, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { IngestEventMutation } from '../documents.ts';
import { checkJson } from '../lib/json.ts';
import { fieldErrorsByField, otherFieldErrors } from '../lib/forms.ts';
import { shortId } from '../lib/format.ts';
import { Link, paths } from '../router.tsx';

const DEFAULT_PAYLOAD = '{\n  "test": true,\n  "message": "hello from hookd"\n}';

/** A sensible event type to prefill: the first filter without a wildcard, or one under its prefix. */
export function suggestEventType(eventTypes: readonly string[]): string {
  const exact = eventTypes.find((type) => !type.includes('*'));
  if (exact) return exact;
  const prefixed = eventTypes.find((type) => type.endsWith('.*'));
  if (prefixed) return `${prefixed.slice(0, -2)}.test`;
  return 'test.ping';
}

/** Sends one event to this subscription with ingestEvent; the JSON is checked before it goes. */
export function TestEventForm({ subscriptionId, eventTypes }: { subscriptionId: string; eventTypes: readonly string[] }) {
  const uid = useId();
  const [eventType, setEventType] = useState(() => suggestEventType(eventTypes));
  const [payload, setPayload] = useState(DEFAULT_PAYLOAD);
  const [touched, setTouched] = useState(false);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [message, setMessage] = useState<{ kind: 'sent'; id: string } | { kind: 'error'; text: string } | null>(null);
  const [state, ingest] = useMutation(IngestEventMutation);
  const check = checkJson(payload);
  const jsonError = touched && !check.ok ? check.message : null;

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setTouched(true);
    setMessage(null);
    if (!check.ok) {
      document.getElementById(`${uid}-payload`)?.focus();
      return;
    }
    const trimmedType = eventType.trim();
    const result = await ingest({ input: { subscriptionId, eventType: trimmedType === '' ? null : trimmedType, payload: check.value } });
    const data = result.data?.ingestEvent;
    if (result.error) {
      setErrors({});
      setMessage({ kind: 'error', text: result.error.message.replace(/^\[(Network|GraphQL)\] /, '') });
    } else if (data?.__typename === 'Event') {
      setErrors({});
      setMessage({ kind: 'sent', id: data.id });
    } else if (data?.__typename === 'ValidationError') {
      const byField = fieldErrorsByField(data.fieldErrors);
      setErrors(byField);
      const others = otherFieldErrors(byField, ['eventType', 'payload']);
      if (others.length > 0) setMessage({ kind: 'error', text: others.join('; ') });
    } else if (data) {
      setMessage({ kind: 'error', text: data.message });
    }
  };

  const payloadError = jsonError ?? errors.payload?.join('; ') ?? null;
  return (
    <form className="test-event-form" onSubmit={(event) => void submit(event)} noValidate aria-label="Send a test event">
      <label className="field" htmlFor={`${uid}-type`}>
        <span className="field-label">Event type</span>
        <input
          id={`${uid}-type`}
          data-testid="test-event-type"
          name="eventType"
          value={eventType}
          onChange={(event) => setEventType(event.target.value)}
          autoComplete="off"
          spellCheck={false}
          placeholder="order.created (empty: untyped)"
          aria-invalid={errors.eventType ? true : undefined}
          aria-describedby={errors.eventType ? `${uid}-type-error` : undefined}
        />
        {errors.eventType ? (
          <span className="field-error" id={`${uid}-type-error`}>
            {errors.eventType.join('; ')}
          </span>
        ) : null}
      </label>
      <label className="field" htmlFor={`${uid}-payload`}>
        <span className="field-label">Payload (JSON)</span>
        <textarea
          id={`${uid}-payload`}
          data-testid="test-event-payload"
          name="payload"
          className="mono"
          rows={6}
          value={payload}
          spellCheck={false}
          onChange={(event) => setPayload(event.target.value)}
          onBlur={() => setTouched(true)}
          aria-invalid={payloadError ? true : undefined}
          aria-describedby={payloadError ? `${uid}-payload-error` : undefined}
        />
        {payloadError ? (
          <span className="field-error" id={`${uid}-payload-error`} data-testid="test-event-payload-error">
            {payloadError}
          </span>
        ) : null}
      </label>
      <div className="field-actions">
        <button type="submit" className="button primary" data-testid="test-event-submit" disabled={state.fetching}>
          {state.fetching ? 'Sending…' : 'Send test event'}
        </button>
        <span aria-live="polite" className="form-result">
          {message?.kind === 'sent' ? (
            <>
              Sent event <Link href={paths.event(message.id)} className="mono">{shortId(message.id)}</Link>
            </>
          ) : null}
          {message?.kind === 'error' ? <span className="field-error">{message.text}</span> : null}
        </span>
      </div>
    </form>
  );
}
