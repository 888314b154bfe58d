/**
 * The limits Discord documents and enforces but its OpenAPI description leaves out or states loosely
 * (see `../shared/discord-api-spec/README.md`): message content ≤ 2,000 characters (the description
 * allows 4,000 on create), all embed text of one message ≤ 6,000, ≤ 5 action rows of ≤ 5 buttons, string
 * choice values ≤ 100, slash command and option names matching Discord's pattern in lower case,
 * descriptions of 1–100 characters.
 *
 * Lengths are UTF-16 code units (`String.length`), never fewer than the characters Discord counts, so
 * this check is never looser than Discord.
 */

/** One thing wrong with a request. */
export interface SpecProblem {
  /**
   * JSON pointer into the body (`/data/choices`), `''` for the body itself; `{channel_id}` for a path
   * parameter; `path` or `method` for a route or method Discord does not have.
   */
  at: string;
  /** Discord-style error code, e.g. `BASE_TYPE_MAX_LENGTH`. */
  code: string;
  message: string;
}

export function problem(at: string, code: string, message: string): SpecProblem {
  return { at, code, message };
}

export const LIMITS = {
  content: 2000,
  embedTotal: 6000,
  actionRows: 5,
  buttonsPerRow: 5,
  choiceValue: 100,
  commandName: /^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u,
  description: { min: 1, max: 100 },
} as const;

const MESSAGE_OPERATIONS = new Set([
  'create_message',
  'update_message',
  'execute_webhook',
  'update_webhook_message',
  'update_original_webhook_message',
]);
const BULK_COMMAND_OPERATIONS = new Set(['bulk_set_application_commands', 'bulk_set_guild_application_commands']);
const COMMAND_OPERATIONS = new Set(['create_application_command', 'create_guild_application_command']);
const COMMAND_EDIT_OPERATIONS = new Set(['update_application_command', 'update_guild_application_command']);

// Interaction callback types whose `data` is a message, and the autocomplete result.
const CHANNEL_MESSAGE_WITH_SOURCE = 4;
const UPDATE_MESSAGE = 7;
const AUTOCOMPLETE_RESULT = 8;
const IS_COMPONENTS_V2 = 1 << 15;
const ACTION_ROW = 1;
const CHAT_INPUT = 1;
const SUB_COMMAND = 1;
const SUB_COMMAND_GROUP = 2;

/** The hand-checked limits for the body of one operation (by the description's `operationId`). */
export function limitProblems(operationId: string, body: unknown): SpecProblem[] {
  if (MESSAGE_OPERATIONS.has(operationId)) return messageProblems(body, '');
  if (operationId === 'create_interaction_response' && isRecord(body)) {
    if (body.type === CHANNEL_MESSAGE_WITH_SOURCE || body.type === UPDATE_MESSAGE) return messageProblems(body.data, '/data');
    if (body.type === AUTOCOMPLETE_RESULT && isRecord(body.data)) return choiceProblems(body.data.choices, '/data/choices');
    return [];
  }
  if (BULK_COMMAND_OPERATIONS.has(operationId)) return list(body).flatMap((command, index) => commandProblems(command, `/${index}`, false));
  if (COMMAND_OPERATIONS.has(operationId)) return commandProblems(body, '', false);
  if (COMMAND_EDIT_OPERATIONS.has(operationId)) return commandProblems(body, '', true);
  return [];
}

/** Content, the embed total and the action rows of a message body (create, edit, or callback data). */
export function messageProblems(message: unknown, at: string): SpecProblem[] {
  if (!isRecord(message)) return [];
  const problems: SpecProblem[] = [];
  if (typeof message.content === 'string' && message.content.length > LIMITS.content) {
    problems.push(
      problem(`${at}/content`, 'BASE_TYPE_MAX_LENGTH', `must be ${LIMITS.content} or fewer in length (it is ${message.content.length})`),
    );
  }
  const total = embedTextLength(message.embeds);
  if (total > LIMITS.embedTotal) {
    problems.push(
      problem(
        `${at}/embeds`,
        'MAX_EMBED_SIZE_EXCEEDED',
        `embed text totals ${total} characters; Discord allows ${LIMITS.embedTotal} per message`,
      ),
    );
  }
  const flags = typeof message.flags === 'number' ? message.flags : 0;
  const components = list(message.components);
  // Components v2 messages lay out up to 40 components freely; the 5 × 5 grid is the classic layout's.
  if ((flags & IS_COMPONENTS_V2) === 0) {
    if (components.length > LIMITS.actionRows) {
      problems.push(
        problem(
          `${at}/components`,
          'BASE_TYPE_MAX_LENGTH',
          `must be ${LIMITS.actionRows} or fewer action rows (it has ${components.length})`,
        ),
      );
    }
    components.forEach((row, index) => {
      if (!isRecord(row) || row.type !== ACTION_ROW) return;
      const buttons = list(row.components).length;
      if (buttons > LIMITS.buttonsPerRow) {
        problems.push(
          problem(
            `${at}/components/${index}/components`,
            'BASE_TYPE_MAX_LENGTH',
            `must be ${LIMITS.buttonsPerRow} or fewer in a row (it has ${buttons})`,
          ),
        );
      }
    });
  }
  return problems;
}

