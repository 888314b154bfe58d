/**
 * A chat in the terminal on the same pipeline as the bot, so someone without a Discord token sees real
 * answers at once. Reads one question per line; `exit`, `quit` or Ctrl-D ends it. Works on a terminal and
 * with piped input (`printf 'question\nexit\n' | npm start`).
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Answer } from '../retrieval/answer.js';
import { describeError } from './cli.js';
import { renderAnswerText } from './render-text.js';

export interface TerminalChatOptions {
  input: Readable & { isTTY?: boolean };
  output: Writable;
  answer: (question: string) => Promise<Answer>;
  /** Bold matching words with ANSI escapes. */
  color?: boolean;
  /** Printed once before the first prompt on a terminal. */
  greeting?: string;
  /** Aborting stops after the answer in progress. */
  signal?: AbortSignal;
}

const EXIT_WORDS = /^(exit|quit|:q)$/i;

/** Runs the chat until the input ends, the user types `exit`, or `signal` aborts. Returns questions answered. */
export async function runTerminalChat(options: TerminalChatOptions): Promise<number> {
  const interactive = options.input.isTTY === true;
  const lines = createInterface({
    input: options.input,
    // Without a terminal there is nobody to prompt; questions are echoed with their answers instead.
    ...(interactive ? { output: options.output, terminal: true } : { terminal: false }),
    prompt: 'ask> ',
  });
  // Created before anything can close the interface: iterating a closed one never ends.
  const questions = lines[Symbol.asyncIterator]();
  const stop = () => lines.close();
  // Ctrl-C on a terminal reaches readline, not the process.
  lines.on('SIGINT', stop);
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();

  let answered = 0;
  try {
    if (interactive) {
      if (options.greeting) options.output.write(`${options.greeting}\n`);
      lines.prompt();
    }
    for await (const line of { [Symbol.asyncIterator]: () => questions }) {
      const question = line.trim();
      if (EXIT_WORDS.test(question)) break;
      if (question !== '') {
        if (!interactive) options.output.write(`> ${question}\n`);
        try {
          const answer = await options.answer(question);
          options.output.write(`${renderAnswerText(answer, options.color ?? false)}\n\n`);
          answered += 1;
        } catch (error) {
          options.output.write(`error: ${describeError(error, { stack: false })}\n\n`);
        }
      }
      if (options.signal?.aborted) break;
      if (interactive) lines.prompt();
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
    lines.close();
  }
  return answered;
}
