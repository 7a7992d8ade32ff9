import type { Client } from 'graphql-ws';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, request } from './api';
import type { TypedDocumentString } from './generated/graphql';

export interface Session {
  token: string;
  /** ADMIN tokens see the buttons that mutate; READ tokens never do. */
  admin: boolean;
  tokenName: string;
  live: Client;
  /** Counts the live connection's (re)connections: views reload what they may have missed. */
  liveRound: number;
  /** Forgets the token; with a reason, the sign-in page says it. */
  signOut(reason?: string): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('no session');
  return session;
}

export interface QueryState<T> {
  data?: T;
  error?: string;
  loading: boolean;
  reload(): void;
}

/** Runs a query whenever `key` changes (and on reload); a refused token signs out. */
export function useQuery<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables, key: string): QueryState<TResult> {
  const session = useSession();
  const [state, setState] = useState<{ data?: TResult; error?: string; loading: boolean }>({ loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    request(session.token, document, variables).then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => {
        if (!current) return;
        if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') session.signOut(error.message);
        setState({ error: error instanceof Error ? error.message : String(error), loading: false });
      },
    );
    return () => {
      current = false;
    };
    // `key` stands for the variables' content.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, round, session.token]);
  // Live updates may ask for many reloads at once: one query answers all asked within 200 ms.
  const pending = useRef<ReturnType<typeof setTimeout>>();
  useEffect(() => () => clearTimeout(pending.current), []);
  const reload = useCallback(() => {
    pending.current ??= setTimeout(() => {
      pending.current = undefined;
      setRound((n) => n + 1);
    }, 200);
  }, []);
  return { ...state, reload };
}

/** A mutation behind a button: its pending state and its error as text. */
export function useAction(): { busy: boolean; error?: string; message?: string; run(label: string, action: (token: string) => Promise<unknown>, done?: () => void): void } {
  const session = useSession();
  const [state, setState] = useState<{ busy: boolean; error?: string; message?: string }>({ busy: false });
  const run = (label: string, action: (token: string) => Promise<unknown>, done?: () => void) => {
    setState({ busy: true });
    action(session.token).then(
      () => {
        setState({ busy: false, message: `${label}: done` });
        done?.();
      },
      (error: unknown) => setState({ busy: false, error: `${label} failed: ${error instanceof Error ? error.message : String(error)}` }),
    );
  };
  return { ...state, run };
}
