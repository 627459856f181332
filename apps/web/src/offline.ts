// The page's side of the service worker (src/sw.ts): registers it, so the app works offline after the first visit,
// and, on a host that sends no COOP/COEP headers, reloads the page once when the worker takes control: served
// through it, the page comes back cross-origin isolated and the engine gets its threads. Where that cannot work (no
// service worker, not a secure context, a browser that ignores the headers) the page stays as it is: one thread.

/** Set for the session once the page has reloaded itself, so it never reloads twice. */
const RELOADED = 'mnist-isolation-reload';

export function startServiceWorker(modelReady: Promise<void>): void {
  if (!('serviceWorker' in navigator) || !isSecureContext) return;
  const register = () =>
    navigator.serviceWorker.register('sw.js').catch((err: unknown) => {
      // e.g. `build --watch` writes no sw.js: the app runs as a plain page
      console.warn(`service worker not registered: ${(err as Error).message}`);
    });
  if (crossOriginIsolated) {
    // Nothing is urgent: cache the app once the first model is in, when caching no longer competes with it (even
    // touching navigator.serviceWorker costs the page's start-up a few milliseconds).
    const idle =
      'requestIdleCallback' in window
        ? (f: () => void) => requestIdleCallback(f, { timeout: 3000 })
        : (f: () => void) => setTimeout(f, 500);
    void modelReady.finally(() =>
      idle(() => {
        sessionStorage.removeItem(RELOADED);
        void register();
      }),
    );
    return;
  }
  const sw = navigator.serviceWorker;
  // Not isolated. A reload through the service worker fixes that, unless the person has started using the page
  // (then the next visit is isolated) or it was already tried in this session.
  let busy = false;
  for (const type of ['pointerdown', 'keydown', 'change'])
    window.addEventListener(type, () => (busy = true), { capture: true, once: true });
  const reload = () => {
    if (busy || sessionStorage.getItem(RELOADED)) return;
    sessionStorage.setItem(RELOADED, String(Date.now()));
    location.reload();
  };
  sw.addEventListener('controllerchange', reload);
  // Controlled yet not isolated: a hard reload bypassed the worker. One more reload goes through it.
  if (sw.controller) reload();
  void register();
}
