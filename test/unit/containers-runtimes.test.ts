/**
 * Runtime clients against fake unix-socket servers: a Docker-compatible API
 * that answers, one that accepts and never answers, one that answers
 * garbage, and a socket nobody listens on. The enricher must pay at most a
 * timeout for each and count it; capture never waits on a runtime.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerClient, RuntimeError, connectRuntimes } from '../../host/enrich/containers/index.ts';

const ID = '4d4b2e3765658ebeda79cf71314feb945e6196ca9cfe7b3ef12909bb49250f67';

function listen(server: Server | HttpServer, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
}

describe('Docker-compatible client', () => {
  let dir: string;
  const servers: Array<Server | HttpServer> = [];
  const sockets: Socket[] = [];
  let good: string, hung: string, garbage: string, dead: string, notSocket: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trc-rt-'));
    good = join(dir, 'good.sock');
    hung = join(dir, 'hung.sock');
    garbage = join(dir, 'garbage.sock');
    dead = join(dir, 'dead.sock');
    notSocket = join(dir, 'file.sock');
    writeFileSync(notSocket, '');
    // Responses as podman 4.3 gives them (docs: shared/notes/container-runtimes.md §5).
    const api = createHttpServer((req, res) => {
      const json = (code: number, body: unknown) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(body)); };
      if (req.url === `/containers/${ID}/json`) {
        json(200, {
          Id: ID, Name: '/k8s_app_mypod_default_uid123_0', Image: 'sha256:3796a3d3438b',
          Config: { Image: 'localhost/busybox:test', Labels: { 'io.kubernetes.pod.name': 'mypod', 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': 'uid-1', 'io.kubernetes.docker.type': 'sandbox' } },
        });
      } else if (req.url === '/images/sha256%3A3796a3d3438b/json') {
        json(200, { Id: 'sha256:3796a3d3438b', RepoTags: ['localhost/busybox:test'], RepoDigests: ['localhost/busybox@sha256:01e37193d63e'] });
      } else if (req.url === '/containers/broken/json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"Id": ');
      } else {
        json(404, { message: 'no such container' });
      }
    });
    servers.push(api);
    await listen(api, good);
    const silent = createNetServer((s) => { sockets.push(s); }); // accepts, reads, never answers
    servers.push(silent);
    await listen(silent, hung);
    const noise = createNetServer((s) => { sockets.push(s); s.on('data', () => s.write('\x00\x01garbage that is not HTTP\r\n\r\n')); });
    servers.push(noise);
    await listen(noise, garbage);
    const gone = createNetServer();
    await listen(gone, dead);
    await new Promise<void>((r) => gone.close(() => r())); // the socket file stays, nobody listens
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads name, image, digest, pod labels and the sandbox marker as Tracee does', async () => {
    const c = new DockerClient('podman', good);
    assert.deepEqual(await c.inspect(ID), {
      id: ID, name: 'k8s_app_mypod_default_uid123_0', image: 'localhost/busybox:test', imageDigest: 'localhost/busybox@sha256:01e37193d63e',
      podName: 'mypod', podNamespace: 'default', podUID: 'uid-1', podSandbox: true,
    });
    assert.equal(await c.inspect('f'.repeat(64)), null, 'an id the runtime does not know');
    await c.close();
  });

  async function failure(socket: string, id = ID, timeoutMs = 150): Promise<{ err: RuntimeError; ms: number }> {
    const c = new DockerClient('docker', socket, { timeoutMs });
    const t0 = performance.now();
    try {
      await c.inspect(id);
    } catch (err) {
      assert.ok(err instanceof RuntimeError, String(err));
      return { err, ms: performance.now() - t0 };
    } finally {
      await c.close();
    }
    assert.fail('expected a RuntimeError');
  }

  it('costs one timeout on a socket that accepts and never answers', async () => {
    const { err, ms } = await failure(hung);
    assert.equal(err.failure, 'timeout');
    assert.equal(err.code, 'TRC_ERR_RUNTIME');
    assert.ok(ms >= 140 && ms < 1000, `gave up after ${ms.toFixed(0)} ms`);
  });

  it('reports garbage as a bad response', async () => {
    assert.equal((await failure(garbage)).err.failure, 'bad-response');
    assert.equal((await failure(good, 'broken')).err.failure, 'bad-response');
  });

  it('reports a socket nobody listens on as unavailable', async () => {
    const { err, ms } = await failure(dead);
    assert.equal(err.failure, 'unavailable');
    assert.ok(ms < 100, `refused at once (${ms.toFixed(0)} ms)`);
    assert.match(err.message, /dead\.sock/);
  });

  it('skips a missing socket, or a path that is not a socket, with one line each', async () => {
    const lines: string[] = [];
    const clients = connectRuntimes([
      { runtime: 'docker', socket: join(dir, 'missing.sock') },
      { runtime: 'crio', socket: notSocket },
      { runtime: 'podman', socket: good },
    ], (l) => lines.push(l));
    assert.deepEqual(clients.map((c) => c.runtime), ['podman']);
    assert.equal(lines.length, 2);
    assert.match(lines[0], /docker: no socket at .*missing\.sock, skipped/);
    assert.match(lines[1], /crio: .*file\.sock is not a unix socket, skipped/);
    await Promise.all(clients.map((c) => c.close()));
  });
});
