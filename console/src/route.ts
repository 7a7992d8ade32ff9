import { useEffect, useState } from 'preact/hooks';

/** Where the console is, from the URL's hash: `#/deliveries`, `#/delivery/<id>`, `#/event/<id>`, ... */
export type Route =
  | { view: 'deliveries' }
  | { view: 'sources' }
  | { view: 'relays' }
  | { view: 'delivery'; id: string }
  | { view: 'event'; id: string }
  | { view: 'search'; key: string };

export function parseRoute(hash: string): Route {
  const [, view = '', ...rest] = hash.replace(/^#/, '').split('/');
  const arg = decodeURIComponent(rest.join('/'));
  if (view === 'sources' || view === 'relays') return { view };
  if ((view === 'delivery' || view === 'event') && arg) return { view, id: arg };
  if (view === 'search' && arg) return { view, key: arg };
  return { view: 'deliveries' };
}

export function href(route: Route): string {
  switch (route.view) {
    case 'delivery':
    case 'event':
      return `#/${route.view}/${encodeURIComponent(route.id)}`;
    case 'search':
      return `#/search/${encodeURIComponent(route.key)}`;
    default:
      return `#/${route.view}`;
  }
}

export function go(route: Route): void {
  location.hash = href(route);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
