import { useEffect, useMemo, useState } from 'preact/hooks';
import { subscribe } from '../api';
import { ErrorMessage, Section, Status, Time } from '../components';
import {
  DeliveriesDocument, DeliveryFeedDocument, FilterChoicesDocument,
  type DeliveryFilter, type DeliveryRowFragment, type DeliveryStatus,
} from '../generated/graphql';
import { href } from '../route';
import { useQuery, useSession } from '../session-context';

const STATUSES: DeliveryStatus[] = ['PENDING', 'DELIVERING', 'SUCCEEDED', 'RETRYING', 'DEAD', 'CANCELLED', 'HELD'];
/** Rows kept on screen: the live feed adds to the top and the oldest fall off. */
const MAX_ROWS = 100;

export function DeliveryTable({ rows }: { rows: DeliveryRowFragment[] }) {
  if (rows.length === 0) return <p class="muted">No deliveries yet.</p>;
  return (
    <table class="rows" data-testid="deliveries">
      <thead>
        <tr><th>Status</th><th>Attempts</th><th>Event type</th><th>Source</th><th>Relay</th><th>Created</th><th>Delivery</th></tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.id} data-delivery={row.id}>
            <td><Status status={row.status} /></td>
            <td class="num">{row.attemptCount}</td>
            <td class="mono">{row.event.type}</td>
            <td class="mono">{row.event.source?.slug ?? '(published)'}</td>
            <td>{row.relay.name}</td>
            <td><Time at={row.createdAt} /></td>
            {/* Ids are time-ordered (UUIDv7): their tail tells rows apart. */}
            <td><a class="mono" href={href({ view: 'delivery', id: row.id })} title={row.id}>…{row.id.slice(-12)}</a></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Merges a live update: the newer state of a row replaces it; a new row goes on top. */
function merge(rows: DeliveryRowFragment[], update: DeliveryRowFragment, filter: DeliveryFilter): DeliveryRowFragment[] {
  const matches = !filter.status || filter.status.includes(update.status);
  const index = rows.findIndex((row) => row.id === update.id);
  if (index === -1) return matches ? [update, ...rows].slice(0, MAX_ROWS) : rows;
  if (rows[index]!.updatedAt > update.updatedAt) return rows;
  const next = [...rows];
  if (matches) next[index] = update;
  else next.splice(index, 1);
  return next;
}

export function DeliveriesView() {
  const session = useSession();
  const [relayId, setRelayId] = useState('');
  const [sourceId, setSourceId] = useState('');
  const [status, setStatus] = useState('');
  const filter = useMemo<DeliveryFilter>(() => ({
    ...(relayId ? { relayId } : {}),
    ...(sourceId ? { sourceId } : {}),
    ...(status ? { status: [status as DeliveryStatus] } : {}),
  }), [relayId, sourceId, status]);
  const key = JSON.stringify(filter);
  const choices = useQuery(FilterChoicesDocument, {}, 'choices');
  // Loaded again after the live connection comes back: what changed meanwhile shows too.
  const page = useQuery(DeliveriesDocument, { filter, first: 50 }, `${key}/${session.liveRound}`);
  const [rows, setRows] = useState<DeliveryRowFragment[]>([]);
  const [liveError, setLiveError] = useState<string>();

  useEffect(() => {
    const loaded = page.data?.deliveries.edges.map((edge) => edge.node) ?? [];
    // Live updates that arrived while the page loaded are newer than it.
    setRows((current) => current.reduceRight((acc, row) => merge(acc, row, filter), loaded));
  }, [page.data]);
  useEffect(() => {
    setRows([]);
    setLiveError(undefined);
    return subscribe(session.live, DeliveryFeedDocument, { filter }, (data) => {
      setRows((current) => merge(current, data.deliveryUpdated, filter));
    }, (error) => setLiveError(`Live updates stopped: ${error.message}`));
  }, [key, session.live]);

  return (
    <Section title="Deliveries" actions={<span class="live" title="updates over graphql-ws">● live</span>}>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <label>Relay
          <select name="relay" value={relayId} onChange={(event) => setRelayId(event.currentTarget.value)}>
            <option value="">any relay</option>
            {choices.data?.relays.map((relay) => <option key={relay.id} value={relay.id}>{relay.name}</option>)}
          </select>
        </label>
        <label>Source
          <select name="source" value={sourceId} onChange={(event) => setSourceId(event.currentTarget.value)}>
            <option value="">any source</option>
            {choices.data?.sources.map((source) => <option key={source.id} value={source.id}>{source.slug}</option>)}
          </select>
        </label>
        <label>Status
          <select name="status" value={status} onChange={(event) => setStatus(event.currentTarget.value)}>
            <option value="">any status</option>
            {STATUSES.map((name) => <option key={name} value={name}>{name}</option>)}
          </select>
        </label>
      </form>
      <ErrorMessage error={page.error ?? choices.error ?? liveError} />
      <DeliveryTable rows={rows} />
    </Section>
  );
}
