// Issue 17's loop with the real socketcluster-client, each iteration on a new socket:
// subscribe before login (refused), unsubscribe, log in, subscribe again and receive a
// publication; then a subscribe sent while the login is still in flight. Keys are new on every
// run: publishing a key that exists is skipped and publishes nothing, which would look like a
// stuck subscription. Prints one JSON line per stuck iteration (with the frames it saw) and a
// summary line.
// Usage: node sc-resubscribe.mjs PORT USER PASSWORD CHANNEL ITERATIONS
import socketClusterClient from 'socketcluster-client';

const [port, user, password, channelName, iterationsText] = process.argv.slice(2);
const iterations = Number(iterationsText);
const out = (o) => console.log(JSON.stringify(o));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Resolves true when `promise` settles within `ms`, false otherwise. */
const within = (promise, ms) => Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);

function open() {
  const socket = socketClusterClient.create({ hostname: '127.0.0.1', port: Number(port), path: '/socketcluster/', autoReconnect: false });
  const frames = [];
  (async () => {
    for await (const { message } of socket.listener('message')) frames.push(`<- ${String(message).slice(0, 160)}`);
  })();
  return { socket, frames };
}

async function subscribedAndReceiving(socket, tag) {
  const channel = socket.subscribe(channelName);
  if (!(await within(channel.listener('subscribe').once(), 3000))) return { ok: false, why: 'no subscribe ack', state: channel.state };
  const next = channel[Symbol.asyncIterator]().next();
  await socket.invokePublish(channelName, { id: tag });
  if (!(await within(next, 3000))) return { ok: false, why: 'no publication', state: channel.state };
  return { ok: true };
}

async function main() {
  let stuck = 0;
  for (let i = 0; i < iterations; i++) {
    const { socket, frames } = open();
    const early = socket.subscribe(channelName);
    // Every fourth iteration waits as the report did: the full 300 ms for a `subscribe` that
    // never comes (the refusal lands first); the others go on as soon as the refusal arrives.
    const settled = i % 4 === 1 ? early.listener('subscribe').once() : Promise.race([early.listener('subscribe').once(), early.listener('subscribeFail').once()]);
    await within(settled, 300);
    socket.unsubscribe(channelName);
    const authenticated = socket.listener('authenticate').once();
    await socket.invoke('login', { username: user, password });
    if (!socket.authToken) await within(authenticated, 3000);
    const r = await subscribedAndReceiving(socket, `${process.pid}-loop-${i}`);
    if (!r.ok) {
      stuck++;
      out({ step: 'stuck', i, ...r, authState: socket.authState, socketState: socket.state, frames });
    }
    socket.disconnect();
  }
  // A subscribe sent while the login is still in flight.
  const { socket, frames } = open();
  await socket.listener('connect').once();
  const login = socket.invoke('login', { username: user, password });
  const inflight = await subscribedAndReceiving(socket, `${process.pid}-inflight`);
  await login;
  socket.disconnect();
  out({ step: 'done', stuck, of: iterations, inflight, frames: inflight.ok ? [] : frames });
}

main().then(
  () => process.exit(0),
  (e) => {
    out({ step: 'failed', error: String(e && e.stack ? e.stack : e) });
    process.exit(1);
  },
);
