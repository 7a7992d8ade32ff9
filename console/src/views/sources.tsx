import { ErrorMessage, Loading, Section, Time } from '../components';
import { SourcesDocument } from '../generated/graphql';
import { useQuery } from '../session-context';

export function SourcesView() {
  const { data, error, loading, reload } = useQuery(SourcesDocument, {}, 'sources');
  const rejected = data?.rejectedRequests.edges.map((edge) => edge.node) ?? [];
  return (
    <div class="stack">
      <Section title="Sources" actions={<button type="button" onClick={reload}>Refresh</button>}>
        <Loading loading={loading && !data} />
        <ErrorMessage error={error} />
        {data && data.sources.length === 0 ? <p class="muted">No source yet: create one with the createSource mutation.</p> : null}
        {data && data.sources.length > 0 ? (
          <table class="rows" data-testid="sources">
            <thead><tr><th>Name</th><th>Slug</th><th>Preset</th><th>State</th><th>Ingest URL</th><th>Latest refusal</th></tr></thead>
            <tbody>
              {data.sources.map((source) => {
                // The list is newest first: the first row of this source is its latest refusal.
                const refusal = rejected.find((row) => row.sourceId === source.id);
                return (
                  <tr key={source.id} data-source={source.id}>
                    <td>{source.name}</td>
                    <td class="mono">{source.slug}</td>
                    <td>{source.preset}</td>
                    <td>{source.enabled ? 'enabled' : 'disabled'}</td>
                    <td class="mono">{source.ingestUrl}</td>
                    <td>{refusal ? <><span class="mono">{refusal.status} {refusal.reason}</span><div class="muted"><Time at={refusal.receivedAt} /></div></> : <span class="muted">—</span>}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        ) : null}
      </Section>
      <Section title="Latest rejected requests">
        {data && rejected.length === 0 ? <p class="muted">No request refused within the retention window.</p> : null}
        {rejected.length > 0 ? (
          <table class="rows" data-testid="rejected">
            <thead><tr><th>First at</th><th>Slug</th><th>Status</th><th>Reason</th><th>Message</th><th>Count</th><th>From</th></tr></thead>
            <tbody>
              {rejected.map((row) => (
                <tr key={row.id}>
                  <td><Time at={row.receivedAt} /></td>
                  <td class="mono">{row.slug}</td>
                  <td class="num">{row.status}</td>
                  <td class="mono">{row.reason}</td>
                  <td>{row.message}</td>
                  <td class="num">{row.count}</td>
                  <td class="mono">{row.remoteAddress ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </Section>
    </div>
  );
}
