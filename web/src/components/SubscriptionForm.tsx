import { useId, useState, type FormEvent } from 'react';
import { useMutation } from 'urql';
import { UpdateSubscriptionMutation } from '../documents.ts';
import { outcomeOf } from './mutations.ts';
import { fieldErrorsByField, formatEventTypes, otherFieldErrors, parseEventTypes, targetUrlProblem, type FieldErrorLike } from '../lib/forms.ts';
import { SUBSCRIPTION_STATUSES } from '../lib/status.ts';

export interface SubscriptionValues {
  name: string;
  targetUrl: string;
  eventTypes: string[];
  status?: string;
}

export type SubmitOutcome = { ok: true } | { ok: false; message: string; fieldErrors: readonly FieldErrorLike[] };

interface SubscriptionFormProps {
  mode: 'create' | 'edit';
  initial?: SubscriptionValues;
  onSubmit: (values: SubscriptionValues) => Promise<SubmitOutcome>;
  onCancel?: () => void;
}

const SHOWN_FIELDS = ['name', 'targetUrl', 'eventTypes', 'status'];

/** Create or edit a subscription; the server's ValidationError shows beside each field. */
export function SubscriptionForm({ mode, initial, onSubmit, onCancel }: SubscriptionFormProps) {
  const uid = useId();
  const [name, setName] = useState(initial?.name ?? '');
  const [targetUrl, setTargetUrl] = useState(initial?.targetUrl ?? '');
  const [eventTypes, setEventTypes] = useState(formatEventTypes(initial?.eventTypes ?? []));
  const [status, setStatus] = useState(initial?.status ?? 'ACTIVE');
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [formMessage, setFormMessage] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const prefix = mode;
  const id = (field: string) => `${uid}-${field}`;

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const parsedTypes = parseEventTypes(eventTypes);
    const urlProblem = targetUrlProblem(targetUrl);
    if (urlProblem) {
      setErrors({ targetUrl: [urlProblem] });
      setFormMessage(null);
      document.getElementById(id('targetUrl'))?.focus();
      return;
    }
    setSubmitting(true);
    try {
      const values: SubscriptionValues = { name: name.trim(), targetUrl: targetUrl.trim(), eventTypes: parsedTypes };
      if (mode === 'edit') values.status = status;
      const outcome = await onSubmit(values);
      if (outcome.ok) {
        setErrors({});
        setFormMessage(null);
        if (mode === 'create') {
          setName('');
          setTargetUrl('');
          setEventTypes('');
        }
      } else {
        const byField = fieldErrorsByField(outcome.fieldErrors, { eventTypes: parsedTypes });
        setErrors(byField);
        const others = otherFieldErrors(byField, SHOWN_FIELDS);
        setFormMessage(others.length > 0 || outcome.fieldErrors.length === 0 ? [outcome.message, ...others].join(' · ') : null);
        const firstField = SHOWN_FIELDS.find((field) => byField[field]);
        if (firstField) document.getElementById(id(firstField))?.focus();
      }
    } finally {
      setSubmitting(false);
    }
  };

  const fieldError = (field: string) =>
    errors[field] ? (
      <span className="field-error" id={id(`${field}-error`)} data-testid={`${prefix}-${field}-error`}>
        {errors[field].join('; ')}
      </span>
    ) : null;
  const describedBy = (field: string, hint?: string) => [errors[field] ? id(`${field}-error`) : null, hint ?? null].filter(Boolean).join(' ') || undefined;

  return (
    <form className={`subscription-form ${mode}`} onSubmit={(event) => void submit(event)} noValidate aria-label={mode === 'create' ? 'New subscription' : 'Edit subscription'}>
      {formMessage ? (
        <p className="form-error" role="alert">
          {formMessage}
        </p>
      ) : null}
      <div className="fields">
        <label className="field field-name" htmlFor={id('name')}>
          <span className="field-label">Name</span>
          <input
            id={id('name')}
            name="name"
            data-testid={`${prefix}-name`}
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder="orders service"
            autoComplete="off"
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={describedBy('name')}
          />
          {fieldError('name')}
        </label>
        <label className="field field-url" htmlFor={id('targetUrl')}>
          <span className="field-label">Target URL</span>
          <input
            id={id('targetUrl')}
            name="targetUrl"
            data-testid={`${prefix}-targetUrl`}
            value={targetUrl}
            onChange={(event) => setTargetUrl(event.target.value)}
            placeholder="https://example.com/hooks"
            inputMode="url"
            autoComplete="off"
            spellCheck={false}
            required
            aria-invalid={errors.targetUrl ? true : undefined}
            aria-describedby={describedBy('targetUrl')}
          />
          {fieldError('targetUrl')}
        </label>
        <label className="field field-types" htmlFor={id('eventTypes')}>
          <span className="field-label">Event types</span>
          <input
            id={id('eventTypes')}
            name="eventTypes"
            data-testid={`${prefix}-eventTypes`}
            value={eventTypes}
            onChange={(event) => setEventTypes(event.target.value)}
            placeholder="order.*, invoice.paid"
            autoComplete="off"
            spellCheck={false}
            aria-invalid={errors.eventTypes ? true : undefined}
            aria-describedby={describedBy('eventTypes', id('eventTypes-hint'))}
          />
          <span className="field-hint" id={id('eventTypes-hint')}>
            Comma-separated; empty receives every event.
          </span>
          {fieldError('eventTypes')}
        </label>
        {mode === 'edit' ? (
          <label className="field field-status" htmlFor={id('status')}>
            <span className="field-label">Status</span>
            <select id={id('status')} name="status" data-testid={`${prefix}-status`} value={status} onChange={(event) => setStatus(event.target.value)}>
              {SUBSCRIPTION_STATUSES.map((value) => (
                <option key={value} value={value}>
                  {value.toLowerCase()}
                </option>
              ))}
            </select>
            {fieldError('status')}
          </label>
        ) : null}
        <div className="field-actions">
          <button type="submit" className="button primary" data-testid={`${prefix}-submit`} disabled={submitting}>
            {submitting ? 'Saving…' : mode === 'create' ? 'Create subscription' : 'Save'}
          </button>
          {onCancel ? (
            <button type="button" className="button" onClick={onCancel}>
              Cancel
            </button>
          ) : null}
        </div>
      </div>
    </form>
  );
}

/** The edit form bound to updateWebhookSubscription; `onDone` runs on cancel and on success. */
export function EditSubscriptionForm({ subscription, onDone }: { subscription: SubscriptionValues & { id: string }; onDone: () => void }) {
  const [, update] = useMutation(UpdateSubscriptionMutation);
  return (
    <SubscriptionForm
      mode="edit"
      initial={subscription}
      onCancel={onDone}
      onSubmit={async (values) => {
        const result = await update({
          id: subscription.id,
          input: { name: values.name, targetUrl: values.targetUrl, eventTypes: values.eventTypes, status: values.status as 'ACTIVE' | 'PAUSED' | 'DISABLED' },
        });
        const outcome = outcomeOf(result.data?.updateWebhookSubscription, result.error, 'WebhookSubscription');
        if (outcome.ok) onDone();
        return outcome;
      }}
    />
  );
}
