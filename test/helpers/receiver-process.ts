// A receiver in a process of its own, answering 200 `ok` to every request and recording each,
// as a real receiver runs apart from whoever ingests. For tests that load the machine: a test
// file's own process (its ingest loop, its polling) must not decide when webhooks are read.
//
//   node --import tsx test/helpers/receiver-process.ts   → prints {"port":N} on stdout
//   GET /__requests                                      → every request recorded so far
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { readRequest, type ReceivedRequest } from './received.ts';

const RECORDED = '/__requests';

function serve(): void {
  const requests: ReceivedRequest[] = [];
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === RECORDED) {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(requests));
      return;
    }
    readRequest(request, (received) => {
      requests.push(received);
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as AddressInfo).port })));
  process.on('SIGTERM', () => process.exit(0));
}

export class ReceiverProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<ReceiverProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /\{"port":(\d+)\}/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      child.once('exit', (code) => reject(new Error(`the receiver process exited (${code}) before listening`)));
    });
    return new ReceiverProcess(child, `http://127.0.0.1:${port}`);
  }

  /** Every request it has recorded, in order of arrival. */
  async requests(): Promise<ReceivedRequest[]> {
    return (await (await fetch(`${this.url}${RECORDED}`)).json()) as ReceivedRequest[];
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    await new Promise((resolve) => {
      this.child.once('exit', resolve);
      this.child.kill('SIGTERM');
    });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) serve();
