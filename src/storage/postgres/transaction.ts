/** One connection, one transaction: committed when the work resolves, rolled back when it throws. */
import type pg from 'pg';

export interface TransactionOptions {
  /** `repeatable read` gives a read one snapshot of the whole index; writes use the default. */
  isolation?: 'read committed' | 'repeatable read';
  readOnly?: boolean;
  /** Statements without parameters to run at the start, sent with BEGIN in one round trip (`SET LOCAL …`). */
  atStart?: readonly string[];
}

export async function withTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const begin = `BEGIN ISOLATION LEVEL ${(options.isolation ?? 'read committed').toUpperCase()}${options.readOnly ? ' READ ONLY' : ''}`;
    await client.query([begin, ...(options.atStart ?? [])].join('; '));
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollback: Error) => {
      broken = rollback;
    });
    throw error;
  } finally {
    // A connection that could not roll back is in an unknown state: closed rather than reused.
    client.release(broken);
  }
}
