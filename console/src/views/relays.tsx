import { useEffect, useState } from 'preact/hooks';
import { request, subscribe } from '../api';
import { ErrorMessage, Loading, Notice, Section, Time } from '../components';
import { DisableRelayDocument, EnableRelayDocument, RelaysDocument, RelayStatusDocument, SendTestEventDocument, type RelaySummaryFragment } from '../generated/graphql';
import { useAction, useQuery, useSession } from '../session-context';

function rate(health: RelaySummaryFragment['health']): string {
  if (health.successRate === null || health.successRate === undefined) return 'no attempt in the last hour';
  return `${Math.round(health.successRate * 1000) / 10} % of ${health.attemptsLastHour} attempts`;
}

function RelayRow({ relay, reload }: { relay: RelaySummaryFragment; reload(): void }) {
  const session = useSession();
  const action = useAction();
  const [reason, setReason] = useState('paused from the console');
  const lastError = relay.health.lastError;
  return (
    <tr data-relay={relay.id}>
      <td>{relay.name}<div class="mono muted">{relay.url}</div></td>
      <td>
        {relay.enabled ? <span class="status status-succeeded">enabled</span> : <span class="status status-held">disabled</span>}
        {relay.disabledReason ? <div class="muted">{relay.disabledReason}</div> : null}
      </td>
      <td>{rate(relay.health)}</td>
      <td>
        {lastError ? (
          <>
            <span class="mono">{lastError.errorClass}{lastError.responseStatus ? ` ${lastError.responseStatus}` : ''}</span>
            <div class="muted"><Time at={lastError.at} />{lastError.message ? ` · ${lastError.message}` : ''}</div>
          </>
        ) : <span class="muted">—</span>}
      </td>
      <td><Time at={relay.lastSuccessAt} /></td>
      {session.admin ? (
        <td class="actions">
          {relay.enabled ? (
            <>
              <input aria-label="reason" name="reason" placeholder="reason" value={reason} maxLength={500} onInput={(event) => setReason(event.currentTarget.value)} />
              <button type="button" data-action="disable" disabled={action.busy || reason.trim() === ''}
                onClick={() => action.run('Disable', (token) => request(token, DisableRelayDocument, { id: relay.id, reason }), reload)}>Disable</button>
            </>
          ) : (
            <button type="button" data-action="enable" disabled={action.busy}
              onClick={() => action.run('Enable', (token) => request(token, EnableRelayDocument, { id: relay.id }), reload)}>Enable</button>
          )}
          <button type="button" data-action="test" disabled={action.busy}
            onClick={() => action.run('Test event', async (token) => {
              const { sendTestEvent: attempt } = await request(token, SendTestEventDocument, { relayId: relay.id });
              if (attempt.errorClass) throw new Error(`${attempt.errorClass}${attempt.responseStatus ? ` ${attempt.responseStatus}` : ''} after ${attempt.durationMs} ms`);
            }, reload)}>Send test event</button>
          <ErrorMessage error={action.error} />
          <Notice text={action.message} />
        </td>
      ) : null}
    </tr>
  );
}

export function RelaysView() {
  const session = useSession();
  const { data, error, loading, reload } = useQuery(RelaysDocument, {}, `relays/${session.liveRound}`);
  // A relay disabled automatically (or from elsewhere) shows so without a reload.
  useEffect(() => subscribe(session.live, RelayStatusDocument, {}, reload, () => undefined), [session.live, reload]);
  return (
    <Section title="Relays" actions={<button type="button" onClick={reload}>Refresh</button>}>
      <Loading loading={loading && !data} />
      <ErrorMessage error={error} />
      {data && data.relays.length === 0 ? <p class="muted">No relay yet: create one with the createRelay mutation.</p> : null}
      {data && data.relays.length > 0 ? (
        <table class="rows" data-testid="relays">
          <thead>
            <tr><th>Relay</th><th>State</th><th>Success, last hour</th><th>Last error</th><th>Last success</th>{session.admin ? <th>Actions</th> : null}</tr>
          </thead>
          <tbody>{data.relays.map((relay) => <RelayRow key={relay.id} relay={relay} reload={reload} />)}</tbody>
        </table>
      ) : null}
    </Section>
  );
}
