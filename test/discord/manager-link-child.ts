/**
 * A stand-in shard process for manager-link.test.ts: it opens the link to its parent, and prints what the
 * link gives it as JSON lines on stdout. Arguments: the /add timeout in ms, and what to do:
 * `add` (ask for the links the parent sends), `add-when-gone` (ask once the parent has disconnected),
 * `late-listener` (listen to index updates only after a while), `connect-when-gone` (open the link only
 * after the parent has disconnected), `late-disconnect-listener` (listen for the disconnect only after it).
 */
import { connectToManager, type ManagerLink } from '../../src/discord/manager-link.js';

const [timeout = '1000', mode = 'add'] = process.argv.slice(2);
const connect = () => connectToManager({ addTimeoutMs: Number(timeout) });
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
/** Runs `then` a little after the parent has disconnected (the channel's 'disconnect' has fired). */
const afterDisconnect = (then: () => void) => process.once('disconnect', () => setTimeout(then, 50));

if (mode === 'connect-when-gone') {
  afterDisconnect(() => {
    try {
      connect();
      print({ connected: true });
    } catch (error) {
      print({ error: (error as Error).message });
    }
  });
} else {
  const link: ManagerLink = connect();
  if (mode === 'add') {
    process.on('message', (message: { test?: string; links?: string[] }) => {
      if (message.test === 'add') void link.addLinks(message.links ?? []).then((outcomes) => print({ outcomes }));
    });
  } else if (mode === 'add-when-gone') {
    link.onDisconnect(() => void link.addLinks(['https://example.org/a']).then((outcomes) => print({ outcomes })));
  } else if (mode === 'late-listener') {
    setTimeout(() => link.onIndexUpdated((version) => print({ version })), 300);
  } else if (mode === 'late-disconnect-listener') {
    afterDisconnect(() => link.onDisconnect(() => print({ disconnected: true })));
  }
}
print({ started: true });
