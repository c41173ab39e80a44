import { useEffect, useRef, useState } from 'react';
import { useMutation } from 'urql';
import { DeleteSubscriptionMutation, UpdateSubscriptionMutation } from '../documents.ts';

interface SubscriptionActionsProps {
  subscription: { id: string; name: string; status: string };
  editing?: boolean;
  onEdit?: () => void;
  onDeleted?: () => void;
}

/** Pause/resume, edit and delete (with a confirmation) of one subscription. */
export function SubscriptionActions({ subscription, editing, onEdit, onDeleted }: SubscriptionActionsProps) {
  const [updateState, update] = useMutation(UpdateSubscriptionMutation);
  const [deleteState, remove] = useMutation(DeleteSubscriptionMutation);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const deleteRef = useRef<HTMLButtonElement>(null);
  const label = subscription.name || subscription.id;

  useEffect(() => {
    if (confirming) cancelRef.current?.focus();
  }, [confirming]);

  const setStatus = async (status: 'ACTIVE' | 'PAUSED') => {
    setError(null);
    const result = await update({ id: subscription.id, input: { status } });
    const data = result.data?.updateWebhookSubscription;
    if (result.error) setError(result.error.message);
    else if (data && data.__typename !== 'WebhookSubscription') setError(data.message);
  };

  const confirmDelete = async () => {
    setError(null);
    const result = await remove({ id: subscription.id });
    const data = result.data?.deleteWebhookSubscription;
    if (result.error) setError(result.error.message);
    else if (data?.__typename === 'NotFoundError') setError(data.message);
    else {
      setConfirming(false);
      onDeleted?.();
    }
  };

  if (confirming) {
    return (
      <div
        className="actions confirm"
        role="group"
        aria-label={`Confirm deleting ${label}`}
        onKeyDown={(event) => {
          if (event.key === 'Escape') {
            setConfirming(false);
            requestAnimationFrame(() => deleteRef.current?.focus());
          }
        }}
      >
        <span className="confirm-text">Delete “{label}” with all its events and attempts?</span>
        <button type="button" className="button danger" data-testid="confirm-delete" disabled={deleteState.fetching} onClick={() => void confirmDelete()}>
          {deleteState.fetching ? 'Deleting…' : 'Delete'}
        </button>
        <button type="button" className="button" data-testid="cancel-delete" ref={cancelRef} onClick={() => setConfirming(false)}>
          Cancel
        </button>
        {error ? (
          <span className="field-error" role="alert">
            {error}
          </span>
        ) : null}
      </div>
    );
  }

  return (
    <div className="actions">
      {subscription.status === 'ACTIVE' ? (
        <button type="button" className="button small" data-testid="pause-subscription" disabled={updateState.fetching} onClick={() => void setStatus('PAUSED')}>
          Pause
        </button>
      ) : (
        <button
          type="button"
          className="button small"
          data-testid="resume-subscription"
          disabled={updateState.fetching}
          onClick={() => void setStatus('ACTIVE')}
          title={subscription.status === 'DISABLED' ? 'Make it active again' : 'Send the events that waited'}
        >
          {subscription.status === 'DISABLED' ? 'Enable' : 'Resume'}
        </button>
      )}
      {onEdit ? (
        <button type="button" className="button small" data-testid="edit-subscription" aria-expanded={editing ?? false} onClick={onEdit}>
          Edit
        </button>
      ) : null}
      <button type="button" className="button small danger-text" data-testid="delete-subscription" ref={deleteRef} onClick={() => setConfirming(true)}>
        Delete
      </button>
      {error ? (
        <span className="field-error" role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}
