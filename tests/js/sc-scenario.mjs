// Drives the real socketcluster-client against a switchyard-node and prints one JSON line per
// observation; the Rust test (tests/tests/socketcluster_client.rs) reads them and makes writes.
// Usage: node sc-scenario.mjs PORT USER PASSWORD CHANNEL EXPECTED_PUBLICATIONS
import socketClusterClient from 'socketcluster-client';

const [port, user, password, channelName, expectedText] = process.argv.slice(2);
const expected = Number(expectedText);
const out = (o) => console.log(JSON.stringify(o));
const within = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms))]);
const errorOf = async (promise) => {
  try {
    await promise;
    return null;
  } catch (e) {
    return { name: e.name, message: e.message };
  }
};

const socket = socketClusterClient.create({
  hostname: '127.0.0.1',
  port: Number(port),
  path: '/socketcluster/',
  autoReconnect: false,
  ackTimeout: 5000,
});

async function main() {
  const connected = await within(socket.listener('connect').once(), 5000, 'connect');
  out({ step: 'connected', isAuthenticated: connected.isAuthenticated, pingTimeout: connected.pingTimeout });

  out({ step: 'refused-subscribe', error: await errorOf(socket.invoke('#subscribe', { channel: channelName })) });
  out({ step: 'refused-publish', error: await errorOf(socket.invokePublish(channelName, { id: 'early' })) });
  out({ step: 'bad-login', error: await errorOf(socket.invoke('login', { username: user, password: 'wrong' })) });

  const authenticated = socket.listener('authenticate').once();
  const login = await within(socket.invoke('login', { username: user, password }), 5000, 'login');
  await within(authenticated, 5000, 'authenticate event');
  out({ step: 'logged-in', login, authToken: socket.authToken });

  const channel = socket.subscribe(channelName);
  await within(channel.listener('subscribe').once(), 5000, 'subscribe');
  out({ step: 'subscribed' });

  const iterator = channel[Symbol.asyncIterator]();
  for (let i = 0; i < expected; i++) {
    const { value } = await within(iterator.next(), 10000, `publication ${i + 1} of ${expected}`);
    out({ step: 'publication', data: value });
  }

  const ack = await within(socket.invokePublish(channelName, { id: 'from-sc', name: 'published by socketcluster-client' }), 5000, 'publish ack');
  out({ step: 'published', ack });
  const { value } = await within(iterator.next(), 10000, 'own publication');
  out({ step: 'publication', data: value });

  socket.disconnect();
  out({ step: 'done' });
}

main().then(
  () => process.exit(0),
  (e) => {
    out({ step: 'failed', error: String(e && e.stack ? e.stack : e) });
    process.exit(1);
  },
);
