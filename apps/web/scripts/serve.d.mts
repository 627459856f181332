// Types of serve.mjs for the TypeScript tests that import it.
import type { Server } from 'node:http';
export function serve(
  dir: string,
  options?: { port?: number; host?: string; fallback?: boolean; prefix?: string; isolation?: boolean },
): Promise<{ server: Server; url: string }>;
