import type { ComponentChildren } from 'preact';
import type { DeliveryStatus } from './generated/graphql';

// Everything shown here may come from an attacker (bodies, headers, event types, slugs): it is
// only ever a text child, which Preact writes as a text node, never parsed as HTML.

export function ErrorMessage({ error }: { error?: string }) {
  if (!error) return null;
  return <p class="error" role="alert">{error}</p>;
}

export function Notice({ text }: { text?: string }) {
  return text ? <p class="notice" role="status">{text}</p> : null;
}

export function Status({ status }: { status: DeliveryStatus }) {
  return <span class={`status status-${status.toLowerCase()}`}>{status}</span>;
}

export function Time({ at }: { at?: string | null }) {
  if (!at) return <span class="muted">—</span>;
  const date = new Date(at);
  return <time dateTime={at} title={at}>{date.toLocaleString()}</time>;
}

/** A body: pretty-printed when it is JSON, as received otherwise. */
export function BodyText({ body }: { body: string }) {
  let shown = body;
  try {
    shown = JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    // Not JSON: the text as received.
  }
  return <pre class="code">{shown === '' ? '(empty body)' : shown}</pre>;
}

export function JsonBlock({ value }: { value: unknown }) {
  return <pre class="code">{JSON.stringify(value, null, 2)}</pre>;
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="panel">
      <header class="panel-head">
        <h2>{title}</h2>
        {actions ? <div class="actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export function Loading({ loading }: { loading: boolean }) {
  return loading ? <p class="muted">Loading…</p> : null;
}
