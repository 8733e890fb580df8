import { useEffect, useState } from 'preact/hooks';

/** The page's own paths (history API); the server answers index.html for each, so a reload lands on the same page. */
export type Place =
  | { page: 'overview' }
  | { page: 'app'; app: string }
  | { page: 'jobs'; job?: string }
  | { page: 'logs'; app?: string }
  | { page: 'requests'; app?: string }
  | { page: 'mail'; app?: string };

export function parsePlace(pathname: string, search = ''): Place {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const app = new URLSearchParams(search).get('app') ?? undefined;
  if (parts[0] === 'apps' && parts[1]) return { page: 'app', app: parts[1] };
  if (parts[0] === 'jobs') return { page: 'jobs', job: parts[1] };
  if (parts[0] === 'logs') return { page: 'logs', app };
  if (parts[0] === 'requests') return { page: 'requests', app };
  if (parts[0] === 'mail') return { page: 'mail', app };
  return { page: 'overview' };
}

export function href(place: Place): string {
  switch (place.page) {
    case 'overview':
      return '/';
    case 'app':
      return `/apps/${encodeURIComponent(place.app)}`;
    case 'jobs':
      return place.job ? `/jobs/${encodeURIComponent(place.job)}` : '/jobs';
    case 'logs':
    case 'requests':
    case 'mail':
      return place.app ? `/${place.page}?app=${encodeURIComponent(place.app)}` : `/${place.page}`;
  }
}

export function navigate(to: string): void {
  if (to === location.pathname + location.search) return;
  history.pushState(null, '', to);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function usePlace(): Place {
  const [place, setPlace] = useState(() => parsePlace(location.pathname, location.search));
  useEffect(() => {
    const update = () => setPlace(parsePlace(location.pathname, location.search));
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return place;
}

/** A link inside the page: no reload, and a middle click still opens a tab. */
export function onLink(event: MouseEvent): void {
  const anchor = (event.target as Element).closest('a');
  if (!anchor || anchor.target || anchor.origin !== location.origin || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
