import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { request, subscribe } from '../api';
import { BodyText, ErrorMessage, JsonBlock, Loading, Notice, Section, Status, Time } from '../components';
import { CancelDeliveryDocument, DeliveryDetailDocument, DeliveryFeedDocument, RetryDeliveryDocument, type EventBodyFragment } from '../generated/graphql';
import { href } from '../route';
import { useAction, useQuery, useSession } from '../session-context';

const RETRYABLE = new Set(['DEAD', 'RETRYING']);
const CANCELLABLE = new Set(['PENDING', 'RETRYING', 'HELD', 'DEAD']);

export function EventPanel({ event, actions }: { event: EventBodyFragment; actions?: ComponentChildren }) {
  return (
    <Section title="Event" actions={actions}>
      <dl class="facts">
        <dt>Event id</dt><dd class="mono"><a href={href({ view: 'event', id: event.id })}>{event.id}</a></dd>
        <dt>Type</dt><dd class="mono" data-testid="event-type">{event.type}</dd>
        <dt>Source</dt><dd class="mono">{event.source?.slug ?? '(published)'}</dd>
        <dt>Idempotency key</dt><dd class="mono">{event.idempotencyKey ?? '—'}</dd>
        <dt>Received</dt><dd><Time at={event.receivedAt} /></dd>
        <dt>Content type</dt><dd class="mono">{event.contentType ?? '—'}</dd>
      </dl>
      <h3>Headers</h3>
      <JsonBlock value={event.headers} />
      <h3>Body</h3>
      <div data-testid="event-body"><BodyText body={event.body} /></div>
    </Section>
  );
}

export function DeliveryView({ id }: { id: string }) {
  const session = useSession();
  const detail = useQuery(DeliveryDetailDocument, { id }, `${id}/${session.liveRound}`);
  const action = useAction();
  // This delivery's status changes reload it (with its new attempts): the feed of its event.
  const eventId = detail.data?.delivery?.event.id;
  useEffect(() => (eventId ? subscribe(session.live, DeliveryFeedDocument, { filter: { eventId } }, (data) => {
    if (data.deliveryUpdated.id === id) detail.reload();
  }, () => undefined) : undefined), [id, eventId, session.live]);

  const delivery = detail.data?.delivery;
  if (detail.data && !delivery) return <Section title="Delivery"><ErrorMessage error={`No delivery ${id}`} /></Section>;
  return (
    <div class="stack">
      <Loading loading={detail.loading && !delivery} />
      <ErrorMessage error={detail.error} />
      {delivery ? (
        <>
          <Section
            title="Delivery"
            actions={session.admin ? (
              <>
                <button type="button" data-action="retry" disabled={action.busy || !RETRYABLE.has(delivery.status)}
                  onClick={() => action.run('Retry', (token) => request(token, RetryDeliveryDocument, { id }), detail.reload)}>Retry now</button>
                <button type="button" data-action="cancel" class="danger" disabled={action.busy || !CANCELLABLE.has(delivery.status)}
                  onClick={() => action.run('Cancel', (token) => request(token, CancelDeliveryDocument, { id }), detail.reload)}>Cancel</button>
              </>
            ) : undefined}
          >
            <dl class="facts">
              <dt>Delivery id</dt><dd class="mono">{delivery.id}</dd>
              <dt>Status</dt><dd data-testid="delivery-status"><Status status={delivery.status} /></dd>
              <dt>Attempts</dt><dd>{delivery.attemptCount}</dd>
              <dt>Relay</dt><dd>{delivery.relay.name}</dd>
              <dt>Created</dt><dd><Time at={delivery.createdAt} /></dd>
              <dt>Last attempt</dt><dd><Time at={delivery.lastAttemptAt} /></dd>
              <dt>Next attempt</dt><dd><Time at={delivery.nextAttemptAt} /></dd>
              {delivery.orderingKey !== null ? (<><dt>Ordering key</dt><dd class="mono" data-testid="ordering-key">{delivery.orderingKey}</dd></>) : null}
              {delivery.blockedBy ? (<><dt>Waiting behind</dt><dd class="mono" data-testid="blocked-by"><a href={href({ view: 'delivery', id: delivery.blockedBy })}>{delivery.blockedBy}</a> (the head of its key)</dd></>) : null}
              {delivery.unorderedReason ? (<><dt>Unordered</dt><dd>{delivery.unorderedReason}</dd></>) : null}
              {delivery.batchId ? (<><dt>Batch</dt><dd class="mono">{delivery.batchId}</dd></>) : null}
            </dl>
            <ErrorMessage error={action.error} />
            <Notice text={action.message} />
          </Section>
          <Section title={`Attempts (${delivery.attempts.edges.length})`}>
            {delivery.attempts.edges.length === 0 ? <p class="muted">No attempt yet.</p> : null}
            {delivery.attempts.edges.map(({ node: attempt }) => (
              <article class="attempt" key={attempt.id} data-attempt={attempt.number}>
                <h3>
                  Attempt {attempt.number} · <span class="mono">{attempt.responseStatus ?? 'no response'}</span>
                  {attempt.errorClass ? <span class="status status-dead">{attempt.errorClass}</span> : <span class="status status-succeeded">OK</span>}
                </h3>
                <dl class="facts">
                  <dt>Started</dt><dd><Time at={attempt.startedAt} /></dd>
                  <dt>Duration</dt><dd>{attempt.durationMs} ms</dd>
                  <dt>Error</dt><dd class="mono">{attempt.errorMessage ?? '—'}</dd>
                </dl>
                <details>
                  <summary>Request headers</summary>
                  <JsonBlock value={attempt.requestHeaders} />
                </details>
                <h4>Response body (first 4 KiB)</h4>
                <pre class="code">{attempt.responseBodyExcerpt ?? '(none)'}</pre>
              </article>
            ))}
          </Section>
          <EventPanel event={delivery.event} />
        </>
      ) : null}
    </div>
  );
}