/** Title, description, field names and values, footer text and author name of every embed, summed. */
export function embedTextLength(embeds: unknown): number {
  return list(embeds).reduce<number>((sum, embed) => {
    if (!isRecord(embed)) return sum;
    const fields = list(embed.fields).reduce<number>(
      (fieldSum, field) => fieldSum + (isRecord(field) ? text(field.name) + text(field.value) : 0),
      0,
    );
    return (
      sum + text(embed.title) + text(embed.description) + text(asRecord(embed.footer).text) + text(asRecord(embed.author).name) + fields
    );
  }, 0);
}

function choiceProblems(choices: unknown, at: string): SpecProblem[] {
  return list(choices).flatMap((choice, index) =>
    isRecord(choice) && typeof choice.value === 'string' && choice.value.length > LIMITS.choiceValue
      ? [
          problem(
            `${at}/${index}/value`,
            'BASE_TYPE_MAX_LENGTH',
            `must be ${LIMITS.choiceValue} or fewer in length (it is ${choice.value.length})`,
          ),
        ]
      : [],
  );
}

/**
 * Name and description rules of a slash command and its options. Context-menu commands (types 2 and
 * 3) may have spaces and capitals and have no description, so only chat-input commands are checked.
 * An edit (PATCH) names its type rarely; its name and description are checked only when it does.
 */
function commandProblems(command: unknown, at: string, partial: boolean): SpecProblem[] {
  if (!isRecord(command)) return [];
  const type = command.type ?? (partial ? undefined : CHAT_INPUT);
  if (type !== CHAT_INPUT) return partial ? optionsProblems(command.options, `${at}/options`) : [];
  return [
    ...nameProblems(command.name, `${at}/name`, partial),
    ...descriptionProblems(command.description, `${at}/description`, partial),
    ...optionsProblems(command.options, `${at}/options`),
  ];
}

function optionsProblems(options: unknown, at: string): SpecProblem[] {
  return list(options).flatMap((option, index) => {
    if (!isRecord(option)) return [];
    const here = `${at}/${index}`;
    const nested =
      option.type === SUB_COMMAND || option.type === SUB_COMMAND_GROUP ? optionsProblems(option.options, `${here}/options`) : [];
    return [
      ...nameProblems(option.name, `${here}/name`, false),
      ...descriptionProblems(option.description, `${here}/description`, false),
      ...choiceProblems(option.choices, `${here}/choices`),
      ...nested,
    ];
  });
}

function nameProblems(name: unknown, at: string, optional: boolean): SpecProblem[] {
  if (name === undefined && optional) return [];
  if (typeof name !== 'string' || !LIMITS.commandName.test(name)) {
    return [problem(at, 'APPLICATION_COMMAND_INVALID_NAME', `${JSON.stringify(name)} does not match ${String(LIMITS.commandName)}`)];
  }
  if (name !== name.toLowerCase()) return [problem(at, 'APPLICATION_COMMAND_INVALID_NAME', `${JSON.stringify(name)} must be lower case`)];
  return [];
}

function descriptionProblems(description: unknown, at: string, optional: boolean): SpecProblem[] {
  if (description === undefined && optional) return [];
  const { min, max } = LIMITS.description;
  if (typeof description === 'string' && description.length >= min && description.length <= max) return [];
  const actual = typeof description === 'string' ? `it is ${description.length}` : `it is ${JSON.stringify(description ?? null)}`;
  return [problem(at, 'BASE_TYPE_BAD_LENGTH', `must be between ${min} and ${max} in length (${actual})`)];
}

function text(value: unknown): number {
  return typeof value === 'string' ? value.length : 0;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}
