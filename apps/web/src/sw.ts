// The app's service worker. It caches the app shell and the default model (one cache per build) and the MNIST test
// set (a data cache kept across builds) when it installs, and the training data once it has been fetched; it answers
// from those caches first, so the app works with the network off. It also adds the cross-origin-isolation headers
// (COOP same-origin, COEP require-corp) to every same-origin response, so that on a static host that cannot send
// them the page, reloaded once through this worker (src/offline.ts), is cross-origin isolated and the engine runs
// threads. scripts/build.mjs bundles it with the lists and versions below filled in.

declare const BUILD: {
  /** Hash of the shell's files: a new build is a new sw.js, which the browser installs in place of this one. */
  version: string;
  /** The app shell and the default model, relative to this file. */
  shell: string[];
  /** Hash of the MNIST files, and the ones cached at install (the test set). */
  dataVersion: string;
  data: string[];
};

// The service worker's own global scope and events, declared here (lib "webworker" cannot sit beside lib "dom").
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface ServiceWorkerScope {
  readonly location: Location;
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
}
const scope = self as unknown as ServiceWorkerScope;

const SHELL_CACHE = `mnist-shell-${BUILD.version}`;
const DATA_CACHE = `mnist-data-${BUILD.dataVersion}`;
const ISOLATION: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const isData = (url: URL) => /\/data\/[^/]+\.gz$/.test(url.pathname);

scope.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      await (await caches.open(SHELL_CACHE)).addAll(BUILD.shell);
      // The data cache outlives builds: fetch only what it does not hold yet.
      const data = await caches.open(DATA_CACHE);
      for (const file of BUILD.data) if (!(await data.match(file))) await data.add(file);
      await scope.skipWaiting();
    })(),
  );
});

scope.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys())
        if (name.startsWith('mnist-') && name !== SHELL_CACHE && name !== DATA_CACHE) await caches.delete(name);
      await scope.clients.claim();
    })(),
  );
});

scope.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== scope.location.origin) return;
  event.respondWith(respond(request, url, (work) => event.waitUntil(work)));
});

async function respond(request: Request, url: URL, waitUntil: (work: Promise<unknown>) => void): Promise<Response> {
  const navigation = request.mode === 'navigate';
  const cached = await caches.match(request, { ignoreSearch: navigation });
  if (cached) return isolated(cached);
  let response: Response;
  try {
    response = await fetch(request);
  } catch (err) {
    // Offline: any page of the app is the cached shell.
    const shell = navigation ? await caches.match(new URL('./', scope.location.href).href) : undefined;
    if (shell) return isolated(shell);
    throw err;
  }
  // The training data (about 10 MB) is kept once downloaded, while the page reads its copy.
  if (response.ok && isData(url)) {
    const copy = response.clone();
    waitUntil(caches.open(DATA_CACHE).then((cache) => cache.put(request, copy)));
  }
  return isolated(response);
}

/** The same response with the cross-origin-isolation headers. */
function isolated(response: Response): Response {
  if (response.type === 'opaque' || response.status === 0) return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION)) headers.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
