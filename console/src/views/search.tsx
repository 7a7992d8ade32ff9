import { useEffect } from 'preact/hooks';
import { ErrorMessage, Loading, Section, Time } from '../components';
import { SearchDocument } from '../generated/graphql';
import { go, href } from '../route';
import { useQuery } from '../session-context';

/** A delivery id or event id opens it; anything else is looked up as an idempotency key. */
export function SearchView({ term }: { term: string }) {
  const { data, error, loading } = useQuery(SearchDocument, { id: term, key: term }, term);
  useEffect(() => {
    if (data?.delivery) go({ view: 'delivery', id: data.delivery.id });
    else if (data?.event) go({ view: 'event', id: data.event.id });
  }, [data]);
  const events = data?.events.edges.map((edge) => edge.node) ?? [];
  return (
    <Section title="Search">
      <p>Results for <span class="mono">{term}</span></p>
      <Loading loading={loading} />
      <ErrorMessage error={error} />
      {data && !data.delivery && !data.event && events.length === 0 ? <p class="muted">No delivery, event or idempotency key matches.</p> : null}
      {events.length > 0 ? (
        <table class="rows">
          <thead><tr><th>Event</th><th>Type</th><th>Source</th><th>Received</th></tr></thead>
          <tbody>
            {events.map((event) => (
              <tr key={event.id}>
                <td><a class="mono" href={href({ view: 'event', id: event.id })}>{event.id}</a></td>
                <td class="mono">{event.type}</td>
                <td class="mono">{event.source?.slug ?? '(published)'}</td>
                <td><Time at={event.receivedAt} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Section>
  );
}
