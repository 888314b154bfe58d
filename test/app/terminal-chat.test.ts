/** The terminal chat `npm start` opens without a token: piped questions, exit words, errors. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Answer } from '../../src/retrieval/answer.js';
import { runTerminalChat } from '../../src/app/terminal-chat.js';

const fixedAnswer = (question: string): Answer => ({
  question,
  mode: 'lexical',
  answered: true,
  results: [
    {
      rank: 1,
      score: 1,
      confidence: 'high',
      article: { file: 'a.txt', title: 'Headline', outlet: 'Newsweek', byline: null, date: null, age: null, url: null },
      paragraph: 2,
      passageId: 'a.txt#2',
      passage: 'There are 2,000 troops.',
      quote: 'There are 2,000 troops.',
      link: null,
      highlights: [],
      corroboratedBy: [],
    },
  ],
});

async function chat(input: string, answer = async (question: string) => fixedAnswer(question), signal?: AbortSignal) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let output = '';
  stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const asked: string[] = [];
  const running = runTerminalChat({ input: stdin, output: stdout, signal, answer: (question) => (asked.push(question), answer(question)) });
  stdin.end(input);
  const answered = await running;
  return { answered, asked, output };
}

describe('runTerminalChat', () => {
  it('answers piped questions, skips blank lines and stops at exit', async () => {
    const { answered, asked, output } = await chat('how many troops?\n\n   \nwho said it?\nexit\nnever asked\n');
    expect(asked).toEqual(['how many troops?', 'who said it?']);
    expect(answered).toBe(2);
    expect(output).toContain('> how many troops?\nAnswer (lexical retrieval):');
    expect(output).toContain('1. “There are 2,000 troops.”');
    expect(output).toContain('— Headline · Newsweek · undated · ¶2 · a.txt');
    expect(output).not.toContain('never asked');
  });

  it('ends at end of input (Ctrl-D) without an exit word', async () => {
    const { answered } = await chat('one question');
    expect(answered).toBe(1);
  });

  it('prints an error for a failed answer and goes on', async () => {
    let calls = 0;
    const flaky = async (question: string) => {
      calls += 1;
      if (calls === 1) throw new Error('index unavailable');
      return fixedAnswer(question);
    };
    const { answered, output } = await chat('first\nsecond\nquit\n', flaky);
    expect(output).toContain('error: index unavailable');
    expect(answered).toBe(1);
  });

  it('stops when its signal aborts', async () => {
    const stop = new AbortController();
    stop.abort();
    const { answered } = await chat('a\nb\n', undefined, stop.signal);
    expect(answered).toBe(0);
  });
});
