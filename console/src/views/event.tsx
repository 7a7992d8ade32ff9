import { useEffect } from 'preact/hooks';
import { request, subscribe } from '../api';
import { ErrorMessage, Loading, Notice, Section } from '../components';
import { DeliveryFeedDocument, EventDetailDocument, ReplayEventDocument } from '../generated/graphql';
import { useAction, useQuery, useSession } from '../session-context';
import { DeliveryTable } from './deliveries';
import { EventPanel } from './delivery';

export function EventView({ id }: { id: string }) {
  const session = useSession();
  const detail = useQuery(EventDetailDocument, { id }, `${id}/${session.liveRound}`);
  const action = useAction();
  // Its deliveries change status (and replays add some) while the page is open.
  useEffect(() => subscribe(session.live, DeliveryFeedDocument, { filter: { eventId: id } }, detail.reload, () => undefined), [id, session.live]);
  const event = detail.data?.event;
  return (
    <div class="stack">
      <Loading loading={detail.loading && !event} />
      <ErrorMessage error={detail.error ?? (detail.data && !event ? `No event ${id}` : undefined)} />
      {event ? (
        <>
          <Section
            title="Deliveries of this event"
            actions={session.admin ? (
              <button type="button" data-action="replay" disabled={action.busy}
                onClick={() => action.run('Replay', (token) => request(token, ReplayEventDocument, { id }), detail.reload)}>Replay</button>
            ) : undefined}
          >
            <ErrorMessage error={action.error} />
            <Notice text={action.message} />
            <DeliveryTable rows={detail.data!.deliveries.edges.map((edge) => edge.node)} />
          </Section>
          <EventPanel event={event} />
        </>
      ) : null}
    </div>
  );
}
