import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { request, subscribe } from '../api';
import { ErrorMessage, Section, Status, Time } from '../components';
import {
  DeliveriesDocument, DeliveryFeedDocument, FilterChoicesDocument,
  type DeliveryFilter, type DeliveryRowFragment, type DeliveryStatus,
} from '../generated/graphql';
import { href } from '../route';
import { useQuery, useSession } from '../session-context';

const STATUSES: DeliveryStatus[] = ['PENDING', 'DELIVERING', 'SUCCEEDED', 'RETRYING', 'DEAD', 'CANCELLED', 'HELD'];
/** Rows a page of the list loads, first and older. */
const PAGE = 50;
/** Rows kept on screen while only the first page is loaded: the live feed adds to the top and the oldest fall off. */
const MAX_ROWS = 100;
/**
 * Rows kept at most once older pages were loaded: the live feed still adds to the top, and past
 * this the oldest fall off and paging ends (the next page would no longer follow the last row).
 */
const MAX_PAGED_ROWS = 1000;

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

/** Merges a live update: the newer state of a row replaces it; a new row goes on top (the list is cut at `cap`). */
function merge(rows: DeliveryRowFragment[], update: DeliveryRowFragment, filter: DeliveryFilter, cap = MAX_ROWS): DeliveryRowFragment[] {
  const matches = !filter.status || filter.status.includes(update.status);
  const index = rows.findIndex((row) => row.id === update.id);
  if (index === -1) return matches ? [update, ...rows].slice(0, cap) : rows;
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
  const page = useQuery(DeliveriesDocument, { filter, first: PAGE }, `${key}/${session.liveRound}`);
  const [rows, setRows] = useState<DeliveryRowFragment[]>([]);
  const [liveError, setLiveError] = useState<string>();
  /** Where the next older page starts; undefined when there is none (or paging ended). */
  const [older, setOlder] = useState<{ cursor?: string; loading: boolean; error?: string; paged: boolean }>({ loading: false, paged: false });
  // Read by the live subscription when an update comes, without subscribing again when paging starts.
  const cap = useRef(MAX_ROWS);
  cap.current = older.paged ? MAX_PAGED_ROWS : MAX_ROWS;
  /** A live row pushed the oldest off the bottom: the next older page would no longer follow the last row. */
  const cut = useRef(false);

  useEffect(() => {
    const loaded = page.data?.deliveries.edges.map((edge) => edge.node) ?? [];
    const info = page.data?.deliveries.pageInfo;
    cut.current = false;
    setOlder({ cursor: info?.hasNextPage ? info.endCursor ?? undefined : undefined, loading: false, paged: false });
    // Live updates that arrived while the page loaded are newer than it; rows of older pages
    // (a reload after a reconnect) go, as paging starts again from this page.
    const oldest = loaded.at(-1)?.createdAt;
    setRows((current) => current.filter((row) => oldest === undefined || row.createdAt >= oldest).reduceRight((acc, row) => merge(acc, row, filter), loaded));
  }, [page.data]);
  useEffect(() => {
    setRows([]);
    setLiveError(undefined);
    return subscribe(session.live, DeliveryFeedDocument, { filter }, (data) => {
      setRows((current) => {
        const next = merge(current, data.deliveryUpdated, filter, cap.current);
        // A new row on top without the list growing: the bottom row went.
        if (next[0] === data.deliveryUpdated && next.length === current.length && !current.some((row) => row.id === data.deliveryUpdated.id)) cut.current = true;
        return next;
      });
    }, (error) => setLiveError(`Live updates stopped: ${error.message}`));
  }, [key, session.live]);
  useEffect(() => {
    if (cut.current && older.cursor) setOlder((o) => ({ ...o, cursor: undefined }));
  }, [rows, older.cursor]);

  const loadOlder = () => {
    const cursor = older.cursor;
    if (!cursor || older.loading) return;
    setOlder((o) => ({ ...o, loading: true, error: undefined }));
    request(session.token, DeliveriesDocument, { filter, first: PAGE, after: cursor }).then(
      (data) => {
        const more = data.deliveries.edges.map((edge) => edge.node);
        setRows((current) => {
          const known = new Set(current.map((row) => row.id));
          const next = [...current, ...more.filter((row) => !known.has(row.id))];
          if (next.length > MAX_PAGED_ROWS) cut.current = true;
          return next.slice(0, MAX_PAGED_ROWS);
        });
        const { hasNextPage, endCursor } = data.deliveries.pageInfo;
        // The effect above ends paging if appending this page cut the list.
        setOlder({ cursor: hasNextPage ? endCursor ?? undefined : undefined, loading: false, paged: true });
      },
      (error: unknown) => setOlder((o) => ({ ...o, loading: false, error: error instanceof Error ? error.message : String(error) })),
    );
  };

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
      <ErrorMessage error={page.error ?? choices.error ?? liveError ?? older.error} />
      <DeliveryTable rows={rows} />
      {older.cursor ? <p><button type="button" name="older" disabled={older.loading} onClick={loadOlder}>{older.loading ? 'Loading…' : 'Load older'}</button></p> : null}
    </Section>
  );
}
